"""lowlight.models."""
