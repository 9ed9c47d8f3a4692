"""The embedded night sample: a procedurally rendered ExDark-format set."""
from .generator import generate_night_sample
from .scene import render_scene

__all__ = ['generate_night_sample', 'render_scene']
