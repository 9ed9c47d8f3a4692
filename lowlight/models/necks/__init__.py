"""Necks: semantic aggregation of multi-scale features."""
from .aggregation_neck import AggregationNeck
from .global_aggregation_neck import GlobalAggregationNeck
from .semantic_aggregation_neck import SemanticAggregationNeck

__all__ = [
    'AggregationNeck', 'GlobalAggregationNeck', 'SemanticAggregationNeck'
]
