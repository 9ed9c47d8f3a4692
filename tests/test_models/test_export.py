"""The T2 feature path (enhancer, guided backbone, aggregation neck) traces."""
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401


class FeaturePath(torch.nn.Module):
    """Enhancer -> guided backbone -> neck list, without post-processing."""

    def __init__(self):
        super().__init__()
        self.enhancer = MODELS.build(dict(type='RetinexDecomposer'))
        self.backbone = MODELS.build(
            dict(
                type='IlluminationGuidedBackbone',
                mode='film',
                feat_channels=[32, 96, 320],
                backbone=dict(type='MobileNetV2', out_indices=(2, 4, 6))))
        self.neck = MODELS.build([
            dict(
                type='YOLOV3Neck',
                num_scales=3,
                in_channels=[320, 96, 32],
                out_channels=[96, 96, 96]),
            dict(
                type='SemanticAggregationNeck',
                in_channels=[96, 96, 96],
                context_channels=32)
        ])
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
