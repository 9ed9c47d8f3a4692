"""Per-input outputs of video inference: JSON Lines, annotated video, and
the decomposition side by side; all written under temporary names and
renamed when closed.

Files in ``out_dir / <input rel>/``:

- ``detections.jsonl``: one line per processed frame,
  ``{"frame", "time_ms", "detections": [{"bbox": [x1, y1, x2, y2], "score",
  "label", "class_name"}]}`` with boxes in original pixel coordinates;
- ``annotated.mp4`` (``--save-video``): boxes and labels drawn by
  :func:`lowlight.visualization.draw_detections`;
- ``decomposition.mp4`` (``--show-decomposition``): input | illumination |
  reflectance.

Videos are MPEG-4 Part 2 (``mp4v``). Encoders with 4:2:0 chroma need even
sizes, so an odd width or height loses its last column or row in the videos
(never in the detections).
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ...visualization import draw_detections

DETECTIONS_FILE = 'detections.jsonl'
ANNOTATED_FILE = 'annotated.mp4'
DECOMPOSITION_FILE = 'decomposition.mp4'
VIDEO_FOURCC = 'mp4v'


@dataclass
class FrameResult:
    """Detections of one frame, in original pixel coordinates.

    Attributes:
        index (int): Frame index in the source.
        time_ms (float): Presentation time in milliseconds.
        bboxes (np.ndarray): (K, 4) float x1, y1, x2, y2.
        scores (np.ndarray): (K, ) float.
        labels (np.ndarray): (K, ) int class indices.
        image (np.ndarray, optional): (H, W, 3) uint8 BGR frame, kept only
            when a video is written.
        illumination (np.ndarray, optional): (h, w, 1|3) float RGB in [0, 1]
            at the model input resolution, without padding.
        reflectance (np.ndarray, optional): (h, w, 3) float RGB in [0, 1].
    """
    index: int
    time_ms: float
    bboxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    image: Optional[np.ndarray] = None
    illumination: Optional[np.ndarray] = None
    reflectance: Optional[np.ndarray] = None


def part_path(path: Path) -> Path:
    """Temporary name of an output, e.g. ``annotated.part.mp4`` (the
    extension is kept because OpenCV picks the container from it)."""
    return path.with_name(f'{path.stem}.part{path.suffix}')


def clear_outputs(out_dir: Path) -> None:
    """Delete the outputs an earlier, unfinished or overwritten run left in
    ``out_dir`` (final and temporary names)."""
    for name in (DETECTIONS_FILE, ANNOTATED_FILE, DECOMPOSITION_FILE):
        for path in (out_dir / name, part_path(out_dir / name)):
            if path.exists():
                path.unlink()


def detection_record(result: FrameResult, class_names: Sequence[str]) -> Dict:
    """The JSON Lines record of one frame."""
    return {
        'frame':
        int(result.index),
        'time_ms':
        round(float(result.time_ms), 3),
        'detections': [{
            'bbox': [round(float(v), 2) for v in bbox],
            'score': round(float(score), 4),
            'label': int(label),
            'class_name': str(class_names[int(label)]),
        } for bbox, score, label in zip(result.bboxes, result.scores,
                                        result.labels)],
    }


def _to_bgr_uint8(rgb: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """(h, w, 1|3) float RGB in [0, 1] to (H, W, 3) uint8 BGR of ``size``
    (W, H)."""
    image = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)


def compose_decomposition(result: FrameResult) -> np.ndarray:
    """Input | illumination | reflectance side by side, (H, 3W, 3) BGR."""
    height, width = result.image.shape[:2]
    return np.concatenate([
        result.image,
        _to_bgr_uint8(result.illumination, (width, height)),
        _to_bgr_uint8(result.reflectance, (width, height)),
    ],
                          axis=1)


class _VideoFile:
    """A ``cv2.VideoWriter`` opened on the first frame (even size)."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self._fps = fps
        self._writer = None
        self._size = None

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            height, width = image.shape[:2]
            self._size = (max(2, width & ~1), max(2, height & ~1))
            self._writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC),
                self._fps, self._size)
            if not self._writer.isOpened():
                raise RuntimeError(f'cannot open a video writer for '
                                   f'{str(self.path)!r}')
        if image.shape[1::-1] != self._size:
            image = image[:self._size[1], :self._size[0]]
            if image.shape[1::-1] != self._size:
                # a later frame of an image sequence with another size
                image = cv2.resize(image, self._size)
        self._writer.write(np.ascontiguousarray(image))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class VideoOutputs:
    """All outputs of one input, written to temporary names.

    Args:
        out_dir (Path): ``out_dir / <input rel>``; created if missing.
        fps (float): Frame rate of the written videos.
        class_names (Sequence[str]): Class name of each label.
        colors (Sequence[tuple]): BGR colour of each label.
        save_video (bool): Write ``annotated.mp4``.
        show_decomposition (bool): Write ``decomposition.mp4``.
    """

    def __init__(self, out_dir: Path, fps: float, class_names: Sequence[str],
                 colors: Sequence[Tuple[int, int, int]], save_video: bool,
                 show_decomposition: bool) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self._class_names = class_names
        self._colors = colors
        self._finals = [out_dir / DETECTIONS_FILE]
        self._jsonl = open(part_path(self._finals[0]), 'w', encoding='utf-8')
        self._annotated = self._decomposition = None
        if save_video:
            self._finals.append(out_dir / ANNOTATED_FILE)
            self._annotated = _VideoFile(part_path(self._finals[-1]), fps)
        if show_decomposition:
            self._finals.append(out_dir / DECOMPOSITION_FILE)
            self._decomposition = _VideoFile(part_path(self._finals[-1]), fps)

    def write(self, result: FrameResult) -> None:
        """Append one frame to every output."""
        record = detection_record(result, self._class_names)
        self._jsonl.write(json.dumps(record, separators=(',', ':')) + '\n')
        if self._annotated is not None:
            self._annotated.write(
                draw_detections(
                    result.image,
                    result.bboxes,
                    result.labels,
                    result.scores,
                    self._class_names,
                    self._colors,
                    score_thr=0.0))
        if self._decomposition is not None:
            self._decomposition.write(compose_decomposition(result))

    def close(self, keep: bool) -> List[Path]:
        """Close every file; rename them to their final names if ``keep``,
        else delete them.

        Returns:
            list[Path]: The final paths written.
        """
        self._jsonl.close()
        for video in (self._annotated, self._decomposition):
            if video is not None:
                video.close()
        kept = []
        for final in self._finals:
            part = part_path(final)
            if keep and part.exists():
                os.replace(part, final)
                kept.append(final)
            elif part.exists():
                part.unlink()
        return kept
