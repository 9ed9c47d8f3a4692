"""The settings of one comparison, completed from what the user gave."""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from .variants import PROTOCOLS, QUICK_EPOCHS, VARIANTS, variant_configs


@dataclass
class ComparisonSettings:
    """What a comparison runs and where it writes.

    Attributes:
        configs (dict): Variant -> config (relative to the repository
            root), in table order.
        seeds (list[int]): Seeds, run one after the other.
        epochs (int, optional): Schedule length; None keeps the configs'.
        protocol (str): ``'pretrained'`` or ``'scratch'``.
        jobs (int): Runs at a time.
        work_dir (str): Where the runs and the summary go.
        cfg_options (list[str]): ``KEY=VALUE`` strings passed to every
            train and test call (``load_from=None`` first under the scratch
            protocol).
        dry_run (bool): Print the commands without running them.
        command (str): The command line recorded in ``results.md`` and
            ``results.json``.
        quick (bool): A first look (one seed, :data:`QUICK_EPOCHS`).
    """
    configs: Dict[str, str]
    seeds: List[int]
    epochs: Optional[int]
    protocol: str
    jobs: int
    work_dir: str
    cfg_options: List[str] = field(default_factory=list)
    dry_run: bool = False
    command: str = ''
    quick: bool = False


def comparison_settings(variants: Optional[Sequence[str]] = None,
                        overrides: Sequence[str] = (),
                        seeds: Optional[Sequence[int]] = None,
                        epochs: Optional[int] = None,
                        quick: bool = False,
                        protocol: str = 'pretrained',
                        jobs: int = 1,
                        work_dir: Optional[str] = None,
                        cfg_options: Sequence[str] = (),
                        dry_run: bool = False,
                        command: str = '') -> ComparisonSettings:
    """Settings with the defaults filled in.

    Args:
        variants (Sequence[str], optional): Variants to run; all of
            :data:`VARIANTS` by default.
        overrides (Sequence[str]): ``NAME=CONFIG`` strings
            (:func:`variant_configs`).
        seeds (Sequence[int], optional): Defaults to 0 1 2, or 0 when
            ``quick``.
        epochs (int, optional): Defaults to the configs' schedule, or
            :data:`QUICK_EPOCHS` when ``quick``.
        quick (bool): A first look: one seed, a short schedule.
        protocol (str): One of :data:`PROTOCOLS`.
        jobs (int): Runs at a time, >= 1.
        work_dir (str, optional): Defaults to
            ``work_dirs/compare_on_sample_<protocol>[_quick]``.
        cfg_options (Sequence[str]): Passed to every train and test call.
        dry_run (bool): Print the commands only.
        command (str): The command line to record.

    Raises:
        ValueError: On an unknown variant or protocol, a bad override, a
            variant without the variant whose enhancer it reuses, or
            ``jobs < 1``.
    """
    configs = variant_configs(
        list(VARIANTS) if variants is None else variants, overrides)
    if protocol not in PROTOCOLS:
        raise ValueError(f'unknown protocol {protocol!r}: expected one of '
                         f'{", ".join(PROTOCOLS)}')
    if jobs < 1:
        raise ValueError('--jobs must be >= 1')
    if seeds is None:
        seeds = [0] if quick else [0, 1, 2]
    if epochs is None and quick:
        epochs = QUICK_EPOCHS
    if work_dir is None:
        work_dir = osp.join(
            'work_dirs',
            f'compare_on_sample_{protocol}' + ('_quick' if quick else ''))
    cfg_options = list(cfg_options)
    if protocol == 'scratch':
        cfg_options = ['load_from=None'] + cfg_options
    return ComparisonSettings(
        configs=configs,
        seeds=list(seeds),
        epochs=epochs,
        protocol=protocol,
        jobs=jobs,
        work_dir=work_dir,
        cfg_options=cfg_options,
        dry_run=dry_run,
        command=command,
        quick=quick)
