"""lowlight.apis."""
