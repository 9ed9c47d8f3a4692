"""lowlight.evaluation.metrics."""
from .lighting_aware_voc_metric import LightingAwareVOCMetric

__all__ = ['LightingAwareVOCMetric']
