"""Necks: semantic aggregation of multi-scale features."""
from .global_aggregation_neck import GlobalAggregationNeck
from .semantic_aggregation_neck import SemanticAggregationNeck

#: the T2 aggregation necks: parts a pretrained plain detector lacks
AGGREGATION_NECKS = (GlobalAggregationNeck, SemanticAggregationNeck)

__all__ = [
    'AGGREGATION_NECKS', 'GlobalAggregationNeck', 'SemanticAggregationNeck'
]
