"""Measurement logic behind ``tools/analysis_tools``: the decomposition
statistics here, the comparison on the night sample in
:mod:`lowlight.analysis.comparison`."""
from .decomposition_stats import (DecompositionStatistics, collect,
                                  decomposition_statistics, format_table)

__all__ = [
    'DecompositionStatistics', 'collect', 'decomposition_statistics',
    'format_table'
]
