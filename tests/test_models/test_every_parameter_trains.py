"""Every shipped config's model gives every trainable parameter a gradient.

``DistributedDataParallel`` (``tools/dist_train.sh``) stops at the second
iteration when a parameter took no part in the loss, unless
``find_unused_parameters`` is on (slower: a graph traversal every step).
No shipped config switches it on, so one loss step must reach every
parameter that requires a gradient.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path)


def small_batch(num_images=2, height=64, width=96):
    """Dark uint8 images with two boxes each, label 0 (valid everywhere)."""
    inputs, samples = [], []
    for index in range(num_images):
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(height, width),
                ori_shape=(height, width),
                scale_factor=(1., 1.),
                pad_shape=(height, width),
                batch_input_shape=(height, width)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 8., 40., 50.], [50., 10., 90., 60.]]),
            labels=torch.tensor([0, 0]))
        samples.append(sample)
        inputs.append(
            torch.randint(0, 60, (3, height, width), dtype=torch.uint8))
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_one_loss_step_reaches_every_trainable_parameter(path):
    cfg = Config.fromfile(path)
    assert not cfg.get('find_unused_parameters', False), path
    init_default_scope('mmdet')
    MessageHub.get_current_instance().update_info('epoch', 0)  # for TOOD
    # the distillation adds no parameters and reads a corpus on disk; its
    # gradient is tested in test_distillation/
    cfg.model.pop('distillation', None)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    batch = model.data_preprocessor(small_batch(), True)
    losses = model(**batch, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    missing = [
        name for name, param in model.named_parameters()
        if param.requires_grad and param.grad is None
    ]
    assert not missing, f'no gradient for {missing}'
