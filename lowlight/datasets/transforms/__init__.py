"""lowlight.datasets.transforms."""
