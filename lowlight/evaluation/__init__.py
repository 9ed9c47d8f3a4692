"""lowlight.evaluation."""
from .metrics import LightingAwareVOCMetric

__all__ = ['LightingAwareVOCMetric']
