"""Every config in configs/ loads, names itself right and builds its model."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path)
# {algorithm}_{components}_{NxbM-schedule}_{dataset}.py
NAME = re.compile(r'^[a-z0-9-]+(_[a-z0-9.-]+)*_\d+xb\d+(-[a-z0-9.]+)*_'
                  r'[a-z0-9-]+\.py$')


def config_id(path):
    return osp.relpath(path, osp.join(REPO, 'configs'))


def test_configs_exist():
    names = {config_id(path) for path in CONFIGS}
    assert 't2/t2_yolov3_mobilenetv2_1xb16-256-8e_night-sample.py' in names
    assert 't2/t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py' in names
    for detector in ('yolov3_d53', 'tood_r50', 'faster-rcnn_r50-dcnv2',
                     'retinanet_r50-dcnv2'):
        for dataset in ('exdark', 'darkface'):
            t2 = [n for n in names if n.startswith(f't2/t2_{detector}')
                  and n.endswith(f'_{dataset}.py')]
            plain = [n for n in names if n.startswith(f'baselines/{detector}')
                     and n.endswith(f'_{dataset}.py')]
            pre = [n for n in names
                   if n.startswith(f'baselines/retinex-pre_{detector}')
                   and n.endswith(f'_{dataset}.py')]
            assert len(t2) == len(plain) == len(pre) == 1, (detector, dataset)


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds(path):
    assert NAME.match(osp.basename(path)), osp.basename(path)
    cfg = Config.fromfile(path)
    assert 'lowlight' in cfg.custom_imports['imports']
    assert cfg.default_scope == 'mmdet'
    assert cfg.runner_type == 'mmdet.LowLightRunner'
    # random weights, or a checkpoint shipped in the repository (offline)
    assert cfg.load_from is None or osp.isfile(
        osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
            __file__)))), cfg.load_from)), cfg.load_from
    text = cfg.pretty_text
    for scheme in ('torchvision://', 'open-mmlab://', 'http://', 'https://'):
        assert scheme not in text, f'{scheme} in {path}: configs work offline'
    init_default_scope('mmdet')
    for split in ('train', 'val', 'test'):
        Compose(cfg[f'{split}_dataloader'].dataset.pipeline)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
    expected = 1 if 'darkface' in path else 12
    detector = model.detector if hasattr(model, 'detector') else model
    head = getattr(detector, 'bbox_head', None) or detector.roi_head.bbox_head
    assert head.num_classes == expected


def test_sample_config_trains_and_predicts_a_step():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 't2',
                 't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py'))
    assert cfg.train_dataloader.batch_size == 8
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    model.init_weights()
    sample = DetDataSample(
        metainfo=dict(img_shape=(64, 96), ori_shape=(64, 96),
                      scale_factor=(1., 1.), pad_shape=(64, 96),
                      batch_input_shape=(64, 96)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 50.]]), labels=torch.tensor([4]))
    data = dict(inputs=[torch.randint(0, 60, (3, 64, 96), dtype=torch.uint8)],
                data_samples=[sample])
    batch = model.data_preprocessor(data, True)
    losses = model(**batch, mode='loss')
    assert all(torch.isfinite(v).all() for v in losses.values()
               if isinstance(v, torch.Tensor))
    model.eval()
    with torch.no_grad():
        result = model(**model.data_preprocessor(data, False), mode='predict')
    assert result[0].pred_instances.bboxes.shape[-1] == 4
