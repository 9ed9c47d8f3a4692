"""Backbones: illumination guidance around any mmdet backbone."""
from .illumination_guided_backbone import IlluminationGuidedBackbone

__all__ = ['IlluminationGuidedBackbone']
