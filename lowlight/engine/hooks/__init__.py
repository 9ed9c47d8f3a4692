"""lowlight.engine.hooks."""
