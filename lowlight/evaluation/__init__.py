"""lowlight.evaluation."""
