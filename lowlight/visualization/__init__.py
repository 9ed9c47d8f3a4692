"""lowlight.visualization."""
