"""Progress of a video inference run, reported through a callback.

A run calls its progress callback with a :class:`RunProgress` snapshot when
it starts, when an input starts, after every written batch and when an
input ends (its frame estimate is then replaced by the frames written).
Calls after the first come from the writer thread. ``tools/infer_video.py``
draws a rich progress bar from them; :class:`TextProgress` is the plain
bar (mmengine's) that the Python API shows by default.
"""
import sys
from dataclasses import dataclass
from typing import Callable, Optional

from mmengine.utils import ProgressBar


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands.

    Attributes:
        frames (int): Frames written so far in this run.
        total (int, optional): Frames the run is expected to write (None
            while any input's frame count is unknown).
        current (str): Output path (``rel``) of the input being written, ''
            before the first.
    """
    frames: int
    total: Optional[int]
    current: str = ''


ProgressCallback = Callable[[RunProgress], None]


class TextProgress:
    """A plain progress bar on stderr (frames, fps, ETA) made with
    :class:`mmengine.utils.ProgressBar`; the total is that of the first
    snapshot."""

    def __init__(self) -> None:
        self._bar: Optional[ProgressBar] = None
        self._frames = 0

    def __call__(self, state: RunProgress) -> None:
        if self._bar is None:
            self._bar = ProgressBar(state.total or 0, file=sys.stderr)
        if state.frames > self._frames:
            self._bar.update(state.frames - self._frames)
            self._frames = state.frames
