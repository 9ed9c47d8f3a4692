"""lowlight.visualization: decomposition panels and the hook that logs them."""
from .decomposition_hook import DecompositionVisualizationHook
from .detections import draw_detections
from .panel import (colorize_illumination, draw_decomposition_panel,
                    draw_scale_bar)
from .render import render_decomposition_panels
from .visualizer import LowLightVisualizer

__all__ = [
    'DecompositionVisualizationHook', 'LowLightVisualizer',
    'colorize_illumination',
    'draw_decomposition_panel', 'draw_detections', 'draw_scale_bar',
    'render_decomposition_panels'
]
