"""FiniteLossHook stops training at the first NaN/Inf loss term."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmdet.structures import DetDataSample

from lowlight.engine import FiniteLossHook, NonFiniteLossError
from tiny_detection import tiny_config_file


def fake_runner(iteration, epoch=0):
    return SimpleNamespace(iter=iteration, epoch=epoch)


def test_finite_losses_pass():
    FiniteLossHook().after_train_iter(
        fake_runner(0), 0, outputs=dict(loss=torch.tensor(1.), acc=math.nan))


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_names_iteration_term_and_images(bad):
    sample = DetDataSample(metainfo=dict(img_path='data/x/0001.jpg'))
    outputs = dict(
        loss=torch.tensor(bad),
        loss_cls=torch.tensor(0.5),
        loss_bbox=torch.tensor(bad))
    with pytest.raises(NonFiniteLossError) as error:
        FiniteLossHook().after_train_iter(
            fake_runner(6, epoch=2),
            3,
            data_batch=dict(data_samples=[sample]),
            outputs=outputs)
    message = str(error.value)
    assert 'iteration 7 (epoch 3, batch 4)' in message
    assert 'loss, loss_bbox is NaN or infinite' in message
    assert 'loss_cls=0.5' in message and 'data/x/0001.jpg' in message


def test_interval_skips_iterations():
    hook = FiniteLossHook(interval=2)
    hook.after_train_iter(fake_runner(0), 0, outputs=dict(loss=math.nan))
    with pytest.raises(NonFiniteLossError):
        hook.after_train_iter(fake_runner(1), 1, outputs=dict(loss=math.nan))


def test_training_with_nan_loss_stops_before_checkpoint(tiny_coco, tmp_path):
    """A model whose classification loss is NaN: the run stops at once."""
    config = tiny_config_file(tmp_path / 'tiny.py', tiny_coco,
                              str(tmp_path / 'work'))
    cfg = Config.fromfile(config)
    cfg.model.bbox_head.loss_cls = dict(
        type='CrossEntropyLoss',
        use_sigmoid=True,
        loss_weight=math.nan,
        reduction='sum')
    cfg.experiment_name = 'nan_run'
    runner = RUNNERS.build(cfg)
    with pytest.raises(NonFiniteLossError,
                       match=r'iteration 1 \(epoch 1, batch 1\): loss, '
                       'loss_cls is NaN'):
        runner.train()
    assert not list((tmp_path / 'work').glob('*.pth'))
