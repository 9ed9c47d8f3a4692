"""The embedded night sample: a procedurally rendered ExDark-format set."""
from .generator import (generate_night_sample, illumination_path,
                        read_illumination)
from .scene import RenderedScene, render_scene

__all__ = [
    'RenderedScene', 'generate_night_sample', 'illumination_path',
    'read_illumination', 'render_scene'
]
