"""One video inference run: options, planning and resume, the three stages,
the manifest.

Stages (joined by a :class:`BoundedPipeline`):

1. decode (worker thread ``video-decode``): frames of every input, run
   through the test pipeline, grouped into batches;
2. infer (calling thread, or ``FrameDetector.streams`` threads side by
   side): the model on each batch, so boxes come back in original frame
   coordinates;
3. write (worker thread ``video-write``): JSON Lines, drawing and video
   encoding; finishing each input (rename, ``status.json``, manifest).

The workers run torch on one thread (:func:`one_torch_thread`), so the
model keeps every core torch gives it.

An input that fails (cannot be opened, truncated, an unreadable frame, a
model or writer error) is marked ``failed`` with the reason and the run
goes on; frames processed before the failure are kept under their final
names. A run that is killed leaves only ``*.part.*`` files for unfinished
inputs; the same command again skips inputs whose ``status.json`` says
``done`` with the same settings and redoes the others (``overwrite`` redoes
all).
"""
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

from .detector import FrameDetector, one_torch_thread
from .inputs import VideoInput, collect_inputs, parse_shard, select_shard
from .manifest import (STATUS_FILE, RunManifest, make_entry, read_status,
                       write_json_atomic)
from .outputs import FrameResult, VideoOutputs, clear_outputs
from .pipeline import BoundedPipeline
from .progress import ProgressCallback, RunProgress
from .sources import Frame, FrameReadError, count_frames, open_source


@dataclass(frozen=True)
class RunOptions:
    """What a run writes and which frames it reads.

    Attributes:
        save_video (bool): Write ``annotated.mp4``.
        show_decomposition (bool): Write ``decomposition.mp4`` (input |
            illumination | reflectance); the model needs ``decompose``.
        stride (int): Process every ``stride``-th frame; videos are then
            written at ``fps / stride``.
        max_frames (int, optional): Process at most this many frames per
            input (counted after ``stride``).
        fps (float): Frame rate of image sequences, and of videos whose
            container states none.
        overwrite (bool): Redo inputs that an earlier run completed.
        shard (str, optional): ``'I/N'``: only every N-th input starting
            at I (0-based). None: from ``RANK``/``WORLD_SIZE`` when set
            (``torchrun``), else all.

    Raises:
        ValueError: On a stride or frame limit below 1, a frame rate not
            above 0, or a malformed shard.
    """
    save_video: bool = False
    show_decomposition: bool = False
    stride: int = 1
    max_frames: Optional[int] = None
    fps: float = 25.0
    overwrite: bool = False
    shard: Optional[str] = None

    def __post_init__(self) -> None:
        if self.stride < 1:
            raise ValueError(f'stride must be >= 1, got {self.stride}')
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f'max_frames must be >= 1, got {self.max_frames}')
        if not self.fps > 0:
            raise ValueError(f'fps must be > 0, got {self.fps}')
        parse_shard(self.shard)  # fail before any work

    @property
    def keep_images(self) -> bool:
        """Whether decoded frames travel on to the writer."""
        return self.save_video or self.show_decomposition

    def settings(self, **run_info) -> Dict:
        """What a completed input must have been run with to be skipped:
        ``run_info`` (config, checkpoint, score threshold) and the options
        that change the outputs."""
        options = asdict(self)
        for key in ('overwrite', 'shard'):
            options.pop(key)
        return dict(run_info, **options)


@dataclass(eq=False)
class _Job:
    """One input on its way through the stages.

    ``fail`` may be called from the infer and the write stage while the
    decode stage polls ``failed``; the reason is kept under a lock.
    """
    item: VideoInput
    out_dir: Path
    expected: Optional[int]
    total_frames: Optional[int] = None
    frames: int = 0
    started: float = 0.0
    outputs: Optional[VideoOutputs] = None
    _error: Optional[str] = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail(self, reason: str) -> None:
        """Record the first error of the input."""
        with self._lock:
            if self._error is None:
                self._error = reason

    @property
    def error(self) -> Optional[str]:
        """The first error recorded, or None."""
        with self._lock:
            return self._error


@dataclass
class _Message:
    """What the decode stage sends downstream about a job.

    ``kind`` is ``'start'`` (``payload``: the output frame rate),
    ``'batch'`` (list of ``(Frame, packed)`` pairs; after the infer stage,
    list of :class:`FrameResult`) or ``'end'`` (the decode error or None).
    """
    kind: str
    job: _Job
    payload: object = None


class VideoRun:
    """Process the inputs of one run and keep its manifest.

    Args:
        detector (FrameDetector): Preprocesses and predicts frames; its
            ``preprocess`` and ``predict`` are looked up at each call.
        out_dir (str | Path): Results of an input go to
            ``out_dir/<relative path of the input>/``.
        options (RunOptions): What to write and which frames to read.
        settings (dict): Run information that, with the options, decides
            whether an earlier result is reused (see
            :meth:`RunOptions.settings`).
        batch_size (int): Frames per model call.
        queue_size (int): Batches held by each of the two queues.
        progress (callable, optional): Called with :class:`RunProgress`
            snapshots.
    """

    def __init__(self,
                 detector: FrameDetector,
                 out_dir: Union[str, Path],
                 options: RunOptions,
                 settings: Dict,
                 batch_size: int = 1,
                 queue_size: int = 4,
                 progress: Optional[ProgressCallback] = None) -> None:
        self.detector = detector
        self.out_dir = Path(out_dir)
        self.options = options
        self.settings = options.settings(**settings)
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.progress = progress
        self._manifest: Optional[RunManifest] = None
        self._frames = 0
        self._total: Optional[int] = None
        self._current = ''

    # -- planning and resume ---------------------------------------------

    def plan(self, inputs: List[str]) -> Tuple[RunManifest, List[_Job]]:
        """Find the inputs, keep this shard's, skip completed ones.

        Returns:
            tuple: The manifest (skipped inputs recorded, written once)
            and the jobs to run.
        """
        items = collect_inputs(inputs, exclude=str(self.out_dir))
        index, count = parse_shard(self.options.shard)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        manifest = RunManifest(self.out_dir, items, (index, count),
                               dict(settings=self.settings))
        jobs = []
        for item in select_shard(items, index, count):
            status = read_status(self.out_dir / item.rel)
            if self._completed(status):
                manifest.record(
                    make_entry(item, 'skipped', 'completed by an earlier run',
                               status.get('frames', 0),
                               status.get('total_frames'),
                               status.get('seconds', 0.0)),
                    write=False)
            else:
                jobs.append(
                    _Job(
                        item, self.out_dir / item.rel,
                        count_frames(item, self.options.stride,
                                     self.options.max_frames)))
        manifest.write()
        return manifest, jobs

    def _completed(self, status: Optional[Dict]) -> bool:
        """Whether an input's ``status.json`` lets this run skip it."""
        return (not self.options.overwrite and status is not None
                and status.get('status') == 'done'
                and status.get('settings') == self.settings)

    def run(self, inputs: List[str]) -> Dict:
        """Process every input and write the outputs and the manifest.

        Returns:
            dict: The manifest summary (counts per status, frames,
            seconds), ``manifest`` (its path) and ``failed`` (list of
            ``(input, reason)``).

        Raises:
            lowlight.apis.video.PipelineError: A worker thread failed
                outside of any one input's handling.
        """
        manifest, jobs = self.plan(inputs)
        self._manifest = manifest
        known = [job.expected for job in jobs if job.expected is not None]
        self._total = sum(known) if known else None
        self._report()
        pipeline = BoundedPipeline(
            lambda: self._decode_all(jobs),
            self._infer,
            self._write,
            queue_size=self.queue_size,
            name='video',
            stage_names=('decode', 'write'),
            worker_context=one_torch_thread,
            transform_threads=self.detector.streams,
            transform_context=self.detector.stream_context)
        try:
            pipeline.run()
        finally:
            manifest_path = manifest.finish()
        summary = manifest.summary()
        failed = [(e['input'], e['reason']) for e in manifest.entries.values()
                  if e['status'] == 'failed']
        print(
            f"done {summary['done']}, failed {summary['failed']}, skipped "
            f"{summary['skipped']}; {summary['frames']} frames in "
            f"{summary['seconds']:.1f} s; manifest: {manifest_path}",
            file=sys.stderr)
        return dict(summary, manifest=str(manifest_path), failed=failed)

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(
                RunProgress(self._frames, self._total, self._current))

    # -- stage 1: decode ---------------------------------------------------

    def _decode_all(self, jobs: List[_Job]) -> Iterator[_Message]:
        """Messages of every input: start, batches, end."""
        for job in jobs:
            yield from self._decode_one(job)

    def _decode_one(self, job: _Job) -> Iterator[_Message]:
        options = self.options
        job.started = time.perf_counter()
        source, batch, reason = None, [], None
        try:
            source = open_source(job.item, options.fps)
            job.total_frames = source.num_frames
            yield _Message('start', job, source.fps / options.stride)
            for frame in source.frames(options.stride, options.max_frames):
                if job.error is not None:
                    break
                packed = self.detector.preprocess(frame.image, frame.index)
                if not options.keep_images:
                    frame.image = None
                batch.append((frame, packed))
                if len(batch) == self.batch_size:
                    yield _Message('batch', job, batch)
                    batch = []
                # the next frame is read in the model's single-threaded
                # phases (FrameDetector.gate)
                self.detector.gate.wait_open()
        except FrameReadError as e:
            reason = str(e)
        except Exception as e:
            reason = f'{type(e).__name__}: {e}'
        finally:
            if source is not None:
                source.close()
        if batch:
            yield _Message('batch', job, batch)
        yield _Message('end', job, reason)

    # -- stage 2: infer ----------------------------------------------------

    def _infer(self, message: _Message) -> _Message:
        """Predict a batch, unless its input already failed."""
        job = message.job
        if message.kind != 'batch' or job.error is not None:
            return message
        batch: List[Tuple[Frame, Dict]] = message.payload
        try:
            predictions = self.detector.predict(
                [packed for _, packed in batch],
                self.options.show_decomposition)
        except Exception as e:
            job.fail(f'inference failed: {type(e).__name__}: {e}')
            return _Message('batch', job, [])
        return _Message('batch', job, [
            FrameResult(frame.index, frame.time_ms, image=frame.image, **pred)
            for (frame, _), pred in zip(batch, predictions)
        ])

    # -- stage 3: write ----------------------------------------------------

    def _write(self, message: _Message) -> None:
        if message.kind == 'start':
            self._start(message.job, message.payload)
        elif message.kind == 'batch':
            self._write_batch(message.job, message.payload)
        else:
            self._finish(message.job, message.payload)

    def _start(self, job: _Job, fps: float) -> None:
        """Create the (temporary) outputs of an input."""
        self._current = job.item.rel
        self._report()
        try:
            clear_outputs(job.out_dir)
            job.outputs = VideoOutputs(job.out_dir, fps,
                                       self.detector.class_names,
                                       self.detector.colors,
                                       self.options.save_video,
                                       self.options.show_decomposition)
        except Exception as e:
            job.fail(f'cannot create outputs: {e}')

    def _write_batch(self, job: _Job, results: List[FrameResult]) -> None:
        """Write the results of a batch, unless the input already failed."""
        if job.error is not None or job.outputs is None:
            return
        written = job.frames
        try:
            for result in results:
                job.outputs.write(result)
                job.frames += 1
        except Exception as e:
            job.fail(f'writing failed: {type(e).__name__}: {e}')
        self._frames += job.frames - written
        self._report()

    def _finish(self, job: _Job, reason: Optional[str]) -> None:
        """Close the outputs of an input, write its status, update the
        manifest and the expected total."""
        reason = job.error or reason
        if job.outputs is not None:
            job.outputs.close(keep=job.frames > 0)
        else:
            clear_outputs(job.out_dir)
        entry = make_entry(job.item, 'failed' if reason else 'done', reason,
                           job.frames, job.total_frames,
                           time.perf_counter() - job.started)
        job.out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(job.out_dir / STATUS_FILE,
                          dict(entry, settings=self.settings))
        self._manifest.record(entry)
        if self._total is not None and job.expected is not None:
            self._total += job.frames - job.expected
        self._report()
        if reason:
            print(
                f'FAILED {job.item.path} ({job.frames} frames kept): '
                f'{reason}',
                file=sys.stderr)
