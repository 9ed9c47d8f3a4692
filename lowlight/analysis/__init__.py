"""Measurement logic behind ``tools/analysis_tools``."""
from .decomposition_stats import (DecompositionStatistics, collect,
                                  decomposition_statistics, format_table)

__all__ = [
    'DecompositionStatistics', 'collect', 'decomposition_statistics',
    'format_table'
]
