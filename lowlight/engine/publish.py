"""Publish a trained checkpoint the way a model zoo does.

Only the weights and a small ``meta`` are kept (no optimizer, scheduler or
message hub), floating-point tensors optionally stored as fp16 (they load
into an fp32 model as fp32), the file is written under a temporary name,
and the final name carries the first 8 hex digits of its sha256, as in
mmdet's model zoo: ``<stem>-<sha256[:8]>.pth``.
"""
import hashlib
import os
import os.path as osp
from typing import Tuple

import torch

from .checkpoint import load_checkpoint_safely

#: ``meta`` fields kept in a published checkpoint
KEPT_META = ('epoch', 'iter', 'mmdet_version', 'dataset_meta', 'seed',
             'experiment_name')


def sha256_of(path: str) -> str:
    """The sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def publish_checkpoint(in_file: str, out_stem: str,
                       fp16: bool = True) -> Tuple[str, str]:
    """Strip a training checkpoint and save it under a checksummed name.

    Args:
        in_file (str): A checkpoint saved by training (read weights-only).
        out_stem (str): Output path without the ``-<sha8>.pth`` ending.
        fp16 (bool): Store floating-point tensors as fp16. Defaults to True.

    Returns:
        tuple[str, str]: The published file and its full sha256.
    """
    checkpoint = load_checkpoint_safely(in_file)
    state = checkpoint['state_dict']
    if fp16:
        state = {
            k: v.half() if v.is_floating_point() else v
            for k, v in state.items()
        }
    meta = {
        k: v
        for k, v in (checkpoint.get('meta') or {}).items() if k in KEPT_META
    }
    out_dir = osp.dirname(osp.abspath(out_stem))
    os.makedirs(out_dir, exist_ok=True)
    partial = f'{out_stem}.part'
    torch.save(dict(state_dict=state, meta=meta), partial)
    digest = sha256_of(partial)
    final = f'{out_stem}-{digest[:8]}.pth'
    os.replace(partial, final)
    return final, digest
