"""Detectors: the T2 wrapper around any mmdet detector."""
from .low_light_detector import LowLightDetector

__all__ = ['LowLightDetector']
