"""Build a detector from a config and a checkpoint, loading it safely.

:func:`init_low_light_detector` is what every lowlight tool and API uses to
turn a config and a checkpoint file into a model ready for inference. It
does what :func:`mmdet.apis.init_detector` does (config overrides, default
scope, SyncBN reverted, ``dataset_meta`` from the checkpoint, palette from
the config's test dataset, ``model.cfg``, device, eval mode) but reads the
file only with torch's weights-only unpickler
(:func:`lowlight.engine.load_checkpoint_safely`): a checkpoint is untrusted
input, and a crafted one is refused with an error naming the file instead of
being unpickled in full.
"""
import copy
import warnings
from pathlib import Path
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmdet.evaluation import get_classes
from mmdet.registry import DATASETS, MODELS

from ..deployment.onnxruntime_detector import (BACKENDS, backend_model_cfg,
                                               check_backend_file)
from ..engine.pretrained import load_pretrained


def _checkpoint_dataset_meta(checkpoint_meta: dict) -> dict:
    """``dataset_meta`` saved in a checkpoint's ``meta``, as init_detector
    reads it (mmdet 3.x lower-case keys, mmdet 2.x ``CLASSES``, else COCO).

    Args:
        checkpoint_meta (dict): The checkpoint's ``meta`` entry.

    Returns:
        dict: At least ``classes`` (a sequence of class names).
    """
    if 'dataset_meta' in checkpoint_meta:
        return {
            key.lower(): value
            for key, value in checkpoint_meta['dataset_meta'].items()
        }
    if 'CLASSES' in checkpoint_meta:
        return {'classes': checkpoint_meta['CLASSES']}
    warnings.warn('The checkpoint has no dataset_meta or class names in its '
                  'meta data: using the COCO classes.')
    return {'classes': get_classes('coco')}


def _config_palette(config: Config) -> Optional[Union[str, list]]:
    """The palette of the config's test dataset, or None.

    Args:
        config (Config): A detector config.

    Returns:
        str | list[tuple[int, int, int]] | None: What the dataset's
        ``metainfo['palette']`` holds; None when the config has no test
        dataset or the dataset no palette.
    """
    dataset_cfg = (config.get('test_dataloader') or {}).get('dataset')
    if dataset_cfg is None:
        return None
    dataset_cfg = copy.deepcopy(dataset_cfg)
    dataset_cfg['lazy_init'] = True  # only the metainfo is needed
    return DATASETS.build(dataset_cfg).metainfo.get('palette')


def init_low_light_detector(config: Union[str, Path, Config],
                            checkpoint: Optional[str] = None,
                            device: str = 'cpu',
                            cfg_options: Optional[dict] = None,
                            backend: str = 'pytorch',
                            providers: Optional[Sequence[str]] = None
                            ) -> nn.Module:
    """Build a detector from a config and load a checkpoint weights-only.

    Same behaviour as :func:`mmdet.apis.init_detector` with the default
    palette, except that the checkpoint goes through
    :func:`lowlight.engine.pretrained.load_pretrained` (weights-only, and
    checked key by key against the model) and that the config's
    backbone is never touched, so wrappers such as ``LowLightDetector``
    (backbone under ``model.detector``) need no ``cfg_options`` work-around.

    Args:
        config (str | Path | Config): Config file path or a loaded config
            (a loaded config is copied, never changed).
        checkpoint (str, optional): Checkpoint file (a local path or an
            ``mmengine.fileio`` URI). Without it the weights stay randomly
            initialised and the COCO class names are used.
        device (str): Torch device of the returned model, e.g. ``'cpu'`` or
            ``'cuda:0'``. Defaults to 'cpu'.
        cfg_options (dict, optional): Overrides merged into the config.
        backend (str): ``'pytorch'`` (the checkpoint is a ``.pth``) or
            ``'onnxruntime'`` (the checkpoint is a ``.onnx`` file exported
            from this config; an :class:`OnnxRuntimeDetector` runs it,
            class names from its metadata). Defaults to 'pytorch'.
        providers (Sequence[str], optional): ONNX Runtime execution
            providers in order of preference, e.g.
            ``['CUDAExecutionProvider', 'CPUExecutionProvider']``; only with
            ``backend='onnxruntime'``. Defaults to the CPU provider.

    Returns:
        nn.Module: The detector in eval mode on ``device``, with
        ``model.cfg`` (the config used) and ``model.dataset_meta`` (dict:
        ``classes`` from the checkpoint's meta data, ``palette`` from the
        config's test dataset, else from the checkpoint, else ``'random'``).

    Raises:
        TypeError: If ``config`` is neither a path nor a ``Config``.
        ValueError: If ``backend`` is unknown, onnxruntime without a
            model file, or ``providers`` with the pytorch backend.
        lowlight.engine.CheckpointLoadError: If the checkpoint is missing,
            truncated or damaged, or holds Python objects beyond tensors and
            plain values (it is then never unpickled); if it does not fit
            the model (tensors of other shapes, or detector tensors missing:
            a checkpoint of another model or class count; only T2 additions
            may be missing, as from a plain detector's checkpoint, and keep
            their identity initialisation); for onnxruntime, if
            the file is not an export of this config; a ``.onnx`` file
            with the pytorch backend or another file with onnxruntime
            (:class:`lowlight.deployment.ModelFileError`).
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if backend == 'onnxruntime' and checkpoint is None:
        raise ValueError('the onnxruntime backend needs an exported .onnx '
                         'model file as checkpoint')
    if providers and backend != 'onnxruntime':
        raise ValueError('execution providers are an onnxruntime setting; '
                         f'the {backend} backend takes none')
    if checkpoint is not None:
        check_backend_file(backend, str(checkpoint))
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif isinstance(config, Config):
        config = copy.deepcopy(config)
    else:
        raise TypeError('config must be a file path or a Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    scope = config.get('default_scope', 'mmdet')
    if scope is not None:
        init_default_scope(scope)
    if backend == 'onnxruntime':
        config.model = backend_model_cfg(
            config.model, checkpoint, providers=providers)
        model = MODELS.build(config.model)
        model.dataset_meta = {'classes': list(model.metadata.classes)}
    elif checkpoint is None:
        model = revert_sync_batchnorm(MODELS.build(config.model))
        warnings.warn('No checkpoint: random weights, COCO class names.')
        model.dataset_meta = {'classes': get_classes('coco')}
    else:
        model = revert_sync_batchnorm(MODELS.build(config.model))
        loaded = load_pretrained(model, str(checkpoint))
        model.dataset_meta = _checkpoint_dataset_meta(loaded.get('meta', {}))
    palette = _config_palette(config)
    if palette is not None:
        model.dataset_meta['palette'] = palette
    else:
        model.dataset_meta.setdefault('palette', 'random')
    model.cfg = config
    return model.to(device).eval()
