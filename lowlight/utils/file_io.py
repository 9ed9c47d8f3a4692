"""Crash-safe file writing: write to a temporary name, then rename.

An interrupted run never leaves a truncated file (or a half-written folder)
under its final name.
"""
import json
import os
import os.path as osp
import shutil
import uuid
from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def atomic_path(path: str, suffix: str = '') -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on
    success, delete it on error.

    Args:
        path (str): The final file name. Its folder is created.
        suffix (str): Suffix of the temporary name, for writers that pick
            the format from the extension (e.g. ``'.mp4'``).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.'
                   f'{uuid.uuid4().hex[:8]}{suffix or ".tmp"}')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


@contextmanager
def atomic_dir(path: str) -> Iterator[str]:
    """Yield a new temporary folder beside ``path``; on success it replaces
    ``path`` (an existing folder there is removed first), on error it is
    deleted and ``path`` is left as it was.

    Args:
        path (str): The final folder. Its parent is created.
    """
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = osp.join(parent, f'.{osp.basename(osp.abspath(path))}.'
                   f'{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp')
    os.makedirs(tmp)
    try:
        yield tmp
        if osp.isdir(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file."""
    with atomic_path(path) as tmp:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)


def atomic_dump_json(obj: Any, path: str, **kwargs) -> None:
    """``json.dump`` ``obj`` to ``path`` through a temporary file."""
    atomic_write_text(path, json.dumps(obj, **kwargs))
