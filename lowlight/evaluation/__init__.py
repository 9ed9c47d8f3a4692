"""lowlight.evaluation."""
from .decomposition_score import SCORE_NAMES, decomposition_score
from .metrics import LightingAwareVOCMetric

__all__ = ['LightingAwareVOCMetric', 'SCORE_NAMES', 'decomposition_score']
