"""The annotation files a config's datasets read, and a check that names
the missing ones with the command that makes them."""
import os.path as osp
from typing import List, Sequence, Tuple

from mmengine.config import Config

SPLITS = ('train', 'val', 'test')


def annotation_files(cfg: Config,
                     splits: Sequence[str] = SPLITS,
                     root: str = '') -> List[Tuple[str, str]]:
    """``(split, path)`` of every annotation file the ``<split>_dataloader``
    datasets of ``cfg`` read, through dataset wrappers (``RepeatDataset``,
    ``ConcatDataset``, ...); relative paths are joined to ``root`` (the
    working directory the runs start in)."""
    files = []
    for split in splits:
        pending = [(cfg.get(f'{split}_dataloader') or {}).get('dataset')]
        while pending:
            dataset = pending.pop()
            if not isinstance(dataset, dict):
                continue
            pending += [dataset.get('dataset')] + list(
                dataset.get('datasets') or [])
            if dataset.get('ann_file'):
                files.append((split,
                              osp.normpath(
                                  osp.join(root,
                                           dataset.get('data_root') or '',
                                           dataset['ann_file']))))
    return files


def making_command(path: str) -> str:
    """The command that writes the annotation file ``path``, as far as its
    place tells (the embedded night sample, its day twins, ExDark, DARK
    FACE); else where to read how."""
    parts = osp.normpath(path).split(osp.sep)
    if 'annotations' not in parts:
        return 'see data/README.md'
    data = osp.sep.join(parts[:parts.index('annotations')]) or '.'
    if parts[-2:-1] == ['annotations'] and 'night_sample' in parts:
        if osp.basename(data) == 'day':
            sample = osp.dirname(data)
            return (f'python tools/misc/make_night_sample.py {sample} && '
                    f'python tools/dataset_converters/exdark.py {data} '
                    f'{data}')
        return (f'python tools/misc/make_night_sample.py {data} && '
                f'python tools/dataset_converters/exdark.py {data} {data}')
    name = osp.basename(parts[-1]).lower()
    for dataset in ('exdark', 'darkface'):
        if name.startswith(dataset):
            return (f'python tools/dataset_converters/{dataset}.py '
                    f'RAW_{dataset.upper()}_ROOT {data} (see data/README.md)')
    return 'see data/README.md'


def check_annotation_files(cfg: Config,
                           config_name: str,
                           splits: Sequence[str] = SPLITS,
                           root: str = '') -> None:
    """Raise before any dataset is built when an annotation file is missing.

    Raises:
        FileNotFoundError: naming each missing file, the config that reads
            it and the command that makes it.
    """
    missing = [(split, path)
               for split, path in annotation_files(cfg, splits, root)
               if not osp.isfile(path)]
    if missing:
        raise FileNotFoundError('; '.join(
            f'{path} ({split} split of {config_name}) does not exist; '
            f'make it with: {making_command(path)}'
            for split, path in missing))


def exit_if_annotation_files_missing(cfg: Config, config_name: str,
                                     splits: Sequence[str]) -> None:
    """:func:`check_annotation_files` for a command-line tool: a missing
    file ends it with one message (``SystemExit('error: ...')``, exit
    status 1), not a traceback from deep inside the dataset."""
    try:
        check_annotation_files(cfg, config_name, splits)
    except FileNotFoundError as error:
        raise SystemExit(f'error: {error}') from None
