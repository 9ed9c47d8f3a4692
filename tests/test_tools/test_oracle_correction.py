"""tools/analysis_tools/oracle_correction.py: the true illumination divided
out makes equal albedo equal under unequal light; the corrected copy of a
night sample keeps its boxes and reads as a dataset."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from lowlight.analysis.oracle_correction import GAMMA, oracle_correct
from tool_loader import load_tool

tool = load_tool('analysis_tools/oracle_correction')


def _encode(linear):
    return np.rint(np.clip(linear, 0, 1)**(1 / GAMMA) * 255).astype(np.uint8)


def test_equal_albedo_under_unequal_light_becomes_equal():
    albedo = np.full((8, 16, 3), 0.5, np.float32)
    light = np.ones((8, 16), np.float32)
    light[:, :8] = 0.1  # the left half in shadow
    image = _encode(albedo * light[..., None])
    assert image[:, :8].mean() < 0.5 * image[:, 8:].mean()
    full = oracle_correct(image, light, exponent=1.0, percentile=100)
    assert abs(int(full[:, :8].mean()) - int(full[:, 8:].mean())) <= 2
    none = oracle_correct(image, light, exponent=0.0, percentile=100)
    assert none[:, :8].mean() < 0.5 * none[:, 8:].mean()  # light kept
    with pytest.raises(ValueError, match='sizes differ'):
        oracle_correct(image, light[:4])


def test_corrected_sample_keeps_boxes(tiny_night_sample, tmp_path, capsys):
    out = str(tmp_path / 'oracle')
    panel = str(tmp_path / 'panel.png')
    assert tool.main(
        [tiny_night_sample, out, '--exponent', '0.5', '--panel', panel]) == 0
    assert 'wrote 8 corrected images' in capsys.readouterr().out
    # 2 val images of 96x72: night | corrected | day twin
    assert cv2.imread(panel).shape == (2 * 72, 3 * 96, 3)
    for split in ('train', 'val', 'test'):
        name = f'annotations/exdark_{split}.json'
        with open(osp.join(tiny_night_sample, name)) as f:
            source = json.load(f)
        with open(osp.join(out, name)) as f:
            copy = json.load(f)
        assert copy['annotations'] == source['annotations']
        for entry in copy['images']:
            assert entry['file_name'].endswith('.png')
            assert osp.isfile(osp.join(out, entry['file_name']))
    with open(osp.join(out, 'oracle.json')) as f:
        assert json.load(f)['exponent'] == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ['oracle',
                                                          'panel.png']

    with pytest.raises(SystemExit, match='cannot write .*panel.txt'):
        tool.main([tiny_night_sample, out, '--panel',
                   str(tmp_path / 'panel.txt')])
    with pytest.raises(SystemExit, match='exdark_train.json not found'):
        tool.main([str(tmp_path / 'nothing'), str(tmp_path / 'o2')])
    assert not (tmp_path / 'o2').exists()
