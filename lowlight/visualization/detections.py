"""Draw detections (boxes, class names and scores) on an image with OpenCV.

The one box drawer of the package: the video outputs draw on BGR frames,
the decomposition panels on RGB images; colours are given in the image's
own channel order.
"""
from typing import Optional, Sequence

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_DEFAULT_COLOR = (0, 255, 0)
_TEXT_COLOR = (255, 255, 255)


def draw_detections(image: np.ndarray,
                    bboxes: np.ndarray,
                    labels: np.ndarray,
                    scores: np.ndarray,
                    class_names: Optional[Sequence[str]] = None,
                    palette: Optional[Sequence[Sequence[int]]] = None,
                    score_thr: float = 0.3) -> np.ndarray:
    """Draw boxes with a ``class score`` label on a copy of ``image``.

    Line width and text size grow with the image (1 px and the smallest
    text up to 400 px), so that labels stay readable on full-size frames.

    Args:
        image (np.ndarray): (H, W, 3) uint8, RGB or BGR.
        bboxes (np.ndarray): (K, 4) boxes x1, y1, x2, y2 in ``image``
            pixels.
        labels (np.ndarray): (K, ) class indices.
        scores (np.ndarray): (K, ) confidences; boxes below ``score_thr``
            are not drawn.
        class_names (Sequence[str], optional): names by class index;
            without them the index is written.
        palette (Sequence[Sequence[int]], optional): colour per class, in
            the channel order of ``image`` (indices wrap around); green
            without it.
        score_thr (float): minimum score to draw.

    Returns:
        np.ndarray: (H, W, 3) uint8 with the boxes drawn; ``image`` is not
        changed.
    """
    canvas = np.ascontiguousarray(image).copy()
    size = max(canvas.shape[:2])
    thickness = max(1, round(size / 400))
    font_scale = max(0.35, size / 1600)
    scores = np.asarray(scores)
    keep = scores >= score_thr
    for box, label, score in zip(
            np.asarray(bboxes)[keep],
            np.asarray(labels)[keep], scores[keep]):
        label = int(label)
        # plain ints: OpenCV 5 rejects numpy integer colours
        color = tuple(int(c) for c in palette[label % len(palette)]) \
            if palette else _DEFAULT_COLOR
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness)
        name = class_names[label] if class_names else str(label)
        text = f'{name} {float(score):.2f}'
        (tw, th), base = cv2.getTextSize(text, _FONT, font_scale, 1)
        bottom = max(y1, th + base)  # the label sits on the box's top edge
        cv2.rectangle(canvas, (x1, bottom - th - base), (x1 + tw, bottom),
                      color, cv2.FILLED)
        cv2.putText(canvas, text, (x1, bottom - base), _FONT, font_scale,
                    _TEXT_COLOR, 1, cv2.LINE_AA)
    return canvas
