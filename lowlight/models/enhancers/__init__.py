"""Enhancers: low-light image -> Retinex decomposition (R, L)."""
from .base import BaseDecomposer, Decomposition
from .retinex_decomposer import RetinexDecomposer
from .zero_dce_decomposer import ZeroDCEDecomposer

__all__ = [
    'BaseDecomposer', 'Decomposition', 'RetinexDecomposer', 'ZeroDCEDecomposer'
]
