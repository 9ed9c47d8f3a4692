"""lowlight.datasets.darken_files: the inputs taken, and darkening that
depends on the seed and the relative path only."""
import json

import cv2
import numpy as np
import pytest

from lowlight.datasets.darken_files import (collect_inputs, darken_files,
                                            darken_image)

RANGES = dict(
    exposure_range=(0.1, 0.3),
    gamma_range=(2.0, 2.6),
    shot_noise_range=(1e-4, 1e-2),
    read_noise_range=(1e-3, 1e-2),
    color_cast_range=(0.8, 1.2))


def _image(path, value=180, channels=3):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((12, 16, channels), value, np.uint8))


def test_collect_inputs_walks_folders_and_keeps_relative_paths(tmp_path):
    _image(tmp_path / 'in' / 'b.png')
    _image(tmp_path / 'in' / 'sub' / 'a.JPG')
    (tmp_path / 'in' / 'notes.txt').write_text('not an image')
    (tmp_path / 'in' / 'clip.avi').write_bytes(b'')
    _image(tmp_path / 'single.png')
    found = collect_inputs(
        [str(tmp_path / 'in'),
         str(tmp_path / 'single.png')])
    assert [rel for _, rel in found
            ] == ['b.png', 'clip.avi', 'sub/a.JPG', 'single.png']
    assert found[2][0] == str(tmp_path / 'in' / 'sub' / 'a.JPG')
    with pytest.raises(FileNotFoundError, match='input not found'):
        collect_inputs([str(tmp_path / 'nope')])


def test_same_seed_and_path_give_the_same_image(tmp_path, capsys):
    _image(tmp_path / 'one' / 'x.png')
    _image(tmp_path / 'two' / 'x.png')
    _image(tmp_path / 'two' / 'y.png')
    outs = []
    for name, seed in (('one', 3), ('two', 3), ('two', 4)):
        out = tmp_path / f'out_{name}_{seed}'
        assert darken_files(
            collect_inputs([str(tmp_path / name)]), str(out), RANGES, 0.5,
            seed) == 0
        outs.append(out)
    first = cv2.imread(str(outs[0] / 'x.png'))
    assert first.mean() < 180 * 0.6
    assert np.array_equal(first, cv2.imread(str(outs[1] / 'x.png')))
    assert not np.array_equal(first, cv2.imread(str(outs[2] / 'x.png')))
    record = json.loads((outs[1] / 'darken_params.json').read_text())
    assert set(record) == {'x.png', 'y.png'}
    assert record['x.png'] == json.loads(
        (outs[0] / 'darken_params.json').read_text())['x.png']
    assert 'x.png: image, exposure' in capsys.readouterr().out


def test_darken_image_keeps_alpha_and_refuses_16_bit(tmp_path):
    src = tmp_path / 'rgba.png'
    _image(src, channels=4)
    params = dict(
        exposure=0.1,
        gamma=2.2,
        shot_noise=0.0,
        read_noise=0.0,
        color_cast=[1.0, 1.0, 1.0])
    rng = np.random.default_rng(0)
    darken_image(str(src), str(tmp_path / 'out.png'), params, rng)
    out = cv2.imread(str(tmp_path / 'out.png'), cv2.IMREAD_UNCHANGED)
    assert out.shape == (12, 16, 4)
    assert (out[..., 3] == 180).all() and out[..., :3].mean() < 100
    deep = tmp_path / 'deep.png'
    cv2.imwrite(str(deep), np.full((4, 4, 3), 4000, np.uint16))
    with pytest.raises(ValueError, match='only 8-bit'):
        darken_image(str(deep), str(tmp_path / 'deep_out.png'), params, rng)
