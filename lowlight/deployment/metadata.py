"""What an exported model file records about itself, and the checks a
runtime makes before it trusts the file.

:func:`lowlight.deployment.export_onnx` stores these keys in the ONNX
model's ``metadata_props`` (string to string):

* ``lowlight.config``: the config file the model was exported from;
* ``lowlight.model_fingerprint``: sha256 of the config's model dict without
  the settings that do not change the graph (``train_cfg``, ``test_cfg``,
  ``init_cfg``, ``data_preprocessor``): a file exported for another
  architecture is refused;
* ``lowlight.num_classes`` and ``lowlight.classes`` (JSON list of names);
* ``lowlight.checkpoint`` and ``lowlight.checkpoint_sha256``;
* ``lowlight.input_shape``: ``N,3,H,W`` with ``N`` = ``batch`` when the
  batch axis is dynamic, ``H,W`` = ``height,width`` (dynamic: the graph
  takes unpadded images of any size and pads them itself);
* ``lowlight.opset``, ``lowlight.output_groups`` (JSON list: how many of the
  flat graph outputs make each argument of the head's ``predict_by_feat``),
  ``lowlight.torch_version``;
* ``lowlight.precision``: ``fp32`` (written by the export), ``fp16`` (a
  copy made by :func:`lowlight.deployment.convert_to_float16`) or ``int8``
  (a copy quantized by :func:`lowlight.deployment.quantize_onnx`, which
  adds ``lowlight.calibration``: how it was calibrated). A file without
  the key is ``fp32``.
"""
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.config import ConfigDict

from ..engine.checkpoint import CheckpointLoadError

PREFIX = 'lowlight.'
# config keys that do not change the exported graph
_GRAPH_FREE_KEYS = ('train_cfg', 'test_cfg', 'init_cfg', 'data_preprocessor')
# names of the dynamic axes in lowlight.input_shape
_AXES = ('batch', 'channels', 'height', 'width')


class ModelFileError(CheckpointLoadError):
    """An exported model file is damaged, foreign, or does not match the
    config it is run with (a :class:`CheckpointLoadError`, so every tool
    that refuses a bad checkpoint with one message refuses it the same
    way)."""


def _graph_relevant(value: Any) -> Any:
    """``value`` as plain JSON-able data without the graph-free keys."""
    if isinstance(value, dict):
        return {
            str(key): _graph_relevant(item)
            for key, item in sorted(value.items(), key=lambda kv: str(kv[0]))
            if key not in _GRAPH_FREE_KEYS
        }
    if isinstance(value, (list, tuple)):
        return [_graph_relevant(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def model_fingerprint(model_cfg: dict) -> str:
    """sha256 hex digest of a model config, graph-free settings left out."""
    text = json.dumps(_graph_relevant(model_cfg), sort_keys=True)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def config_num_classes(model_cfg: dict) -> Optional[int]:
    """The ``num_classes`` of a model config's (first) head, or None."""
    if isinstance(model_cfg, dict):
        if 'num_classes' in model_cfg:
            return int(model_cfg['num_classes'])
        children = model_cfg.values()
    elif isinstance(model_cfg, (list, tuple)):
        children = model_cfg
    else:
        return None
    for child in children:
        found = config_num_classes(child)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class ExportMetadata:
    """The lowlight entries of an exported model file."""

    config: str
    model_fingerprint: str
    num_classes: int
    classes: Tuple[str, ...]
    checkpoint: str
    checkpoint_sha256: str
    input_shape: Tuple[Optional[int], int, int, int]
    opset: int
    output_groups: Tuple[int, ...]
    torch_version: str
    precision: str = 'fp32'
    calibration: str = ''

    def to_props(self) -> Dict[str, str]:
        """As ``metadata_props`` entries (all strings)."""
        batch, channels, height, width = (
            name if value is None else value
            for name, value in zip(_AXES, self.input_shape))
        return {
            PREFIX + 'config': self.config,
            PREFIX + 'model_fingerprint': self.model_fingerprint,
            PREFIX + 'num_classes': str(self.num_classes),
            PREFIX + 'classes': json.dumps(list(self.classes)),
            PREFIX + 'checkpoint': self.checkpoint,
            PREFIX + 'checkpoint_sha256': self.checkpoint_sha256,
            PREFIX + 'input_shape': f'{batch},{channels},{height},{width}',
            PREFIX + 'opset': str(self.opset),
            PREFIX + 'output_groups': json.dumps(list(self.output_groups)),
            PREFIX + 'torch_version': self.torch_version,
            PREFIX + 'precision': self.precision,
            **({
                PREFIX + 'calibration': self.calibration
            } if self.calibration else {}),
        }

    def write_to(self, model_proto) -> None:
        """Replace the ``metadata_props`` of ``model_proto`` (an
        ``onnx.ModelProto``) by these entries."""
        del model_proto.metadata_props[:]
        for key, value in self.to_props().items():
            entry = model_proto.metadata_props.add()
            entry.key, entry.value = key, value

    @classmethod
    def from_props(cls, props: Dict[str, str],
                   filename: str) -> 'ExportMetadata':
        """Parse ``metadata_props``; :class:`ModelFileError` naming
        ``filename`` and the key when an entry is missing or malformed."""
        if not any(key.startswith(PREFIX) for key in props):
            raise ModelFileError(
                f'{filename} has no lowlight metadata: it was not written by '
                'tools/deployment/export_onnx.py (export the model with it)')

        def get(key: str) -> str:
            if PREFIX + key not in props:
                raise ModelFileError(
                    f'{filename}: metadata entry {PREFIX + key} is missing')
            return props[PREFIX + key]

        try:
            shape = tuple(
                None if value == name else int(value)
                for name, value in zip(_AXES,
                                       get('input_shape').split(',')))
            return cls(
                config=get('config'),
                model_fingerprint=get('model_fingerprint'),
                num_classes=int(get('num_classes')),
                classes=tuple(json.loads(get('classes'))),
                checkpoint=get('checkpoint'),
                checkpoint_sha256=get('checkpoint_sha256'),
                input_shape=shape,
                opset=int(get('opset')),
                output_groups=tuple(json.loads(get('output_groups'))),
                torch_version=get('torch_version'),
                precision=props.get(PREFIX + 'precision', 'fp32'),
                calibration=props.get(PREFIX + 'calibration', ''))
        except (ValueError, TypeError) as error:
            raise ModelFileError(
                f'{filename}: malformed lowlight metadata ({error})') from None

    def check_config(self, model_cfg: ConfigDict, filename: str) -> None:
        """Refuse a file exported for another model than ``model_cfg``.

        Raises:
            ModelFileError: naming ``filename``, the exported and the given
                class count, or the config the file was exported from.
        """
        num_classes = config_num_classes(model_cfg)
        if num_classes is not None and num_classes != self.num_classes:
            raise ModelFileError(
                f'{filename} was exported for {self.num_classes} classes, '
                f'the config has num_classes={num_classes}')
        if model_fingerprint(model_cfg) != self.model_fingerprint:
            raise ModelFileError(
                f'{filename} was exported from another model config '
                f'({self.config}): its model fingerprint does not match the '
                'given config (export it again with this config)')


def group_outputs(flat: Sequence[Any],
                  groups: Sequence[int]) -> List[List[Any]]:
    """Split the flat graph outputs into the head's argument lists.

    Args:
        flat (Sequence): all graph outputs, in order.
        groups (Sequence[int]): how many outputs make each argument.

    Returns:
        list[list]: one list per argument of ``predict_by_feat``.
    """
    if sum(groups) != len(flat):
        raise ValueError(f'{len(flat)} outputs do not split into groups '
                         f'{list(groups)}')
    grouped, start = [], 0
    for size in groups:
        grouped.append(list(flat[start:start + size]))
        start += size
    return grouped
