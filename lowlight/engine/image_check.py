"""Check at dataset build time that every image of a dataset can be read."""
import os.path as osp
from typing import List, Tuple

import cv2
import mmcv
from mmengine.fileio import exists as fileio_exists
from mmengine.fileio import get as fileio_get
from mmengine.logging import print_log

#: How thoroughly :func:`check_dataset_images` looks at each image.
CHECK_LEVELS = ('off', 'exists', 'header', 'decode')


class DatasetImageError(FileNotFoundError):
    """Images listed by a dataset are missing or unreadable."""


def _image_problem(path: str, level: str) -> str:
    """Return why ``path`` is not a usable image, or '' if it is."""
    if '://' in path:  # e.g. a petrel or http backend: ask mmengine.fileio
        if not fileio_exists(path):
            return 'missing'
        if level == 'decode' and mmcv.imfrombytes(fileio_get(path)) is None:
            return 'cannot be decoded'
        return ''
    if not osp.isfile(path):
        return 'missing'
    if level == 'exists':
        return ''
    if osp.getsize(path) == 0:
        return 'empty file'
    if not cv2.haveImageReader(path):
        return 'not an image format OpenCV can read'
    if level == 'decode':
        with open(path, 'rb') as f:
            if mmcv.imfrombytes(f.read()) is None:
                return 'cannot be decoded (truncated or damaged)'
    return ''


def check_dataset_images(dataset,
                         level: str = 'header',
                         on_invalid: str = 'error',
                         max_listed: int = 20) -> int:
    """Check that every entry's ``img_path`` is a readable image.

    Works with any mmengine dataset that has ``get_data_info`` (mmdet's
    datasets, ours, and mmengine's dataset wrappers).

    Args:
        dataset (BaseDataset): A fully initialised dataset.
        level (str): ``'off'``; ``'exists'`` (the file exists);
            ``'header'`` (also non-empty and of an image format OpenCV
            reads, from the file's first bytes; fast); ``'decode'`` (also
            decodes every image, which finds truncated files but reads the
            whole dataset). Defaults to 'header'.
        on_invalid (str): ``'error'`` raises :class:`DatasetImageError`
            listing the bad files; ``'skip'`` removes their entries from the
            dataset (``get_subset_``) and logs how many. Defaults to 'error'.
        max_listed (int): At most this many bad files are named in the
            message. Defaults to 20.

    Returns:
        int: How many entries were skipped (0 unless ``on_invalid='skip'``).

    Raises:
        DatasetImageError: If images are missing or unreadable and
            ``on_invalid='error'``.
        ValueError: If ``level`` or ``on_invalid`` is not a known value.
    """
    if level not in CHECK_LEVELS:
        raise ValueError(f'image_check level must be one of {CHECK_LEVELS}, '
                         f'got {level!r}')
    if on_invalid not in ('error', 'skip'):
        raise ValueError("image_check on_invalid must be 'error' or 'skip', "
                         f'got {on_invalid!r}')
    if level == 'off' or not hasattr(dataset, 'get_data_info'):
        return 0
    keep: List[int] = []
    bad: List[Tuple[str, str]] = []
    for index in range(len(dataset)):
        path = dataset.get_data_info(index).get('img_path')
        problem = _image_problem(path, level) if path else ''
        if problem:
            bad.append((path, problem))
        else:
            keep.append(index)
    if not bad:
        return 0
    name = type(dataset).__name__
    source = getattr(dataset, 'ann_file', '') or ''
    where = f'{name} ({source})' if source else name
    if on_invalid == 'skip':
        dataset.get_subset_(keep)
        print_log(
            f'{where}: skipped {len(bad)} of {len(bad) + len(keep)} entries '
            f'whose image is missing or unreadable, e.g. {bad[0][0]} '
            f'({bad[0][1]}).',
            logger='current',
            level=30)
        return len(bad)
    listed = '\n'.join(f'  {path}: {problem}'
                       for path, problem in bad[:max_listed])
    more = (f'\n  ... and {len(bad) - max_listed} more'
            if len(bad) > max_listed else '')
    raise DatasetImageError(
        f'{where}: {len(bad)} of {len(bad) + len(keep)} images are missing '
        f'or unreadable:\n{listed}{more}\nCheck data_root and data_prefix, '
        "or set image_check=dict(on_invalid='skip') in the config (or "
        "--cfg-options image_check.on_invalid=skip) to train without them.")
