"""Necks: semantic aggregation of multi-scale features."""
from .semantic_aggregation_neck import SemanticAggregationNeck

__all__ = ['SemanticAggregationNeck']
