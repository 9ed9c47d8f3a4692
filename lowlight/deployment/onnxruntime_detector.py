"""OnnxRuntimeDetector: an exported model file run by ONNX Runtime, behind
mmdet's detector interface.

Registered as ``OnnxRuntimeDetector``: a config whose ``model`` is this
class (see :func:`backend_model_cfg`) is tested by ``tools/test.py``
and run by the video pipeline exactly as the PyTorch model is. The graph
computes the head's raw outputs; decoding and NMS are the config head's own
``predict_by_feat``.

The graph takes images at their ``img_shape`` (dynamic height and width)
and pads them as the data preprocessor does; this detector cuts each image
of a padded batch to its ``img_shape`` and runs the images of one size
together. A batch of images of one size (a video, a test set of one image
size) thus gets PyTorch's outputs, padded or not; in a batch of mixed sizes
PyTorch pads every image to the largest, each size here is run at its own
padded size (PyTorch's result for a batch of that size alone).
"""
import contextlib
import copy
from collections import defaultdict
from typing import (Callable, ContextManager, Dict, List, Optional, Sequence,
                    Tuple)

import numpy as np
import torch
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.config import ConfigDict
from torch import Tensor

from .metadata import ExportMetadata, ModelFileError, group_outputs

BACKENDS = ('pytorch', 'onnxruntime')


def _inner_detector_cfg(model_cfg: ConfigDict) -> ConfigDict:
    """The config of the mmdet detector that owns the head."""
    return model_cfg.detector if model_cfg.get(
        'type') == 'LowLightDetector' else model_cfg


def backend_model_cfg(model_cfg: ConfigDict,
                      model_file: str,
                      num_threads: Optional[int] = None,
                      providers: Optional[Sequence[str]] = None) -> ConfigDict:
    """A ``model`` config that runs ``model_file`` in place of ``model_cfg``.

    Args:
        model_cfg (ConfigDict): the config's PyTorch model (the one the
            file was exported from).
        model_file (str): the ``.onnx`` file.
        num_threads (int, optional): ONNX Runtime intra-op threads.
        providers (Sequence[str], optional): execution providers, in order
            of preference. Defaults to the CPU provider.

    Returns:
        ConfigDict: an ``OnnxRuntimeDetector`` config with the original
        data preprocessor.
    """
    return ConfigDict(
        type='OnnxRuntimeDetector',
        model_file=model_file,
        model=copy.deepcopy(model_cfg),
        num_threads=num_threads,
        providers=list(providers) if providers else None,
        data_preprocessor=copy.deepcopy(model_cfg.get('data_preprocessor')))


def check_backend_file(backend: str, model_file: str) -> None:
    """Refuse a model file of the other backend before anything reads it.

    Args:
        backend (str): one of :data:`BACKENDS`.
        model_file (str): the checkpoint (``pytorch``) or the exported
            ``.onnx`` file (``onnxruntime``).

    Raises:
        ModelFileError: naming the file and the backend that runs it.
    """
    is_onnx = str(model_file).lower().endswith('.onnx')
    if backend == 'pytorch' and is_onnx:
        raise ModelFileError(
            f'{model_file} is an exported ONNX model, not a PyTorch '
            "checkpoint: run it with backend 'onnxruntime' "
            '(--backend onnxruntime)')
    if backend == 'onnxruntime' and not is_onnx:
        raise ModelFileError(
            f'{model_file} is not an .onnx file: the onnxruntime backend '
            'runs a model exported by tools/deployment/export_onnx.py; run '
            "a checkpoint with backend 'pytorch' (--backend pytorch)")


def read_model_metadata(model_file: str) -> ExportMetadata:
    """Parse the file's lowlight metadata without building a session."""
    import onnx
    from google.protobuf.message import DecodeError
    try:
        proto = onnx.load_model(model_file, load_external_data=False)
    except FileNotFoundError:
        raise ModelFileError(f'model file {model_file} does not exist') \
            from None
    except (DecodeError, OSError, ValueError, RuntimeError) as error:
        raise ModelFileError(
            f'{model_file} is not a readable ONNX model (truncated or '
            f'another format): {type(error).__name__}: {error}') from None
    metadata = ExportMetadata.from_props(
        {entry.key: entry.value
         for entry in proto.metadata_props}, model_file)
    if metadata.input_shape[2:] != (None, None):
        raise ModelFileError(
            f'{model_file} was exported for a fixed input size '
            f'{metadata.input_shape[2:]} by an older lowlight (its padding '
            'differs from PyTorch\'s): export it again')
    return metadata


@MODELS.register_module()
class OnnxRuntimeDetector(BaseDetector):
    """Run an ONNX file exported by :func:`lowlight.deployment.export_onnx`.

    Args:
        model_file (str): the ``.onnx`` file.
        model (dict): config of the PyTorch model it was exported from; the
            file's metadata must match it (class count, architecture), and
            its head decodes the outputs.
        num_threads (int, optional): intra-op threads of the session.
            Defaults to ONNX Runtime's choice (all cores).
        providers (list[str], optional): execution providers. Defaults to
            ``['CPUExecutionProvider']``.
        data_preprocessor (dict, optional): the original model's.
        init_cfg (dict, optional): unused; accepted for the config API.

    Attributes:
        run_context (Callable[[], ContextManager]): entered around every
            ``session.run`` (the multi-threaded part of :meth:`predict`),
            e.g. :meth:`lowlight.apis.video.ComputeGate.closed`; by default
            it does nothing.

    Raises:
        ModelFileError: a missing, truncated or foreign file, one exported
            for another config or class count, or a missing provider.
    """

    run_context: Callable[[], ContextManager] = contextlib.nullcontext

    def __init__(self,
                 model_file: str,
                 model: dict,
                 num_threads: Optional[int] = None,
                 providers: Optional[List[str]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        import onnxruntime as ort
        self.model_file = model_file
        self.metadata = read_model_metadata(model_file)
        self.metadata.check_config(model, model_file)
        providers = providers or ['CPUExecutionProvider']
        missing = [
            p for p in providers if p not in ort.get_available_providers()
        ]
        if missing:
            raise ModelFileError(
                f'{model_file}: execution provider(s) {missing} not '
                f'available in this onnxruntime (available: '
                f'{ort.get_available_providers()})')
        self.providers = providers
        self.configure_session(num_threads)
        self.head = self._build_head(_inner_detector_cfg(model))

    @staticmethod
    def _build_head(detector_cfg: ConfigDict) -> torch.nn.Module:
        """The config's bbox head with the detector's test_cfg, as mmdet's
        single-stage detectors build it (only its decoding is used)."""
        head_cfg = copy.deepcopy(detector_cfg.bbox_head)
        head_cfg.update(
            train_cfg=detector_cfg.get('train_cfg'),
            test_cfg=detector_cfg.get('test_cfg'))
        return MODELS.build(head_cfg).eval()

    def _run(self, batch: Tensor) -> List[Tensor]:
        """The graph's flat outputs for (N, 3, h, w) images of one size; a
        fixed-batch graph is run once per exported batch."""
        fixed = self.metadata.input_shape[0]
        array = batch.detach().float().cpu().numpy()
        if fixed is None or fixed == len(array):
            chunks = [array]
        elif fixed == 1:
            chunks = [array[i:i + 1] for i in range(len(array))]
        else:
            raise ValueError(f'{self.model_file} has a fixed batch of '
                             f'{fixed}, got {len(array)} images; export it '
                             'with --dynamic-batch')
        with self.run_context():
            outputs = [
                self.session.run(None, {self.input_name: chunk})
                for chunk in chunks
            ]
        return [
            torch.from_numpy(np.concatenate(maps, axis=0))
            for maps in zip(*outputs)
        ]

    def _run_by_size(self, batch_inputs: Tensor,
                     batch_data_samples: Optional[SampleList]) -> List[tuple]:
        """Raw outputs of each group of same-sized images.

        Args:
            batch_inputs (Tensor): (N, 3, H, W), as the data preprocessor
                gives it.
            batch_data_samples (list[DetDataSample], optional): their
                ``img_shape``; None: every image fills the batch.

        Returns:
            list[tuple]: per image size, the indices of its images in the
            batch and the head's raw outputs for them (grouped as its
            ``predict_by_feat`` takes them).
        """
        height, width = batch_inputs.shape[-2:]
        sizes: Dict[Tuple[int, int], List[int]] = defaultdict(list)
        for i in range(len(batch_inputs)):
            size = ((height, width) if batch_data_samples is None else tuple(
                int(v)
                for v in batch_data_samples[i].metainfo['img_shape'][:2]))
            if size[0] > height or size[1] > width:
                raise ValueError(f'img_shape {size} exceeds the batch '
                                 f'({height}, {width})')
            sizes[size].append(i)
        groups = []
        for (h, w), indices in sizes.items():
            flat = self._run(batch_inputs[indices, :, :h, :w])
            groups.append(
                (indices,
                 tuple(group_outputs(flat, self.metadata.output_groups))))
        return groups

    def _forward(self,
                 batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> tuple:
        """The head's raw outputs, grouped as its ``predict_by_feat`` takes
        them (a tuple of lists of (N, C, h, w) tensors), for a batch whose
        images share one ``img_shape`` (the maps of differently sized
        images differ in size: use :meth:`predict`)."""
        groups = self._run_by_size(batch_inputs, batch_data_samples)
        if len(groups) > 1:
            raise ValueError(
                f'the batch holds images of {len(groups)} sizes, whose raw '
                'outputs differ in size; run them one size at a time')
        return groups[0][1]

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Detections for a preprocessed batch, decoded by the config head.

        Args:
            batch_inputs (Tensor): (N, 3, H, W), as the data preprocessor
                gives it.
            batch_data_samples (list[DetDataSample]): with metainfo.
            rescale (bool): boxes in original image coordinates.

        Returns:
            list[DetDataSample]: with ``pred_instances``.
        """
        results = [None] * len(batch_data_samples)
        for indices, outputs in self._run_by_size(batch_inputs,
                                                  batch_data_samples):
            decoded = self.head.predict_by_feat(
                *outputs,
                batch_img_metas=[
                    batch_data_samples[i].metainfo for i in indices
                ],
                rescale=rescale)
            for i, instances in zip(indices, decoded):
                results[i] = instances
        return self.add_pred_to_datasample(batch_data_samples, results)

    def configure_session(self, num_threads: Optional[int] = None,
                          **options) -> None:
        """(Re)create the session with ``num_threads`` intra-op threads
        (ONNX Runtime's choice when None) and other ``SessionOptions``
        attributes, e.g. ``execution_mode='ORT_PARALLEL'`` or
        ``graph_optimization_level='ORT_ENABLE_ALL'`` (enum members by
        name); a dotted key is a session config entry, e.g.
        ``{'session.intra_op.allow_spinning': '0'}`` (idle threads sleep
        instead of spinning). The outputs do not depend on them beyond
        rounding."""
        import onnxruntime as ort
        session_options = ort.SessionOptions()
        if num_threads:
            session_options.intra_op_num_threads = int(num_threads)
        enums = dict(
            execution_mode=ort.ExecutionMode,
            graph_optimization_level=ort.GraphOptimizationLevel)
        for key, value in options.items():
            if '.' in key:  # a session config entry
                session_options.add_session_config_entry(key, str(value))
                continue
            if key in enums and isinstance(value, str):
                value = getattr(enums[key], value)
            setattr(session_options, key, value)
        try:
            self.session = ort.InferenceSession(
                self.model_file, session_options, providers=self.providers)
        except Exception as error:  # ONNX Runtime raises its own types
            raise ModelFileError(f'ONNX Runtime cannot load '
                                 f'{self.model_file}: {error}') from None
        self.input_name = self.session.get_inputs()[0].name

    def extract_feat(self, batch_inputs: Tensor):
        raise NotImplementedError(
            'OnnxRuntimeDetector runs the exported graph as a whole; it has '
            'no separate features')

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList):
        raise NotImplementedError(
            'an exported ONNX model cannot be trained; train the PyTorch '
            'config and export it again')
