"""lowlight.evaluation.metrics."""
