"""Export a detector's tensor path to ONNX.

What goes into the graph is everything between the data preprocessor and
post-processing: for a :class:`LowLightDetector` the enhancer (inference
branch), the input correction, the (illumination-guided) backbone and the
neck(s) including semantic aggregation; then the head's raw outputs. Box
decoding, score threshold and NMS stay in mmdet's ``predict_by_feat``, run
on the runtime's outputs by :class:`OnnxRuntimeDetector`, so the boxes are
mmdet's. Plain mmdet single-stage detectors export through the same code.

The graph input is one image's area of the data preprocessor's output:
(N, 3, h, w) float32 (for a ``LowLightDetector`` RGB in [0, 1]) of the
``img_shape`` the test pipeline gave, with dynamic h and w. The graph pads
it to a multiple of the preprocessor's ``pad_size_divisor`` itself, the way
PyTorch sees a batch of such images: a ``LowLightDetector`` decomposes the
real image area only (as its enhancer does on a padded batch), the
backbone input is 0 and the illumination 1 on the padding. Images of one
size therefore give PyTorch's raw outputs exactly, padded or not.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from ..engine.publish import sha256_of
from ..models.detectors import LowLightDetector
from ..utils.file_io import atomic_path
from .metadata import ExportMetadata, model_fingerprint

DEFAULT_OPSET = 18
INPUT_NAME = 'inputs'
# the image sides an exported file accepts (height and width are dynamic)
MIN_SIDE, MAX_SIDE = 16, 4096


class ExportError(RuntimeError):
    """The model cannot be exported (an op without an ONNX form, a
    detector family the runtime cannot post-process, a failed export)."""


class RawOutputs(nn.Module):
    """A detector's ``_forward`` on unpadded images of one size, padded
    inside, with its nested head outputs flattened.

    Args:
        detector (nn.Module): a single-stage mmdet detector or a
            :class:`LowLightDetector` around one.
        pad_size_divisor (int): the data preprocessor's; the images are
            padded at the bottom and right to a multiple of it.

    Attributes:
        output_groups (tuple[int]): set by the first forward: how many flat
            outputs make each argument of the head's ``predict_by_feat``.
    """

    def __init__(self, detector: nn.Module, pad_size_divisor: int = 1) -> None:
        super().__init__()
        self.detector = detector
        self.pad_size_divisor = int(pad_size_divisor)
        self.output_groups: Tuple[int, ...] = ()

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(N, 3, h, w) preprocessed images of their ``img_shape`` -> flat
        tuple of the head maps of their padded batch."""
        height, width = inputs.shape[-2:]
        pad = (0, (-width) % self.pad_size_divisor, 0,
               (-height) % self.pad_size_divisor)
        if isinstance(self.detector, LowLightDetector):
            # the enhancer sees the real area only, as on a padded batch
            x, illumination, _ = self.detector.backbone_input(inputs)
            if illumination is not None:
                illumination = F.pad(illumination, pad, value=1.0)
            groups = self.detector.detector._forward(
                self.detector.features(F.pad(x, pad), illumination))
        else:
            groups = self.detector._forward(F.pad(inputs, pad))
        self.output_groups = tuple(len(group) for group in groups)
        return tuple(tensor for group in groups for tensor in group)


def inner_detector(model: nn.Module) -> nn.Module:
    """The mmdet detector that owns the heads (inside a LowLightDetector)."""
    return model.detector if isinstance(model, LowLightDetector) else model


def _check_exportable(model: nn.Module) -> None:
    """Refuse what the runtime cannot run or post-process, before export.

    Raises:
        ExportError: naming the module and the op.
    """
    detector = inner_detector(model)
    if getattr(detector, 'with_rpn', False) or hasattr(detector, 'roi_head'):
        raise ExportError(
            f'{type(detector).__name__} is a two-stage detector: its RoI '
            'head needs the proposals after NMS inside the graph, which this '
            'exporter does not build; export a single-stage detector '
            '(YOLOv3, RetinaNet, TOOD, ...)')
    if not hasattr(detector, 'bbox_head'):
        raise ExportError(f'{type(detector).__name__} has no bbox_head whose '
                          'predict_by_feat could decode its outputs')
    for name, module in model.named_modules():
        if type(module).__module__.startswith('mmcv.ops'):
            raise ExportError(
                f'module {name} ({type(module).__module__}.'
                f'{type(module).__name__}) runs a compiled mmcv op that has '
                'no ONNX form ONNX Runtime executes (e.g. DCNv2 has no '
                'DeformConv kernel with modulation on the CPU runtime); '
                'export a config without it')


def export_onnx(config: Union[str, Config],
                checkpoint: str,
                out_file: str,
                shape: Sequence[int] = (256, 256),
                batch_size: int = 1,
                dynamic_batch: bool = False,
                opset: int = DEFAULT_OPSET,
                cfg_options: Optional[dict] = None) -> ExportMetadata:
    """Export a trained detector to an ONNX file with lowlight metadata.

    Args:
        config (str | Config): the model's config.
        checkpoint (str): its checkpoint, loaded weights-only.
        out_file (str): the ``.onnx`` file; written under a temporary name
            and renamed, so a failed export never leaves a file there.
        shape (Sequence[int]): (h, w) of the example input the export
            traces (e.g. the test pipeline's output), rounded up to a
            multiple of the data preprocessor's ``pad_size_divisor``; the
            file runs any size from ``MIN_SIDE`` to ``MAX_SIDE``. Defaults
            to (256, 256).
        batch_size (int): batch size of the example input (the exported
            batch size unless ``dynamic_batch``). Defaults to 1.
        dynamic_batch (bool): make the batch axis dynamic. Defaults to False.
        opset (int): ONNX opset. Defaults to 18.
        cfg_options (dict, optional): config overrides.

    Returns:
        ExportMetadata: what was recorded in the file.

    Raises:
        ExportError: the model has an op without ONNX form, is two-stage,
            or the exporter failed (the message names the module or op).
        lowlight.engine.CheckpointLoadError: a refused checkpoint.
    """
    import onnx  # deferred: only export needs it

    # deferred: lowlight.apis imports this package for its backends
    from ..apis.inference import init_low_light_detector

    height, width = (int(v) for v in shape)
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise ExportError(f'shape {height}x{width}: each side must be from '
                          f'{MIN_SIDE} to {MAX_SIDE}')
    model = init_low_light_detector(config, checkpoint, 'cpu', cfg_options)
    _check_exportable(model)
    divisor = getattr(model.data_preprocessor, 'pad_size_divisor', 1)
    wrapper = RawOutputs(model, divisor).eval()
    # traced at a multiple of the divisor: from a side that is none,
    # torch.export (2.13) fails while it derives the padded size's
    # constraints (AssertionError: Cannot create Dim with inconsistent
    # min=0, max=-128); the graph still takes any size
    height, width = (-(-v // divisor) * divisor for v in (height, width))
    example = torch.rand(batch_size, 3, height, width) * 0.3
    with torch.no_grad():
        wrapper(example)  # records output_groups
    axes = {
        2: torch.export.Dim('height', min=MIN_SIDE, max=MAX_SIDE),
        3: torch.export.Dim('width', min=MIN_SIDE, max=MAX_SIDE)
    }
    if dynamic_batch:
        axes[0] = torch.export.Dim('batch', min=1, max=1024)
    names = _output_names(wrapper.output_groups)
    meta = ExportMetadata(
        config=str(
            config if isinstance(config, str) else (
                model.cfg.filename or '<Config object>')),
        model_fingerprint=model_fingerprint(model.cfg.model),
        num_classes=len(model.dataset_meta['classes']),
        classes=tuple(model.dataset_meta['classes']),
        checkpoint=osp.basename(checkpoint),
        checkpoint_sha256=sha256_of(checkpoint),
        input_shape=(None if dynamic_batch else batch_size, 3, None, None),
        opset=opset,
        output_groups=wrapper.output_groups,
        torch_version=torch.__version__)
    with atomic_path(out_file, suffix='.onnx') as tmp:
        try:
            with torch.no_grad():
                program = torch.onnx.export(
                    wrapper, (example, ),
                    input_names=[INPUT_NAME],
                    output_names=names,
                    opset_version=opset,
                    dynamo=True,
                    dynamic_shapes={INPUT_NAME: axes},
                    external_data=False,
                    verbose=False)
        except Exception as error:  # the exporter raises many types
            raise ExportError(f'exporting {meta.config} failed: '
                              f'{_first_line(error)}') from error
        proto = program.model_proto
        meta.write_to(proto)
        onnx.checker.check_model(proto)
        onnx.save_model(proto, tmp)
    return meta


def _output_names(groups: Sequence[int]) -> List[str]:
    """``out<g>_<i>``: output i of the head's argument g."""
    return [
        f'out{g}_{i}' for g, size in enumerate(groups) for i in range(size)
    ]


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f'{type(error).__name__}: {text[0] if text else ""}'
