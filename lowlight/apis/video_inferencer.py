"""Batch inference of an mmdet detector over videos and image sequences.

Three stages overlap, joined by bounded queues so that memory stays bounded
whatever the length of the videos:

1. a decode worker thread reads frames (OpenCV) and runs the config's test
   pipeline on them (as :func:`mmdet.apis.inference_detector` does, with
   ``LoadImageFromNDArray``), grouping them into batches;
2. the calling thread runs the model on each batch (data preprocessor +
   ``predict``, i.e. ``model.test_step``), so boxes come back in original
   frame coordinates;
3. a writer worker thread writes the JSON Lines, draws (OpenCV) and encodes
   the videos, and finishes each input (rename, ``status.json``, manifest).

The workers run torch on one thread (see :func:`_one_torch_thread`), so the
model keeps every core torch gives it.

Failure handling: an input that fails (cannot be opened, truncated, an
unreadable frame, a model or writer error) is marked ``failed`` with the
reason and the run goes on. Frames processed before the failure are kept:
its outputs are renamed to their final names, and ``status.json`` and the
manifest say ``failed`` with the number of frames written. A run that is
killed leaves only ``*.part.*`` files for unfinished inputs; running the same
command again skips inputs whose ``status.json`` says ``done`` with the same
settings and redoes the others (``overwrite=True`` redoes all).
"""
import contextlib
import copy
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                           ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text

from mmdet.utils import get_test_pipeline_cfg
from mmdet.visualization.palette import get_palette
from .frame_sources import (Frame, FrameReadError, expected_frames,
                            open_source)
from .inference import init_low_light_detector
from .video_inputs import (VideoInput, collect_inputs, parse_shard,
                           select_shard)
from .video_manifest import (STATUS_FILE, RunManifest, make_entry, read_status,
                             write_json_atomic)
from .video_outputs import FrameResult, VideoOutputs, clear_outputs


class _Stopped(Exception):
    """Raised inside a worker when the run is being stopped."""


def _put(q: queue.Queue, item, stop: threading.Event) -> None:
    """Blocking put that gives up when ``stop`` is set."""
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run the calling worker thread's torch operations on one thread.

    OpenMP gives every thread that starts a parallel region its own team of
    threads, which spin between regions; the small tensor copies of a worker
    (mmdet's ``PackDetInputs``) would start one beside the model's team and
    slow the model by about 20 % on 2 cores. The count is per thread for
    threads that already ran torch, but threads that start torch later
    inherit the last value set, so it is restored on exit.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _drain(q: queue.Queue, stop: threading.Event) -> Iterator[tuple]:
    """Yield the items of ``q`` until a None item; give up when ``stop`` is
    set."""
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            item = q.get(timeout=0.1)
        except queue.Empty:
            continue
        if item is None:
            return
        yield item


@dataclass(eq=False)
class _Job:
    """State of one input while it goes through the pipeline."""
    item: VideoInput
    out_dir: Path
    expected: Optional[int]
    total_frames: Optional[int] = None
    error: Optional[str] = None
    frames: int = 0
    started: float = 0.0
    outputs: Optional[VideoOutputs] = None

    def fail(self, reason: str) -> None:
        """Record the first error of the input."""
        if self.error is None:
            self.error = reason


class _FpsColumn(ProgressColumn):
    """Frames per second of the progress task."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f'{speed:.1f} fps' if speed else '-- fps')


class VideoInferencer:
    """Run an mmdet detector over videos, folders of videos and folders of
    frames.

    Args:
        config (str | Path | Config): The model config.
        checkpoint (str, optional): Checkpoint file, loaded weights-only by
            :func:`init_low_light_detector`. Its
            ``meta.dataset_meta.classes`` gives the class names.
        device (str): Torch device, e.g. ``'cpu'`` or ``'cuda:0'``.
        batch_size (int): Frames per model call.
        score_thr (float): Detections below this score are dropped.
        queue_size (int): Batches held by each of the two queues.
        cfg_options (dict, optional): Overrides merged into the config.

    Raises:
        lowlight.engine.CheckpointLoadError: If the checkpoint is missing,
            damaged, or holds Python objects beyond tensors and plain values.

    Example:
        >>> inferencer = VideoInferencer('cfg.py', 'epoch_24.pth', 'cpu')
        >>> summary = inferencer.run(['dashcam/'], 'work_dirs/video')
    """

    def __init__(self,
                 config: Union[str, Path, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 batch_size: int = 1,
                 score_thr: float = 0.3,
                 queue_size: int = 4,
                 cfg_options: Optional[Dict] = None) -> None:
        if batch_size < 1 or queue_size < 1:
            raise ValueError('batch_size and queue_size must be >= 1')
        self.config_name = config.filename if isinstance(
            config, Config) else str(Path(config).resolve())
        self.checkpoint = checkpoint
        self.model = init_low_light_detector(
            config, checkpoint, device=device, cfg_options=cfg_options)
        self.batch_size = batch_size
        self.score_thr = score_thr
        self.queue_size = queue_size
        pipeline_cfg = copy.deepcopy(get_test_pipeline_cfg(self.model.cfg))
        pipeline_cfg[0].type = 'mmdet.LoadImageFromNDArray'
        self.pipeline = Compose(pipeline_cfg)
        self.class_names = tuple(self.model.dataset_meta['classes'])
        palette = self.model.dataset_meta.get('palette') or 'random'
        if not isinstance(palette, str) and len(palette) < len(
                self.class_names):
            palette = 'random'  # e.g. COCO classes with a dataset palette
        # plain ints in BGR order: OpenCV 5 rejects numpy integer colours
        self.colors = [
            (int(b), int(g), int(r))
            for r, g, b in get_palette(palette, len(self.class_names))
        ]

    # -- single batches -------------------------------------------------

    def preprocess(self, image: np.ndarray, index: int = 0) -> Dict:
        """Run the test pipeline on one (H, W, 3) uint8 BGR frame.

        Returns:
            dict: ``inputs`` (3, h, w) uint8 tensor and ``data_samples``.
        """
        return self.pipeline(dict(img=image, img_id=index))

    @torch.no_grad()
    def predict(self,
                packed: Sequence[Dict],
                with_decomposition: bool = False) -> List[Dict]:
        """Detect objects in a batch of preprocessed frames.

        Args:
            packed (Sequence[dict]): Outputs of :meth:`preprocess`.
            with_decomposition (bool): Also return the model's
                ``decompose`` output for each frame.

        Returns:
            list[dict]: Per frame ``bboxes`` (K, 4) in original pixel
            coordinates (clipped to the frame), ``scores`` (K, ), ``labels``
            (K, ), and with ``with_decomposition`` ``illumination``
            (h, w, 1|3) and ``reflectance`` (h, w, 3), float RGB in [0, 1]
            at the model input size without padding.
        """
        data = self.model.data_preprocessor(pseudo_collate(packed), False)
        samples = self.model(**data, mode='predict')
        maps = self.model.decompose(data['inputs'], data['data_samples']) \
            if with_decomposition else None
        results = []
        for i, sample in enumerate(samples):
            instances = sample.pred_instances
            keep = instances.scores >= self.score_thr
            height, width = sample.ori_shape[:2]
            bboxes = instances.bboxes[keep].float().cpu().numpy()
            bboxes[:, 0::2] = bboxes[:, 0::2].clip(0, width)
            bboxes[:, 1::2] = bboxes[:, 1::2].clip(0, height)
            result = dict(
                bboxes=bboxes,
                scores=instances.scores[keep].float().cpu().numpy(),
                labels=instances.labels[keep].cpu().numpy())
            if maps is not None:
                h, w = sample.img_shape[:2]
                for name in ('illumination', 'reflectance'):
                    result[name] = getattr(maps, name)[i, :, :h, :w].permute(
                        1, 2, 0).float().cpu().numpy()
            results.append(result)
        return results

    def check_decomposition(self) -> None:
        """Raise a clear error unless the model can decompose images."""
        decompose = getattr(self.model, 'decompose', None)
        name = type(self.model).__name__
        if not callable(decompose):
            raise ValueError(
                f'show_decomposition needs a model with a decompose() method '
                f'(e.g. LowLightDetector); {name} has none')
        probe = torch.zeros((1, 3, 32, 32),
                            device=self.model.data_preprocessor.device)
        try:
            with torch.no_grad():
                decompose(probe)
        except Exception as e:
            raise ValueError(f'show_decomposition: {name}.decompose() '
                             f'failed: {e}') from e

    # -- whole runs -----------------------------------------------------

    def run(self,
            inputs: Sequence[str],
            out_dir: Union[str, Path],
            save_video: bool = False,
            show_decomposition: bool = False,
            stride: int = 1,
            max_frames: Optional[int] = None,
            fps: float = 25.0,
            overwrite: bool = False,
            shard: Optional[Union[str, Tuple[int, int]]] = None,
            progress: bool = True) -> Dict:
        """Process every input and write the outputs and the manifest.

        Args:
            inputs (Sequence[str]): Video files, folders (searched
                recursively; a folder of images is one sequence) and globs.
            out_dir (str | Path): Results of an input go to
                ``out_dir/<relative path of the input>/``.
            save_video (bool): Write ``annotated.mp4``.
            show_decomposition (bool): Write ``decomposition.mp4`` (input |
                illumination | reflectance); the model needs ``decompose``.
            stride (int): Process every ``stride``-th frame; videos are then
                written at ``fps / stride``.
            max_frames (int, optional): Process at most this many frames
                per input (counted after ``stride``).
            fps (float): Frame rate of image sequences, and of videos whose
                container states none.
            overwrite (bool): Redo inputs that an earlier run completed.
            shard (str | tuple, optional): ``'I/N'`` or ``(I, N)``: process
                only every N-th input starting at I (0-based). None: from
                ``RANK``/``WORLD_SIZE`` when set (``torchrun``), else all.
            progress (bool): Show a progress bar on stderr.

        Returns:
            dict: The manifest summary (counts per status, frames,
            seconds), ``manifest`` (its path) and ``failed`` (list of
            ``(input, reason)``).
        """
        if stride < 1:
            raise ValueError(f'stride must be >= 1, got {stride}')
        if max_frames is not None and max_frames < 1:
            raise ValueError(f'max_frames must be >= 1, got {max_frames}')
        if not fps > 0:
            raise ValueError(f'fps must be > 0, got {fps}')
        if show_decomposition:
            self.check_decomposition()
        out_dir = Path(out_dir)
        items = collect_inputs(inputs, exclude=str(out_dir))
        if isinstance(shard, tuple):
            shard = '{}/{}'.format(*shard)
        index, count = parse_shard(shard)
        settings = dict(
            config=self.config_name,
            checkpoint=None if self.checkpoint is None else str(
                Path(self.checkpoint).resolve()),
            score_thr=self.score_thr,
            stride=stride,
            max_frames=max_frames,
            fps=fps,
            save_video=save_video,
            show_decomposition=show_decomposition)
        out_dir.mkdir(parents=True, exist_ok=True)
        manifest = RunManifest(out_dir, items, (index, count),
                               dict(settings=settings))
        jobs = []
        for item in select_shard(items, index, count):
            status = read_status(out_dir / item.rel)
            if (not overwrite and status is not None
                    and status.get('status') == 'done'
                    and status.get('settings') == settings):
                manifest.record(
                    make_entry(item, 'skipped', 'completed by an earlier run',
                               status.get('frames', 0),
                               status.get('total_frames'),
                               status.get('seconds', 0.0)),
                    write=False)
            else:
                jobs.append(
                    _Job(item, out_dir / item.rel,
                         _count_frames(item, stride, max_frames)))
        manifest.write()

        console = Console(stderr=True, highlight=False)
        bar = Progress(
            TextColumn('{task.description}'),
            BarColumn(),
            MofNCompleteColumn(),
            _FpsColumn(),
            TimeElapsedColumn(),
            TextColumn('ETA'),
            TimeRemainingColumn(),
            TextColumn('{task.fields[current]}'),
            console=console,
            disable=not progress,
            refresh_per_second=2)
        known = [job.expected for job in jobs if job.expected is not None]
        task = bar.add_task(
            'frames', total=sum(known) if known else None, current='')
        options = dict(
            settings=settings,
            stride=stride,
            max_frames=max_frames,
            fps=fps,
            keep_images=save_video or show_decomposition,
            save_video=save_video,
            show_decomposition=show_decomposition)
        try:
            with bar:
                self._pipeline(jobs, options, manifest, bar, task)
        finally:
            manifest_path = manifest.finish()
        summary = manifest.summary()
        failed = [(e['input'], e['reason']) for e in manifest.entries.values()
                  if e['status'] == 'failed']
        console.print(
            f"done {summary['done']}, failed {summary['failed']}, skipped "
            f"{summary['skipped']}; {summary['frames']} frames in "
            f"{summary['seconds']:.1f} s; manifest: {manifest_path}")
        return dict(summary, manifest=str(manifest_path), failed=failed)

    def _pipeline(self, jobs: List[_Job], options: Dict, manifest: RunManifest,
                  bar: Progress, task) -> None:
        """Decode thread -> model (this thread) -> writer thread."""
        stop = threading.Event()
        decoded = queue.Queue(maxsize=self.queue_size)
        predicted = queue.Queue(maxsize=self.queue_size)
        errors: List[BaseException] = []
        decoder = threading.Thread(
            target=self._decode_all,
            args=(jobs, decoded, stop, options, errors),
            name='video-decode',
            daemon=True)
        writer = threading.Thread(
            target=self._write_all,
            args=(predicted, stop, options, manifest, bar, task, errors),
            name='video-write',
            daemon=True)
        decoder.start()
        writer.start()
        try:
            for kind, job, payload in _drain(decoded, stop):
                if kind == 'batch':
                    if job.error is not None:
                        continue
                    try:
                        payload = self._predict_frames(
                            payload, options['show_decomposition'])
                    except Exception as e:
                        job.fail(f'inference failed: {type(e).__name__}: {e}')
                        continue
                _put(predicted, (kind, job, payload), stop)
            _put(predicted, None, stop)
            writer.join()
        except _Stopped:
            pass
        finally:
            stop.set()
            decoder.join()
            writer.join()
        if errors:
            raise RuntimeError('a video worker thread failed') from errors[0]

    def _predict_frames(self, batch: List[Tuple[Frame, Dict]],
                        with_decomposition: bool) -> List[FrameResult]:
        predictions = self.predict([data for _, data in batch],
                                   with_decomposition)
        return [
            FrameResult(frame.index, frame.time_ms, image=frame.image, **pred)
            for (frame, _), pred in zip(batch, predictions)
        ]

    def _decode_all(self, jobs: List[_Job], decoded: queue.Queue,
                    stop: threading.Event, options: Dict,
                    errors: List[BaseException]) -> None:
        """Decode worker: frames of every input, preprocessed, batched."""
        try:
            with _one_torch_thread():
                for job in jobs:
                    self._decode_one(job, decoded, stop, options)
                _put(decoded, None, stop)
        except _Stopped:
            pass
        except BaseException as e:
            errors.append(e)
            stop.set()

    def _decode_one(self, job: _Job, decoded: queue.Queue,
                    stop: threading.Event, options: Dict) -> None:
        job.started = time.perf_counter()
        source, batch, reason = None, [], None
        try:
            source = open_source(job.item, options['fps'])
            job.total_frames = source.num_frames
            _put(decoded, ('start', job, source.fps / options['stride']), stop)
            for frame in source.frames(options['stride'],
                                       options['max_frames']):
                if job.error is not None:
                    break
                data = self.preprocess(frame.image, frame.index)
                if not options['keep_images']:
                    frame.image = None
                batch.append((frame, data))
                if len(batch) == self.batch_size:
                    _put(decoded, ('batch', job, batch), stop)
                    batch = []
        except FrameReadError as e:
            reason = str(e)
        except _Stopped:
            raise
        except Exception as e:
            reason = f'{type(e).__name__}: {e}'
        finally:
            if source is not None:
                source.close()
        if batch:
            _put(decoded, ('batch', job, batch), stop)
        _put(decoded, ('end', job, reason), stop)

    def _write_all(self, predicted: queue.Queue, stop: threading.Event,
                   options: Dict, manifest: RunManifest, bar: Progress, task,
                   errors: List[BaseException]) -> None:
        """Writer worker: outputs of every frame, then finish each input."""
        try:
            with _one_torch_thread():
                for kind, job, payload in _drain(predicted, stop):
                    if kind == 'start':
                        self._start(job, payload, options, bar, task)
                    elif kind == 'batch':
                        self._write_batch(job, payload, bar, task)
                    else:
                        self._finish(job, payload, options, manifest, bar,
                                     task)
        except _Stopped:
            pass
        except BaseException as e:
            errors.append(e)
            stop.set()

    def _start(self, job: _Job, fps: float, options: Dict, bar: Progress,
               task) -> None:
        """Create the (temporary) outputs of an input."""
        bar.update(task, current=job.item.rel)
        try:
            clear_outputs(job.out_dir)
            job.outputs = VideoOutputs(job.out_dir, fps, self.class_names,
                                       self.colors, options['save_video'],
                                       options['show_decomposition'])
        except Exception as e:
            job.fail(f'cannot create outputs: {e}')

    def _write_batch(self, job: _Job, results: List[FrameResult],
                     bar: Progress, task) -> None:
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
        bar.advance(task, job.frames - written)

    def _finish(self, job: _Job, reason: Optional[str], options: Dict,
                manifest: RunManifest, bar: Progress, task) -> None:
        """Close the outputs of an input, write its status, update the
        manifest and the progress bar."""
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
                          dict(entry, settings=options['settings']))
        manifest.record(entry)
        total = bar.tasks[0].total
        if total is not None and job.expected is not None:
            bar.update(task, total=total + job.frames - job.expected)
        if reason:
            bar.console.print(
                Text(
                    f'FAILED {job.item.path} ({job.frames} frames kept): '
                    f'{reason}',
                    style='red'))


def _count_frames(item: VideoInput, stride: int,
                  max_frames: Optional[int]) -> Optional[int]:
    """Frames the run will process for an input (None when unknown)."""
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


def infer_videos(config: Union[str, Path, Config],
                 checkpoint: Optional[str],
                 inputs: Sequence[str],
                 out_dir: Union[str, Path],
                 device: str = 'cpu',
                 batch_size: int = 1,
                 score_thr: float = 0.3,
                 cfg_options: Optional[Dict] = None,
                 **run_kwargs) -> Dict:
    """Build a :class:`VideoInferencer` and run it once.

    ``run_kwargs`` are the keyword arguments of :meth:`VideoInferencer.run`
    (``save_video``, ``show_decomposition``, ``stride``, ``max_frames``,
    ``fps``, ``overwrite``, ``shard``, ``progress``).

    Returns:
        dict: See :meth:`VideoInferencer.run`.
    """
    inferencer = VideoInferencer(
        config,
        checkpoint,
        device=device,
        batch_size=batch_size,
        score_thr=score_thr,
        cfg_options=cfg_options)
    return inferencer.run(inputs, out_dir, **run_kwargs)
