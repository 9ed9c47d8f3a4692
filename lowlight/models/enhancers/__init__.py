"""lowlight.models.enhancers."""
