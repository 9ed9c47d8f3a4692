import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdet.registry import MODELS
from mmdet.structures import DetDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
T2_MODEL = osp.join(REPO, 'configs', '_base_', 'models',
                    't2_yolov3_mobilenetv2.py')


@pytest.fixture(scope='module')
def t2_model():
    """The shipped light T2 model (random weights), eval mode, CPU."""
    init_default_scope('mmdet')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(T2_MODEL).model).eval()


def _make_item(height, width, name, seed=0, ori_scale=1.0):
    """One dataset item as mmdet's PackDetInputs gives it (BGR uint8)."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.randint(
        0, 256, (3, height, width), generator=gen, dtype=torch.uint8)
    ori = (round(height * ori_scale), round(width * ori_scale))
    sample = DetDataSample(
        metainfo=dict(
            img_id=seed,
            img_path=f'/data/{name}.png',
            ori_shape=ori,
            img_shape=(height, width),
            scale_factor=(1 / ori_scale, 1 / ori_scale)))
    return dict(inputs=image, data_samples=sample)


@pytest.fixture
def make_item():
    """Factory of dataset items: (height, width, name, seed, ori_scale)."""
    return _make_item
