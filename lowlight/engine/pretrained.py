"""Fine-tuning from a pretrained detector, checked key by key.

A ``load_from`` checkpoint that does not fit the model must never leave the
model silently at its random initialisation. mmengine only logs missing
keys and shape mismatches as warnings; :func:`check_pretrained_fit` turns
them into one error naming the file and the keys, except for the parts a
pretrained *plain* detector cannot have: the T2 additions (enhancer,
illumination guidance, semantic aggregation), which start as the identity.
"""
from typing import Iterable, List, Sequence, Tuple

from mmengine.logging import print_log
from torch import nn

from ..models.backbones import IlluminationGuidedBackbone
from ..models.necks import AggregationNeck
from .checkpoint import CheckpointLoadError, load_checkpoint_safely

#: how many keys an error message lists before it says "and N more"
MAX_LISTED = 8


class PretrainedMismatchError(CheckpointLoadError):
    """A ``load_from`` checkpoint is of another model or class count."""


def t2_addition_prefixes(model: nn.Module) -> Tuple[str, ...]:
    """State-dict prefixes of the modules a plain detector does not have.

    Args:
        model (nn.Module): The model being fine-tuned (a
            ``LowLightDetector`` or any mmdet detector).

    Returns:
        tuple[str]: Prefixes such as ``'enhancer.'``,
        ``'detector.backbone.guidance.'`` or ``'detector.neck.1.'``.
    """
    prefixes = []
    for name, module in model.named_modules():
        if name in ('enhancer', 'input_correction', 'reflectance_input'):
            prefixes.append(f'{name}.')
        elif isinstance(module, AggregationNeck):
            prefixes.append(f'{name}.')
        elif isinstance(module, IlluminationGuidedBackbone):
            prefixes.extend(f'{name}.{child}.'
                            for child, _ in module.named_children()
                            if child != 'backbone')
    return tuple(prefixes)


def _listed(keys: Sequence[str]) -> str:
    shown = ', '.join(keys[:MAX_LISTED])
    more = len(keys) - MAX_LISTED
    return shown + (f' and {more} more' if more > 0 else '')


def check_pretrained_fit(model: nn.Module, filename: str,
                         missing: Iterable[str], mismatched: Iterable[str],
                         loaded: int) -> List[str]:
    """Refuse a pretrained checkpoint that leaves the detector random.

    Args:
        model (nn.Module): The model the checkpoint was loaded into.
        filename (str): The checkpoint, for the message.
        missing (Iterable[str]): Model keys the checkpoint did not provide.
        mismatched (Iterable[str]): Keys whose shapes differ, as
            ``'key: checkpoint shape vs model shape'``.
        loaded (int): How many tensors were loaded.

    Returns:
        list[str]: The missing keys that are T2 additions (kept at their
        initialisation), for the log.

    Raises:
        PretrainedMismatchError: If shapes differ (e.g. another class
            count), nothing was loaded, or keys of the detector itself are
            missing (another model).
    """
    mismatched = sorted(mismatched)
    if mismatched:
        raise PretrainedMismatchError(
            f'checkpoint {filename} does not fit the model: '
            f'{len(mismatched)} tensor(s) have other shapes (another class '
            f'count or architecture?): {_listed(mismatched)}')
    additions = t2_addition_prefixes(model)
    missing = sorted(missing)
    own = [k for k in missing if not k.startswith(additions)]
    if own or not loaded:
        raise PretrainedMismatchError(
            f'checkpoint {filename} does not fit the model: '
            f'{len(own)} of its detector\'s tensors are not in the file '
            f'(another model?): {_listed(own) or "none loaded"}')
    return [k for k in missing if k.startswith(additions)]


def load_pretrained(model: nn.Module, filename: str) -> dict:
    """Load ``load_from`` weights safely and check that they fit.

    Args:
        model (nn.Module): The (unwrapped) model.
        filename (str): The checkpoint.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        CheckpointLoadError: If the file is missing, damaged or unsafe.
        PretrainedMismatchError: If it does not fit the model (see
            :func:`check_pretrained_fit`).
    """
    checkpoint = load_checkpoint_safely(filename)
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict):
        raise PretrainedMismatchError(
            f'checkpoint {filename} holds no state dict')
    state = {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in state.items()
    }
    if hasattr(model, 'map_plain_state_dict'):
        state = model.map_plain_state_dict(state)
    own = model.state_dict()
    mismatched = [
        f'{k}: {tuple(v.shape)} vs {tuple(own[k].shape)}'
        for k, v in state.items() if k in own and v.shape != own[k].shape
    ]
    loaded = sum(1 for k in state if k in own)
    kept = check_pretrained_fit(model, filename,
                                [k for k in own if k not in state], mismatched,
                                loaded)
    unexpected = sorted(k for k in state if k not in own)
    model.load_state_dict(state, strict=False)
    print_log(
        f'Loaded {loaded} tensors from {filename}; T2 additions kept at '
        f'their initialisation: {len(kept)} tensors' +
        (f'; not used from the file: {_listed(unexpected)}'
         if unexpected else ''),
        logger='current')
    return checkpoint
