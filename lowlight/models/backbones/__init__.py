"""Backbones: illumination guidance around any mmdet backbone, and a
MobileNetV2 that ends at its last returned stage."""
from .illumination_guided_backbone import IlluminationGuidedBackbone
from .truncated_mobilenet_v2 import TruncatedMobileNetV2

__all__ = ['IlluminationGuidedBackbone', 'TruncatedMobileNetV2']
