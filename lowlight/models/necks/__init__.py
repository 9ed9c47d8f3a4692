"""lowlight.models.necks."""
