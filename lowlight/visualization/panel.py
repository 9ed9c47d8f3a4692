"""Draw one decomposition panel: input | illumination + scale | reflectance |
detections, side by side, with OpenCV (no plotting library)."""
from typing import Optional, Sequence

import cv2
import numpy as np

from .detections import draw_detections

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TITLE_HEIGHT = 24
_BAR_WIDTH = 14
_SCALE_WIDTH = 52  # colour bar plus its tick labels
_BACKGROUND = (255, 255, 255)
_TEXT = (0, 0, 0)


def colorize_illumination(illumination: np.ndarray,
                          colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:
    """Colour-map an illumination map on the fixed scale [0, 1].

    Args:
        illumination (np.ndarray): (H, W), (H, W, 1) or (H, W, 3) floats;
            three channels are averaged. Values outside [0, 1] are clipped.
        colormap (int): an OpenCV colour map.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    if illumination.ndim == 3:
        illumination = illumination.mean(axis=2)
    grey = np.round(np.clip(illumination, 0, 1) * 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(grey, colormap), cv2.COLOR_BGR2RGB)


def draw_scale_bar(height: int,
                   colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:
    """A vertical colour bar from 1 (top) to 0 (bottom) with tick labels.

    Returns:
        np.ndarray: (height, 52, 3) uint8 RGB.
    """
    bar = np.full((height, _SCALE_WIDTH, 3), _BACKGROUND, np.uint8)
    ramp = np.linspace(1, 0, height, dtype=np.float32)[:, None]
    bar[:, 2:2 + _BAR_WIDTH] = colorize_illumination(
        np.repeat(ramp, _BAR_WIDTH, axis=1), colormap)
    for value in (1.0, 0.5, 0.0):
        y = int(round((1 - value) * (height - 1)))
        cv2.line(bar, (2 + _BAR_WIDTH, y), (6 + _BAR_WIDTH, y), _TEXT, 1)
        baseline_y = min(max(y + 4, 10), height - 2)
        cv2.putText(bar, f'{value:.1f}', (8 + _BAR_WIDTH, baseline_y), _FONT,
                    0.35, _TEXT, 1, cv2.LINE_AA)
    return bar


def _titled(tile: np.ndarray, title: str) -> np.ndarray:
    strip = np.full((_TITLE_HEIGHT, tile.shape[1], 3), _BACKGROUND, np.uint8)
    cv2.putText(strip, title, (4, _TITLE_HEIGHT - 8), _FONT, 0.45, _TEXT, 1,
                cv2.LINE_AA)
    return np.concatenate([strip, tile], axis=0)


def draw_decomposition_panel(
        image: np.ndarray,
        illumination: np.ndarray,
        reflectance: np.ndarray,
        bboxes: Optional[np.ndarray] = None,
        labels: Optional[np.ndarray] = None,
        scores: Optional[np.ndarray] = None,
        class_names: Optional[Sequence[str]] = None,
        palette: Optional[Sequence[Sequence[int]]] = None,
        score_thr: float = 0.3,
        colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:
    """Draw input, illumination (with scale), reflectance and detections.

    Illumination uses a fixed [0, 1] colour scale, so panels from different
    images or training steps compare directly; its range is in the title.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB input.
        illumination (np.ndarray): (H, W), (H, W, 1) or (H, W, 3) floats in
            [0, 1] (three channels are averaged for display).
        reflectance (np.ndarray): (H, W, 3) RGB floats, shown clipped to
            [0, 1].
        bboxes (np.ndarray, optional): (K, 4) detections in ``image``
            pixels; ``labels`` and ``scores`` (K, ) go with them.
        labels (np.ndarray, optional): class indices of the detections.
        scores (np.ndarray, optional): scores of the detections.
        class_names (Sequence[str], optional): names by class index.
        palette (Sequence[Sequence[int]], optional): RGB colour per class.
        score_thr (float): minimum score of a drawn detection.
        colormap (int): OpenCV colour map for the illumination.

    Returns:
        np.ndarray: (H + 24, 4 * W + 52, 3) uint8 RGB panel.
    """
    height, width = image.shape[:2]
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError('image must be an (H, W, 3) uint8 array, got '
                         f'{image.dtype} {image.shape}')
    for name, array in (('illumination', illumination), ('reflectance',
                                                         reflectance)):
        if array.shape[:2] != (height, width):
            raise ValueError(f'{name} is {array.shape[:2]}, the image is '
                             f'{(height, width)}: they must match')
    refl = np.round(np.clip(reflectance, 0, 1) * 255).astype(np.uint8)
    if bboxes is None:
        bboxes = np.zeros((0, 4))
        labels = scores = np.zeros((0, ))
    detections = draw_detections(image, bboxes, labels, scores, class_names,
                                 palette, score_thr)
    shown = int((np.asarray(scores) >= score_thr).sum())
    tiles = [
        _titled(image, 'input'),
        _titled(
            colorize_illumination(illumination, colormap),
            f'illumination [{float(illumination.min()):.2f}, '
            f'{float(illumination.max()):.2f}]'),
        _titled(draw_scale_bar(height, colormap), 'L'),
        _titled(refl, 'reflectance'),
        _titled(detections, f'detections >= {score_thr:g}: {shown}'),
    ]
    return np.concatenate(tiles, axis=1)
