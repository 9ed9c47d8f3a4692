"""lowlight.models: T2's enhancers, guided backbone, neck and detector, and
the training-only distillation from a normal-light detector."""
from . import (backbones, detectors, distillation, enhancers,  # noqa: F401
               necks)
from .backbones import IlluminationGuidedBackbone
from .detectors import LowLightDetector
from .distillation import DayTeacherDistillation
from .enhancers import (BaseDecomposer, Decomposition, RetinexDecomposer,
                        ZeroDCEDecomposer)
from .necks import GlobalAggregationNeck, SemanticAggregationNeck

__all__ = [
    'BaseDecomposer', 'DayTeacherDistillation', 'Decomposition',
    'GlobalAggregationNeck', 'IlluminationGuidedBackbone', 'LowLightDetector',
    'RetinexDecomposer', 'SemanticAggregationNeck', 'ZeroDCEDecomposer'
]
