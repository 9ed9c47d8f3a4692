"""Detect objects in decoded frames: the config's test pipeline on one
frame, batched ``predict`` on a few."""
import contextlib
import copy
from typing import ContextManager, Dict, Iterator, List, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.dataset import pseudo_collate

from mmdet.utils import get_test_pipeline_cfg
from mmdet.visualization.palette import get_palette
from ...deployment.onnxruntime_detector import OnnxRuntimeDetector
from ...models.detectors import LowLightDetector
from .compute_gate import ComputeGate


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the calling thread's torch operations on ``count`` threads.

    OpenMP gives every thread that starts a parallel region its own team of
    threads, which spin between regions; the small tensor copies of a worker
    (mmdet's ``PackDetInputs``) would start one beside the model's team and
    slow the model down. The count is per thread for threads that already
    ran torch, but threads that start torch later inherit the last value
    set, so it is restored on exit.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def one_torch_thread() -> ContextManager[None]:
    """:func:`torch_threads` with one thread, for worker threads."""
    return torch_threads(1)


def _hwc(tensor: torch.Tensor) -> np.ndarray:
    """(C, h, w) tensor to an (h, w, C) float32 array."""
    return tensor.permute(1, 2, 0).float().cpu().numpy()


class FrameDetector:
    """A detector in eval mode run on (H, W, 3) uint8 BGR frames.

    Args:
        model (nn.Module): An mmdet detector with ``cfg`` and
            ``dataset_meta`` (``classes``, optional ``palette``), as
            :func:`lowlight.apis.init_low_light_detector` returns it.
        score_thr (float): Detections below this score are dropped.
        streams (int): Batches predicted side by side, each in a thread of
            its own with ``torch.get_num_threads() // streams`` torch (or
            ONNX Runtime intra-op) threads. On a CPU, two single-threaded
            streams keep both cores busier than one stream on two threads,
            whose single-threaded phases (box decoding, NMS) leave a core
            idle. Defaults to 1.

    An ONNX Runtime model is set up for this detector (its gate, or its
    session's threads with several streams): give each detector a model of
    its own.

    Raises:
        ValueError: If ``streams`` < 1.

    Attributes:
        pipeline (Compose): The config's test pipeline reading arrays
            (``LoadImageFromNDArray``), as
            :func:`mmdet.apis.inference_detector` does.
        class_names (tuple[str]): Name of each label.
        colors (list[tuple[int, int, int]]): BGR colour of each label.
        gate (ComputeGate): with one stream, closed while an ONNX Runtime
            model's session runs; a decode worker that waits for it to open
            reads frames in the model's single-threaded phases only.
            (PyTorch runs its whole ``predict`` on its thread team: decoding
            between batches only measured no faster, so its gate stays
            open; with several streams there is no such phase and the gate
            stays open too.)
        threads_per_stream (int): torch threads of each stream.
    """

    def __init__(self,
                 model: nn.Module,
                 score_thr: float = 0.3,
                 streams: int = 1) -> None:
        if streams < 1:
            raise ValueError(f'streams must be >= 1, got {streams}')
        self.model = model
        self.score_thr = score_thr
        self.streams = streams
        self.threads_per_stream = max(1, torch.get_num_threads() // streams)
        self.gate = ComputeGate()
        if isinstance(model, OnnxRuntimeDetector):
            if streams == 1:
                model.run_context = self.gate.closed
            else:
                model.configure_session(self.threads_per_stream)
        pipeline_cfg = copy.deepcopy(get_test_pipeline_cfg(model.cfg))
        pipeline_cfg[0].type = 'mmdet.LoadImageFromNDArray'
        self.pipeline = Compose(pipeline_cfg)
        self.class_names = tuple(model.dataset_meta['classes'])
        palette = model.dataset_meta.get('palette') or 'random'
        if not isinstance(palette, str) and len(palette) < len(
                self.class_names):
            palette = 'random'  # e.g. COCO classes with a dataset palette
        self.colors = [
            (int(b), int(g), int(r))
            for r, g, b in get_palette(palette, len(self.class_names))
        ]

    def stream_context(self) -> ContextManager[None]:
        """Entered around each batch a stream predicts (``streams`` > 1)."""
        return torch_threads(self.threads_per_stream)

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

        A :class:`LowLightDetector` returns its decomposition with the
        detections (one enhancer pass); another model with a ``decompose``
        method is asked for it after ``predict``.

        Args:
            packed (Sequence[dict]): Outputs of :meth:`preprocess`.
            with_decomposition (bool): Also return the decomposition of
                each frame.

        Returns:
            list[dict]: Per frame ``bboxes`` (K, 4) in original pixel
            coordinates (clipped to the frame), ``scores`` (K, ), ``labels``
            (K, ), and with ``with_decomposition`` ``illumination``
            (h, w, 1|3) and ``reflectance`` (h, w, 3), float RGB in [0, 1]
            at the model input size without padding.
        """
        # The data preprocessor, and all of an ONNX Runtime model's torch
        # work (decode, NMS), are small tensor operations: a team of OpenMP
        # threads, on cores the decode and write threads share, waits for
        # them longer than they compute. Same results on one thread.
        with one_torch_thread():
            data = self.model.data_preprocessor(pseudo_collate(packed), False)
        runtime = isinstance(self.model, OnnxRuntimeDetector)
        with one_torch_thread() if runtime else contextlib.nullcontext():
            return self._predict(data, with_decomposition)

    def _predict(self, data: Dict, with_decomposition: bool) -> List[Dict]:
        """:meth:`predict` after the data preprocessor."""
        if with_decomposition and isinstance(self.model, LowLightDetector):
            samples = self.model.predict(
                data['inputs'], data['data_samples'], with_decomposition=True)
            maps = [(_hwc(s.pred_decomposition.illumination),
                     _hwc(s.pred_decomposition.reflectance)) for s in samples]
        else:
            samples = self.model(**data, mode='predict')
            maps = self._decompose(data, samples) \
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
                result['illumination'], result['reflectance'] = maps[i]
            results.append(result)
        return results

    def _decompose(self, data: Dict, samples: Sequence) -> List[tuple]:
        """``(illumination, reflectance)`` per frame from the model's
        ``decompose``, padding cut."""
        maps = self.model.decompose(data['inputs'], data['data_samples'])
        cut = []
        for i, sample in enumerate(samples):
            h, w = sample.img_shape[:2]
            cut.append((_hwc(maps.illumination[i, :, :h, :w]),
                        _hwc(maps.reflectance[i, :, :h, :w])))
        return cut

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
