"""lowlight.models: T2's enhancers, guided backbone, neck and detector."""
from . import backbones, detectors, enhancers, necks  # noqa: F401
from .backbones import IlluminationGuidedBackbone
from .detectors import LowLightDetector
from .enhancers import (BaseDecomposer, Decomposition, RetinexDecomposer,
                        ZeroDCEDecomposer)
from .necks import GlobalAggregationNeck, SemanticAggregationNeck

__all__ = [
    'BaseDecomposer', 'Decomposition', 'GlobalAggregationNeck',
    'IlluminationGuidedBackbone', 'LowLightDetector', 'RetinexDecomposer',
    'SemanticAggregationNeck', 'ZeroDCEDecomposer'
]
