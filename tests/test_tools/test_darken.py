"""tools/misc/darken.py on image folders and videos made here."""
import json
from pathlib import Path

import cv2
import numpy as np
from lowlight.testing import read_frames
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]


def _load_tool():
    return load_tool('misc/darken')


TOOL = _load_tool()


def _inputs(root: Path) -> Path:
    rng = np.random.default_rng(0)
    (root / 'sub').mkdir(parents=True)
    cv2.imwrite(str(root / 'a.png'),
                rng.integers(100, 250, (24, 32, 3), dtype=np.uint8))
    cv2.imwrite(str(root / 'sub' / 'b.jpg'),
                rng.integers(100, 250, (16, 16, 3), dtype=np.uint8))
    writer = cv2.VideoWriter(str(root / 'clip.avi'),
                             cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (64, 48))
    for i in range(6):
        writer.write(np.full((48, 64, 3), 120 + 10 * i, np.uint8))
    writer.release()
    (root / 'broken.mp4').write_bytes(b'not a video at all' * 10)
    return root


def test_darkens_images_and_videos(tmp_path, capsys):
    src, out = _inputs(tmp_path / 'in'), tmp_path / 'out'
    args = [str(src), '--out-dir', str(out), '--exposure-range', '0.1',
            '0.1', '--color-cast-prob', '0', '--seed', '5']
    assert TOOL.main(args) == 1  # the broken video fails, the rest is done
    captured = capsys.readouterr()
    assert 'broken.mp4: FAILED' in captured.err
    for rel in ('a.png', 'sub/b.jpg'):
        before = cv2.imread(str(src / rel)).astype(float)
        after = cv2.imread(str(out / rel)).astype(float)
        assert after.shape == before.shape
        assert after.mean() < 0.6 * before.mean()
    frames_in, frames_out = read_frames(src / 'clip.avi'), read_frames(
        out / 'clip.avi')
    assert len(frames_out) == len(frames_in) == 6
    assert frames_out[0].shape == (48, 64, 3)
    assert np.mean(frames_out) < 0.6 * np.mean(frames_in)
    cap = cv2.VideoCapture(str(out / 'clip.avi'))
    assert cap.get(cv2.CAP_PROP_FPS) == 10.0
    cap.release()
    params = json.loads((out / 'darken_params.json').read_text())
    assert set(params) == {'a.png', 'sub/b.jpg', 'clip.avi'}
    assert params['a.png']['exposure'] == 0.1
    assert not (out / 'broken.mp4').exists()
    assert not list(out.rglob('.*'))  # no temporary file left over

    # existing outputs are kept; --overwrite redoes them identically
    first = (out / 'a.png').read_bytes()
    (out / 'a.png').write_bytes(b'x')
    TOOL.main(args)
    assert (out / 'a.png').read_bytes() == b'x'
    assert 'a.png: exists, kept' in capsys.readouterr().out
    TOOL.main(args + ['--overwrite'])
    assert (out / 'a.png').read_bytes() == first


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert TOOL.main([str(tmp_path / 'nope'), '--out-dir',
                      str(tmp_path / 'o')]) == 2
    assert 'input not found' in capsys.readouterr().err
