import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdet.registry import MODELS
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
vis_decomposition = load_tool('analysis_tools/vis_decomposition')

CONFIG = '''
_base_ = [{base!r}]
custom_imports = dict(imports=['lowlight'], allow_failed_imports=False)
default_scope = 'mmdet'
test_dataloader = dict(dataset=dict(
    type='ExDarkDataset', data_root='unused/', ann_file='unused.json',
    pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]))
'''
CLASSES = ('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair', 'Cup',
           'Dog', 'Motorbike', 'People', 'Table')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('vis')
    config = root / 'cfg.py'
    config.write_text(
        CONFIG.format(
            base=osp.join(REPO, 'configs', '_base_', 'models',
                          't2_yolov3_mobilenetv2.py')))
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    checkpoint = root / 'random.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                dataset_meta=dict(
                    classes=CLASSES, palette=[(220, 20, 60)] * 12))),
        checkpoint)
    images = root / 'images'
    images.mkdir()
    rng = np.random.default_rng(0)
    for name, shape in (('wide.jpg', (60, 120, 3)), ('tall.PNG', (100, 50,
                                                                  3))):
        cv2.imwrite(
            str(images / name), rng.integers(0, 60, shape, dtype=np.uint8))
    (images / 'notes.txt').write_text('not an image')
    return str(config), str(checkpoint), images


def test_one_panel_per_image(setup, tmp_path):
    config, checkpoint, images = setup
    out = tmp_path / 'out'
    rc = vis_decomposition.main([
        config, checkpoint,
        str(images / 'wide.jpg'),
        str(images), '--out-dir',
        str(out), '--score-thr', '0.0'
    ])
    assert rc == 0
    # wide.jpg given twice (file and folder): the second gets a suffix
    assert sorted(p.name for p in out.iterdir()) == [
        'tall.png', 'wide.png', 'wide_1.png'
    ]
    wide = cv2.imread(str(out / 'wide.png'))
    # resized to 64 px wide (keep ratio): 32 x 64 per tile
    assert wide.shape == (32 + 24, 4 * 64 + 52, 3)
    tall = cv2.imread(str(out / 'tall.png'))
    assert tall.shape == (64 + 24, 4 * 32 + 52, 3)


def test_bad_images_are_reported(setup, tmp_path, capsys):
    config, checkpoint, images = setup
    with pytest.raises(FileNotFoundError, match='missing.png'):
        vis_decomposition.main([
            config, checkpoint,
            str(images / 'missing.png'), '--out-dir',
            str(tmp_path)
        ])
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'\x89PNG not really')
    rc = vis_decomposition.main([
        config, checkpoint,
        str(broken),
        str(images / 'tall.PNG'), '--out-dir',
        str(tmp_path / 'out')
    ])
    assert rc == 1
    assert 'broken.png' in capsys.readouterr().err
    assert [p.name for p in (tmp_path / 'out').iterdir()] == ['tall.png']
