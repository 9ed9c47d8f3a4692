"""Batch inference of an mmdet detector over videos and image sequences:
the model built from a checkpoint, then one :class:`VideoRun` per call."""
import os
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config

from ..inference import init_low_light_detector
from .detector import FrameDetector
from .progress import ProgressCallback, TextProgress
from .run import RunOptions, VideoRun


class VideoInferencer(FrameDetector):
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
        backend (str): ``'pytorch'`` or ``'onnxruntime'`` (``checkpoint``
            is then a ``.onnx`` file exported from ``config``).
        streams (int): Batches predicted side by side (see
            :class:`FrameDetector`).
        providers (Sequence[str], optional): ONNX Runtime execution
            providers, in order of preference (onnxruntime only; default
            the CPU provider).

    Raises:
        lowlight.engine.CheckpointLoadError: If the checkpoint is missing,
            damaged, or holds Python objects beyond tensors and plain values,
            or an ONNX file is not an export of ``config``.

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
                 cfg_options: Optional[Dict] = None,
                 backend: str = 'pytorch',
                 streams: int = 1,
                 providers: Optional[Sequence[str]] = None) -> None:
        if batch_size < 1 or queue_size < 1:
            raise ValueError('batch_size and queue_size must be >= 1')
        self.config_name = config.filename if isinstance(
            config, Config) else str(Path(config).resolve())
        self.checkpoint = checkpoint
        self.backend = backend
        self.batch_size = batch_size
        self.queue_size = queue_size
        super().__init__(
            init_low_light_detector(
                config,
                checkpoint,
                device=device,
                cfg_options=cfg_options,
                backend=backend,
                providers=providers),
            score_thr, streams)

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
            progress: Union[bool, ProgressCallback] = True) -> Dict:
        """Process every input and write the outputs and the manifest.

        Args:
            inputs (Sequence[str]): Video files, folders (searched
                recursively; a folder of images is one sequence) and globs.
            out_dir (str | Path): Results of an input go to
                ``out_dir/<relative path of the input>/``.
            save_video, show_decomposition, stride, max_frames, fps,
            overwrite: See :class:`RunOptions`.
            shard (str | tuple, optional): ``'I/N'`` or ``(I, N)``, see
                :class:`RunOptions`.
            progress (bool | callable): A callback taking
                :class:`RunProgress` snapshots; True: a plain progress bar
                on stderr (:class:`TextProgress`); False: none.

        Returns:
            dict: The manifest summary (counts per status, frames,
            seconds), ``manifest`` (its path) and ``failed`` (list of
            ``(input, reason)``).
        """
        if isinstance(shard, tuple):
            shard = '{}/{}'.format(*shard)
        options = RunOptions(save_video, show_decomposition, stride,
                             max_frames, fps, overwrite, shard)
        if show_decomposition:
            self.check_decomposition()
        if progress is True:
            progress = TextProgress()
        settings = dict(
            config=self.config_name,
            checkpoint=None if self.checkpoint is None else str(
                Path(self.checkpoint).resolve()),
            backend=self.backend,
            score_thr=self.score_thr)
        return VideoRun(self, out_dir, options, settings, self.batch_size,
                        self.queue_size, progress or None).run(list(inputs))


def default_device() -> str:
    """``cuda:LOCAL_RANK`` (``cuda:0`` outside torchrun) when CUDA is
    available, else ``cpu``."""
    if torch.cuda.is_available():
        return f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    return 'cpu'


def infer_videos(config: Union[str, Path, Config],
                 checkpoint: Optional[str],
                 inputs: Sequence[str],
                 out_dir: Union[str, Path],
                 device: Optional[str] = 'cpu',
                 batch_size: int = 1,
                 score_thr: float = 0.3,
                 cfg_options: Optional[Dict] = None,
                 backend: str = 'pytorch',
                 streams: int = 1,
                 providers: Optional[Sequence[str]] = None,
                 **run_kwargs) -> Dict:
    """Build a :class:`VideoInferencer` and run it once.

    ``run_kwargs`` are the keyword arguments of :meth:`VideoInferencer.run`
    (``save_video``, ``show_decomposition``, ``stride``, ``max_frames``,
    ``fps``, ``overwrite``, ``shard``, ``progress``). ``device=None`` is
    :func:`default_device`.

    Returns:
        dict: See :meth:`VideoInferencer.run`.
    """
    inferencer = VideoInferencer(
        config,
        checkpoint,
        device=device or default_device(),
        batch_size=batch_size,
        score_thr=score_thr,
        cfg_options=cfg_options,
        backend=backend,
        streams=streams,
        providers=providers)
    return inferencer.run(inputs, out_dir, **run_kwargs)
