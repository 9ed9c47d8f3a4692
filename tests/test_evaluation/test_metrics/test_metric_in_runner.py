"""The night sample config, ExDarkDataset and LightingAwareVOCMetric inside
an mmengine Runner: lighting fields reach the metric through the real
pipeline and the breakdown JSON lands in the work dir."""
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel

from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import generate_night_sample
from lowlight.engine import LowLightRunner

ROOT = Path(__file__).resolve().parents[3]


class EchoGroundTruth(BaseModel):
    """Predicts each image's ground truth (rescaled like a detector)."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='predict'):
        for sample in data_samples:
            pred = sample.gt_instances.clone()
            pred.bboxes = pred.bboxes.tensor
            pred.scores = torch.ones(len(pred))
            sample.pred_instances = pred
        return data_samples


def test_metric_in_runner_writes_breakdown(tmp_path):
    root = tmp_path / 'night_sample'
    generate_night_sample(str(root), num_train=1, num_val=1, num_test=6,
                          size=128)
    convert_exdark(str(root), str(root))
    cfg = Config.fromfile(
        str(ROOT / 'configs' / '_base_' / 'datasets' / 'night_sample.py'))
    loader = cfg.test_dataloader
    loader.dataset.data_root = str(root) + '/'
    loader.num_workers = 0
    loader.persistent_workers = False
    work_dir = tmp_path / 'work'
    # our runner hands its work dir to the metric (out_dir left at None)
    runner = LowLightRunner(
        model=EchoGroundTruth(),
        work_dir=str(work_dir),
        test_dataloader=loader,
        test_evaluator=cfg.test_evaluator,
        test_cfg=dict(type='TestLoop'),
        default_scope='mmdet')
    metrics = runner.test()
    assert metrics['voc/mAP'] == pytest.approx(1.0)
    data = json.loads((work_dir / 'lighting_eval_test.json').read_text())
    present = {k for k, v in data['lighting'].items() if not v['absent']}
    assert present and all(
        metrics[f'voc/AP50_light_{k}'] == pytest.approx(1.0)
        for k in present)
    # ExDark types the sample never renders are reported absent
    assert data['lighting']['Screen'] == dict(images=0, boxes=0,
                                              absent=True,
                                              reason='no images', id=7)
    assert sum(v['images'] for v in data['lighting'].values()) == 6
