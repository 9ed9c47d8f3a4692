"""lowlight.datasets."""
