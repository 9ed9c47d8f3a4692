"""The T2 feature path (enhancer, guided backbone, aggregation neck) traces."""
from pathlib import Path

import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import lowlight  # noqa: F401

CONFIG = (
    Path(__file__).parents[2] / 'configs' / '_base_' / 'models' /
    't2_yolov3_mobilenetv2.py')


class FeaturePath(torch.nn.Module):
    """Enhancer -> guided backbone -> neck list of the light T2 config,
    without the head's post-processing."""

    def __init__(self):
        super().__init__()
        init_default_scope('mmdet')
        model = MODELS.build(Config.fromfile(str(CONFIG)).model)
        self.enhancer = model.enhancer
        self.backbone = model.detector.backbone
        self.neck = model.detector.neck
        for head in self.backbone.heads:  # non-trivial guidance
            torch.nn.init.normal_(head.weight, std=0.1)

    def forward(self, img):
        reflectance, illumination = self.enhancer(img)
        return self.neck(self.backbone(reflectance, illumination))


def test_jit_trace_matches_eager():
    torch.manual_seed(0)
    model = FeaturePath().eval()
    img = torch.rand(1, 3, 64, 96) * 0.3
    with torch.no_grad():
        traced = torch.jit.trace(model, img)
        for a, b in zip(traced(img), model(img)):
            torch.testing.assert_close(a, b)
        other = torch.rand(1, 3, 64, 96) * 0.3
        for a, b in zip(traced(other), model(other)):
            torch.testing.assert_close(a, b)
