"""lowlight.datasets."""
from .darkface import DarkFaceDataset
from .exdark import (EXDARK_CLASSES, EXDARK_IN_OUT, EXDARK_LIGHTS,
                     EXDARK_META_KEYS, ExDarkDataset)
from .transforms import LowLightSynthesis

__all__ = [
    'EXDARK_CLASSES', 'EXDARK_IN_OUT', 'EXDARK_LIGHTS', 'EXDARK_META_KEYS',
    'DarkFaceDataset', 'ExDarkDataset', 'LowLightSynthesis'
]
