"""Every Albu transform shipped in configs/ builds and runs without a
warning: albumentations 2.x only warns on unknown or renamed arguments."""
import copy
import warnings
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes

ROOT = Path(__file__).resolve().parents[2]


def _find_albu(node, where, found):
    if isinstance(node, dict):
        if node.get('type') in ('Albu', 'mmdet.Albu'):
            found.append((where, node))
        for key, value in node.items():
            _find_albu(value, f'{where}.{key}', found)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            _find_albu(value, f'{where}[{index}]', found)


def _albu_transforms():
    found = []
    for path in sorted((ROOT / 'configs').rglob('*.py')):
        cfg = Config.fromfile(str(path))
        _find_albu(cfg.to_dict(), str(path.relative_to(ROOT)), found)
    return found


ALBU = _albu_transforms()


def test_night_albu_configs_are_found():
    where = [w for w, _ in ALBU]
    assert any('night_sample_albu.py' in w for w in where), where
    assert any('exdark_official_albu.py' in w for w in where), where


def _always(cfg):
    """The same Albu with every inner transform applied (p=1)."""
    cfg = copy.deepcopy(cfg)
    for transform in cfg['transforms']:
        transform['p'] = 1.0
    return cfg


@pytest.mark.parametrize('where,cfg', ALBU, ids=[w for w, _ in ALBU])
def test_albu_builds_and_runs_without_warnings(where, cfg):
    rng = np.random.default_rng(0)
    boxes = np.array([[5, 5, 30, 40], [40, 10, 79, 59]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        for variant in (cfg, _always(cfg)):
            transform = TRANSFORMS.build(variant)
            for _ in range(3):
                img = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
                results = dict(
                    img=img.copy(),
                    img_shape=(60, 80),
                    ori_shape=(60, 80),
                    gt_bboxes=HorizontalBoxes(boxes.copy()),
                    gt_bboxes_labels=np.array([0, 3]),
                    gt_ignore_flags=np.array([False, False]))
                out = transform(results)
                assert out is not None, where
                assert out['img'].shape == (60, 80, 3)
                assert out['img'].dtype == np.uint8
                # photometric only: the boxes are unchanged
                np.testing.assert_allclose(out['gt_bboxes'].numpy(), boxes)
            if variant is not cfg:
                assert not np.array_equal(out['img'], img), where
