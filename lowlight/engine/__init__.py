"""lowlight.engine."""
