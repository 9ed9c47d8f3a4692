"""lowlight.models.backbones."""
