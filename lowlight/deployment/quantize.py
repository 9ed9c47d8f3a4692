"""Static int8 quantization of an exported model file for ONNX Runtime.

The convolutional body of the detector (the mmdet detector's backbone,
neck and head) is quantized to int8 in ONNX Runtime's QDQ format: weights
per output channel (signed), activations per tensor (unsigned, the fast
u8s8 kernels of x86), their ranges calibrated on images run through the
config's test pipeline and data preprocessor, i.e. exactly what the
detector sees at inference. Kept in float32: the enhancer, the input
correction and the side input of a ``LowLightDetector`` (logarithms,
powers, divisions: cheap, and sensitive to rounding), and the head's
output convolutions (the raw scores and box offsets that
``predict_by_feat`` decodes). The outputs, hence the detections, differ
from the float32 file's: measure the AP with ``tools/deployment/
check_parity.py`` before trusting it.
"""
import ast
import copy
import itertools
import os.path as osp
import warnings
from dataclasses import replace
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.config import Config

from ..utils.file_io import atomic_path
from .onnxruntime_detector import read_model_metadata

CALIBRATION_METHODS = ('minmax', 'entropy', 'percentile')
DEFAULT_CALIBRATION_IMAGES = 64
# the mmdet detector modules whose nodes are quantized
_BODY = ('backbone', 'neck', 'bbox_head')
_NAME_SCOPES = 'pkg.torch.onnx.name_scopes'


class QuantizationError(RuntimeError):
    """The file cannot be quantized or converted to float16 (no usable
    calibration image, a file that is not float32, a graph without module
    scopes)."""


def float32_metadata(model_file: str, action: str):
    """The metadata of an exported float32 file; QuantizationError naming
    the file when it is a reduced-precision copy already (``action``: what
    the caller would do to it, for the message)."""
    metadata = read_model_metadata(model_file)
    if metadata.precision != 'fp32':
        raise QuantizationError(
            f'{model_file} is {metadata.precision} already: {action} the '
            'float32 file that tools/deployment/export_onnx.py wrote')
    return metadata


def _evenly_spaced(files: Sequence[str], num_images: int) -> List[str]:
    if num_images < 1:
        raise QuantizationError(f'num_images must be >= 1, got {num_images}')
    if len(files) <= num_images:
        return list(files)
    step = len(files) / num_images
    return [files[int(i * step)] for i in range(num_images)]


def images_in_folder(folder: str,
                     num_images: int = DEFAULT_CALIBRATION_IMAGES
                     ) -> List[str]:
    """``num_images`` image files of ``folder`` (searched recursively),
    evenly spaced over their sorted paths, so that a folder of class
    subfolders gives images of every class.

    Raises:
        QuantizationError: the folder is missing or holds no image.
    """
    from mmdet.apis.det_inferencer import IMG_EXTENSIONS
    from mmengine.utils import scandir
    if not osp.isdir(folder):
        raise QuantizationError(f'calibration folder {folder} does not exist')
    files = sorted(
        osp.join(folder, name) for name in scandir(
            folder,
            suffix=IMG_EXTENSIONS,
            recursive=True,
            case_sensitive=False))
    if not files:
        raise QuantizationError(
            f'calibration folder {folder} holds no image '
            f'({", ".join(IMG_EXTENSIONS)})')
    return _evenly_spaced(files, num_images)


def images_of_split(cfg: Config,
                    split: str = 'train',
                    num_images: int = DEFAULT_CALIBRATION_IMAGES
                    ) -> List[str]:
    """``num_images`` images of the config's ``<split>_dataloader``
    dataset, evenly spaced over it (its annotation file decides which).

    Raises:
        QuantizationError: the config has no such split, or its dataset
            cannot be read.
    """
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise QuantizationError(f'the config has no {key} to calibrate on')
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset_cfg = copy.deepcopy(cfg[key].dataset)
    dataset_cfg.pop('indices', None)
    try:
        dataset = DATASETS.build(dataset_cfg)
        files = [
            dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
        ]
    except Exception as error:  # a missing or damaged annotation file
        raise QuantizationError(
            f'the {split} split of the config cannot be read for '
            f'calibration: {type(error).__name__}: {error}') from None
    if not files:
        raise QuantizationError(f'the {split} split of the config is empty')
    return _evenly_spaced(files, num_images)


def calibration_inputs(detector, cfg: Config,
                       images: Sequence[str]) -> Iterator[np.ndarray]:
    """The graph inputs of ``images``: (1, 3, h, w) float32 each, as the
    config's test pipeline and ``detector``'s data preprocessor make them,
    cut to the image's ``img_shape`` (the graph pads itself). An image that
    cannot be read is reported (a warning naming it) and skipped."""
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from mmdet.utils import get_test_pipeline_cfg
    pipeline = Compose(copy.deepcopy(get_test_pipeline_cfg(cfg)))
    for index, path in enumerate(images):
        try:
            packed = pipeline(dict(img_path=path, img_id=index))
        except Exception as error:  # any reader or transform failure
            warnings.warn(f'calibration image {path} skipped: '
                          f'{type(error).__name__}: {error}')
            continue
        if packed is None:
            warnings.warn(f'calibration image {path} skipped: empty image')
            continue
        data = detector.data_preprocessor(pseudo_collate([packed]), False)
        height, width = data['data_samples'][0].metainfo['img_shape'][:2]
        yield np.ascontiguousarray(
            data['inputs'][:, :, :height, :width].float().numpy())


def _node_scopes(node) -> List[str]:
    """The module paths the exporter recorded for ``node`` (outermost
    first), e.g. ``['', 'detector.detector.backbone', ...]``."""
    props = {entry.key: entry.value for entry in node.metadata_props}
    return ast.literal_eval(props.get(_NAME_SCOPES, '[]'))


def body_nodes(model_proto,
               with_outputs: bool = False) -> Tuple[List[str], int]:
    """Names of the nodes the exporter scoped inside the mmdet detector's
    backbone, neck and bbox head (``detector.detector.*`` in the file of a
    ``LowLightDetector``, ``detector.*`` in a plain one), less the nodes
    that write graph outputs unless ``with_outputs``; and how many nodes
    are not among them.

    Args:
        model_proto (onnx.ModelProto): a file of
            :func:`lowlight.deployment.export_onnx` (the dynamo exporter
            records each node's module path).
        with_outputs (bool): keep the nodes that write graph outputs.

    Raises:
        QuantizationError: no node lies inside the detector's body.
    """
    scopes = {node.name: _node_scopes(node) for node in model_proto.graph.node}
    low_light = any(
        scope.startswith('detector.detector.')
        for names in scopes.values() for scope in names)
    root = 'detector.detector.' if low_light else 'detector.'
    prefixes = tuple(root + name for name in _BODY)
    outputs = {output.name for output in model_proto.graph.output}
    chosen, kept = [], 0
    for node in model_proto.graph.node:
        inside = any(
            scope == prefix or scope.startswith(prefix + '.')
            for scope in scopes[node.name] for prefix in prefixes)
        if inside and (with_outputs or not set(node.output) & outputs):
            chosen.append(node.name)
        else:
            kept += 1
    if not chosen:
        raise QuantizationError(
            f'no node of the graph lies in the module scopes {prefixes}: '
            'export the model again with tools/deployment/export_onnx.py')
    return chosen, kept


class _Reader:
    """An ``onnxruntime.quantization.CalibrationDataReader`` over
    :func:`calibration_inputs`."""

    def __init__(self, input_name: str, inputs: Iterator[np.ndarray]):
        self.input_name = input_name
        self.inputs = inputs
        self.count = 0

    def get_next(self):
        array = next(self.inputs, None)
        if array is None:
            return None
        self.count += 1
        return {self.input_name: array}


def quantize_onnx(config: Union[str, Config],
                  model_file: str,
                  out_file: str,
                  calib_split: str = 'train',
                  calib_dir: Optional[str] = None,
                  num_images: int = DEFAULT_CALIBRATION_IMAGES,
                  method: str = 'minmax',
                  cfg_options: Optional[dict] = None):
    """Write an int8 copy of an exported float32 model file.

    Args:
        config (str | Config): the config the file was exported from.
        model_file (str): the float32 ``.onnx`` file.
        out_file (str): the int8 ``.onnx`` file; written under a temporary
            name and renamed.
        calib_split (str): the config's split whose images the activation
            ranges are calibrated on. Defaults to ``'train'``.
        calib_dir (str, optional): a folder of images to calibrate on
            instead of the split.
        num_images (int): how many images (evenly spaced).
        method (str): ``'minmax'`` (the ranges seen), ``'entropy'`` or
            ``'percentile'`` (ranges that clip outliers).
        cfg_options (dict, optional): config overrides.

    Returns:
        ExportMetadata: what the int8 file records (``precision='int8'``).

    Raises:
        ModelFileError: a missing, foreign or mismatching model file.
        QuantizationError: see the class.
    """
    import onnx
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    # deferred: lowlight.apis imports this package for its backends
    from ..apis.inference import init_low_light_detector
    if method not in CALIBRATION_METHODS:
        raise QuantizationError(f'unknown calibration method {method!r}; '
                                f'choose from {CALIBRATION_METHODS}')
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    metadata = float32_metadata(model_file, 'quantize')
    detector = init_low_light_detector(cfg, model_file, backend='onnxruntime')
    if calib_dir is None:
        images = images_of_split(cfg, calib_split, num_images)
        source = f'the {calib_split} split'
    else:
        images = images_in_folder(calib_dir, num_images)
        source = calib_dir
    proto = onnx.load_model(model_file)
    nodes, kept = body_nodes(proto)
    inputs = calibration_inputs(detector, cfg, images)
    first = next(inputs, None)
    if first is None:
        raise QuantizationError(
            f'no image of {source} could be read for calibration '
            '(see the warnings above)')
    reader = _Reader(detector.input_name, itertools.chain([first], inputs))
    methods = dict(
        minmax=CalibrationMethod.MinMax,
        entropy=CalibrationMethod.Entropy,
        percentile=CalibrationMethod.Percentile)
    with atomic_path(out_file, suffix='.onnx') as tmp:
        quantize_static(
            proto,
            tmp,
            reader,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_quantize=nodes,
            calibrate_method=methods[method])
        result = replace(
            metadata,
            precision='int8',
            calibration=(f'{method} on {reader.count} images of {source}; '
                         f'{len(nodes)} nodes int8, {kept} float32'))
        quantized = onnx.load_model(tmp)
        result.write_to(quantized)
        onnx.save_model(quantized, tmp)
    return result
