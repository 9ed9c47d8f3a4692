"""lowlight.models.detectors."""
