"""Frame sources: the file types a run reads, and frames streamed from a
video file or an image sequence with OpenCV.

:data:`IMAGE_EXTENSIONS` and :data:`VIDEO_EXTENSIONS` are the package's one
list of the image and video files it reads (lower case, with the dot).
Frames come out as 3-channel uint8 BGR arrays whatever the source holds
(grayscale, single-channel infrared, 16-bit, alpha). Decoding problems raise
:class:`FrameReadError` with a reason meant for a run manifest; frames yielded
before the error stay valid.
"""
import math
import os.path as osp
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

import cv2
import numpy as np

if TYPE_CHECKING:
    from .inputs import VideoInput

VIDEO_EXTENSIONS = frozenset({
    '.mp4', '.m4v', '.mov', '.avi', '.mkv', '.webm', '.wmv', '.flv', '.mpg',
    '.mpeg', '.ts', '.mts', '.m2ts', '.3gp', '.ogv'
})
IMAGE_EXTENSIONS = frozenset({
    '.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.pgm', '.ppm',
    '.pnm'
})


def is_image_file(name: str) -> bool:
    """Whether a file name has one of :data:`IMAGE_EXTENSIONS` (any case)."""
    return osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def is_video_file(name: str) -> bool:
    """Whether a file name has one of :data:`VIDEO_EXTENSIONS` (any case)."""
    return osp.splitext(name)[1].lower() in VIDEO_EXTENSIONS


# Frames grabbed after a failed read to tell an unreadable frame in the middle
# of a file from the end of the stream.
_PROBE_GRABS = 3


class FrameReadError(RuntimeError):
    """A video or frame that cannot be decoded."""


@dataclass
class Frame:
    """A decoded frame.

    Attributes:
        index (int): 0-based index of the frame in its source.
        time_ms (float): Presentation time in milliseconds.
        image (np.ndarray): (H, W, 3) uint8 BGR.
    """
    index: int
    time_ms: float
    image: np.ndarray


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Convert any decoded image to (H, W, 3) uint8 BGR.

    Args:
        image (np.ndarray): (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); uint8
            or uint16 (16-bit frames keep their 8 high bits).

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR.
    """
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def expected_frames(total: Optional[int], stride: int,
                    max_frames: Optional[int]) -> Optional[int]:
    """Number of frames a run processes out of ``total`` source frames."""
    if total is None:
        return max_frames
    count = math.ceil(total / stride)
    return count if max_frames is None else min(count, max_frames)


def count_frames(item: 'VideoInput', stride: int,
                 max_frames: Optional[int]) -> Optional[int]:
    """Frames a run will process for an input (None when unknown).

    Args:
        item (VideoInput): Any input; unsupported ones count 0.
        stride (int): Every ``stride``-th frame is processed.
        max_frames (int, optional): At most this many are.
    """
    if item.kind == 'frames':
        return expected_frames(len(item.frames), stride, max_frames)
    if item.kind != 'video':
        return 0
    cap = cv2.VideoCapture(str(item.path))
    try:
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT) if cap.isOpened() else 0
    finally:
        cap.release()
    return expected_frames(
        int(count) if count > 0 else None, stride, max_frames)


class VideoFileSource:
    """Frames of a video file, read with ``cv2.VideoCapture``.

    Args:
        path (str): The video file.
        default_fps (float): Frame rate used when the container has none.

    Raises:
        FrameReadError: The file cannot be opened as a video.
    """

    def __init__(self, path: str, default_fps: float) -> None:
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            raise FrameReadError(
                'cannot open the video (corrupt, truncated, empty or '
                'unsupported container)')
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if math.isfinite(fps) and fps > 0 else default_fps
        count = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self.num_frames = int(count) if math.isfinite(count) and count > 0 \
            else None

    def _time_ms(self, index: int) -> float:
        """Timestamp of the frame just read (container time stamps, so
        variable frame rates are kept), else ``index / fps``."""
        time_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        if not math.isfinite(time_ms) or time_ms < 0 or (index > 0
                                                         and time_ms <= 0):
            return index * 1000.0 / self.fps
        return time_ms

    def _check_end(self, index: int) -> None:
        """Decide whether a failed read at ``index`` is the end of stream."""
        if any(self._cap.grab() for _ in range(_PROBE_GRABS)):
            raise FrameReadError(
                f'unreadable frame {index} in the middle of the video')
        if index == 0:
            raise FrameReadError('no frame could be decoded')
        # Frame counts of some containers are estimates from the duration;
        # allow 1% (at least one frame) before calling the file truncated.
        if self.num_frames is not None:
            tolerance = max(1, self.num_frames // 100)
            if index < self.num_frames - tolerance:
                raise FrameReadError(
                    f'the stream ended after {index} of {self.num_frames} '
                    'frames (truncated file?)')

    def frames(self,
               stride: int = 1,
               max_frames: Optional[int] = None) -> Iterator[Frame]:
        """Yield every ``stride``-th frame, at most ``max_frames`` of them."""
        index = yielded = 0
        while max_frames is None or yielded < max_frames:
            if index % stride == 0:
                ok, image = self._cap.read()
            else:
                ok, image = self._cap.grab(), None
            if not ok:
                self._check_end(index)
                return
            if image is not None:
                yield Frame(index, self._time_ms(index), to_bgr(image))
                yielded += 1
            index += 1

    def close(self) -> None:
        self._cap.release()


class ImageSequenceSource:
    """Frames of a folder of images, in natural file-name order.

    Args:
        item (VideoInput): A ``'frames'`` input.
        fps (float): Frame rate giving ``time_ms`` and the output video rate.
    """

    def __init__(self, item: 'VideoInput', fps: float) -> None:
        self._files = item.frames
        self.fps = fps
        self.num_frames = len(self._files)

    def frames(self,
               stride: int = 1,
               max_frames: Optional[int] = None) -> Iterator[Frame]:
        """Yield every ``stride``-th frame, at most ``max_frames`` of them."""
        files = self._files[::stride]
        if max_frames is not None:
            files = files[:max_frames]
        for position, file in enumerate(files):
            index = position * stride
            image = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise FrameReadError(f'unreadable frame {index} ({file.name})')
            yield Frame(index, index * 1000.0 / self.fps, to_bgr(image))

    def close(self) -> None:
        pass


def open_source(item: 'VideoInput', fps: float):
    """Open the frame source of an input.

    Args:
        item (VideoInput): A ``'video'`` or ``'frames'`` input.
        fps (float): Frame rate of image sequences, and of videos whose
            container has none.

    Returns:
        VideoFileSource | ImageSequenceSource: With ``fps``, ``num_frames``
        (None when unknown), ``frames(stride, max_frames)`` and ``close()``.

    Raises:
        FrameReadError: The input is unsupported or cannot be opened.
    """
    if item.kind == 'video':
        return VideoFileSource(str(item.path), fps)
    if item.kind == 'frames':
        return ImageSequenceSource(item, fps)
    raise FrameReadError(
        f'unsupported file type {item.path.suffix or "(no extension)"!r}')
