"""lowlight.datasets.transforms."""
from .low_light_synthesis import (LowLightSynthesis, darken_linear,
                                  keyed_rng, sample_low_light_params,
                                  synthesize_low_light)

__all__ = [
    'LowLightSynthesis', 'darken_linear', 'keyed_rng',
    'sample_low_light_params', 'synthesize_low_light'
]
