"""Where the time of one video inference run goes, and how its memory
grows with the video length (``video_throughput.py --profile``,
``--rss-frames``).

:func:`profile_run` runs :meth:`VideoInferencer.run` once with its stages'
functions wrapped by timers (the package is not changed; the wrappers are
removed afterwards): frame decoding (the source's frame iterator), the test
pipeline (resize, pad, pack), the model's ``predict`` (split into the data
preprocessor, the network and the head's ``predict_by_feat`` for an
:class:`~lowlight.deployment.OnnxRuntimeDetector`), the JSON Lines record,
drawing and encoding. Per worker thread, the time it was not busy with
these is its wait on the queues (or, for the decode thread, on the other
threads' CPU).

:func:`peak_rss_run` samples the resident set size of this process while a
run goes, so that a run over a ten times longer clip can be compared.
"""
import contextlib
import tempfile
import threading
import time
from collections import defaultdict
from typing import Callable, Dict, Iterator, Optional
from unittest import mock

from lowlight.apis import VideoInferencer
from lowlight.apis.video import outputs as video_outputs
from lowlight.apis.video import run as video_run
from lowlight.deployment import OnnxRuntimeDetector

#: stage -> the worker thread it runs in
STAGE_THREADS = dict(
    decode='video-decode',
    preprocess='video-decode',
    predict='main',
    jsonl='video-write',
    draw='video-write',
    encode='video-write')


class _Clock:
    """Seconds and calls accumulated per stage, from any thread."""

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = defaultdict(float)
        self.calls: Dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] += seconds
            self.calls[stage] += 1

    def wrap(self, stage: str, fn: Callable) -> Callable:

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - start)

        return timed

    def iterate(self, stage: str, items) -> Iterator:
        """Yield from ``items``, timing each ``next``."""
        items = iter(items)
        while True:
            start = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                self.add(stage, time.perf_counter() - start)
                return
            self.add(stage, time.perf_counter() - start)
            yield item


@contextlib.contextmanager
def _instrumented(inferencer: VideoInferencer, clock: _Clock):
    """Timers around the run's stage functions while the block runs."""
    original_open = video_run.open_source

    def open_source(*args, **kwargs):
        source = original_open(*args, **kwargs)
        frames = source.frames
        source.frames = lambda *a, **k: clock.iterate('decode', frames(*a, **k))
        return source

    model = inferencer.model
    patches = [
        mock.patch.object(video_run, 'open_source', open_source),
        mock.patch.object(inferencer, 'preprocess',
                          clock.wrap('preprocess', inferencer.preprocess)),
        mock.patch.object(inferencer, 'predict',
                          clock.wrap('predict', inferencer.predict)),
        mock.patch.object(
            video_outputs, 'detection_record',
            clock.wrap('jsonl', video_outputs.detection_record)),
        mock.patch.object(video_outputs, 'draw_detections',
                          clock.wrap('draw', video_outputs.draw_detections)),
        mock.patch.object(video_outputs._VideoFile, 'write',
                          clock.wrap('encode',
                                     video_outputs._VideoFile.write)),
        mock.patch.object(
            model.data_preprocessor, 'forward',
            clock.wrap('predict/preprocessor',
                       model.data_preprocessor.forward)),
    ]
    if isinstance(model, OnnxRuntimeDetector):
        patches += [
            mock.patch.object(model, '_run',
                              clock.wrap('predict/network', model._run)),
            mock.patch.object(
                model.head, 'predict_by_feat',
                clock.wrap('predict/predict_by_feat',
                           model.head.predict_by_feat)),
        ]
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


def profile_run(inferencer: VideoInferencer,
                video: str,
                frames: Optional[int] = None,
                save_video: bool = True) -> dict:
    """One run of the tool with every stage timed.

    Returns:
        dict: ``frames``, ``wall_ms_per_frame``, ``ms_per_frame`` (stage ->
        ms; ``predict/...`` entries split ``predict``), and
        ``busy_ms_per_frame``/``wait_ms_per_frame`` per thread (``main``
        runs the model, ``video-decode`` and ``video-write`` the workers).
    """
    clock = _Clock()
    with tempfile.TemporaryDirectory() as out_dir, \
            _instrumented(inferencer, clock):
        start = time.perf_counter()
        summary = inferencer.run([video],
                                 out_dir,
                                 save_video=save_video,
                                 max_frames=frames,
                                 progress=False)
        wall = time.perf_counter() - start
    count = summary['frames']
    per_frame = {
        stage: 1000 * seconds / count
        for stage, seconds in sorted(clock.seconds.items())
    }
    busy = defaultdict(float)
    for stage, thread in STAGE_THREADS.items():
        busy[thread] += per_frame.get(stage, 0.)
    wall_ms = 1000 * wall / count
    return dict(
        frames=count,
        save_video=save_video,
        batch_size=inferencer.batch_size,
        wall_ms_per_frame=wall_ms,
        fps=count / wall,
        ms_per_frame=per_frame,
        busy_ms_per_frame=dict(busy),
        wait_ms_per_frame={t: wall_ms - b
                           for t, b in busy.items()})


def _rss_bytes() -> int:
    with open('/proc/self/statm') as statm:
        pages = int(statm.read().split()[1])
    import resource
    return pages * resource.getpagesize()


def peak_rss_run(run: Callable[[], object], interval_s: float = 0.01) -> dict:
    """Call ``run()`` while a thread samples the process RSS.

    Returns:
        dict: ``before_mb``, ``peak_mb`` (highest sample during the call)
        and ``growth_mb`` (peak - before).
    """
    before = _rss_bytes()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            done.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        run()
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], _rss_bytes())
    mb = 1 / 2**20
    return dict(
        before_mb=before * mb,
        peak_mb=peak[0] * mb,
        growth_mb=(peak[0] - before) * mb)
