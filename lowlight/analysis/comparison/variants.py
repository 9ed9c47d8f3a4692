"""What the comparison on the embedded night sample compares: its variants
(T2, its baselines and ablations), the reference rows of the pretrained
protocol, and the config each run reads after its ``--cfg-options``.

Configs are named relative to :data:`REPO_ROOT`, where the runs start.
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Sequence

from mmengine.config import Config, DictAction

#: The checkout whose ``configs/`` and ``tools/`` the runs use: the one that
#: holds this package (``tools/install.sh`` installs it in place).
REPO_ROOT = str(Path(__file__).resolve().parents[3])

_SAMPLE = 'yolov3_mobilenetv2_1xb8-256-8e_night-sample.py'
#: name -> (description, config relative to the repository root), in table
#: order. All inherit the T2 sample config: same data, schedule and detector.
VARIANTS = {
    'plain': ('plain detector', f'configs/t2/ablations/plain_{_SAMPLE}'),
    'preprocess': ('frozen enhancer as pre-processing',
                   f'configs/t2/ablations/preprocess_{_SAMPLE}'),
    't2': ('T2 (decomposition + guidance + aggregation)',
           f'configs/t2/t2_{_SAMPLE}'),
    't2_no_guidance': ('T2 without illumination guidance',
                       f'configs/t2/ablations/t2-noguide_{_SAMPLE}'),
    't2_no_aggregation': ('T2 without semantic aggregation',
                          f'configs/t2/ablations/t2-noagg_{_SAMPLE}'),
}
#: The pre-processing baseline's frozen enhancer is the one T2 learned with
#: the same seed, so T2 runs first.
ENHANCER_FROM = {'preprocess': 't2'}
#: --quick: one seed, this many epochs (its wall time: configs/t2/README.md)
QUICK_EPOCHS = 2
PROTOCOLS = ('pretrained', 'scratch')
#: Reference rows of the pretrained protocol: name -> (description, variant
#: whose config is tested, variant whose run of the seed it needs).
REFERENCES = {
    'zero_shot': ('pretrained detector, no fine-tuning', 'plain', None),
    'zero_shot_preprocess': ('pretrained detector behind the T2 enhancer, '
                             'no fine-tuning', 'preprocess', 't2'),
    'day_upper_bound':
    ('fine-tuned plain detector on the day twins', 'plain', 'plain'),
}


def descriptions() -> Dict[str, str]:
    """Row name (variant or reference) -> its description."""
    rows = {name: description for name, (description, _) in VARIANTS.items()}
    rows.update({name: row[0] for name, row in REFERENCES.items()})
    return rows


def variant_configs(variants: Sequence[str],
                    overrides: Sequence[str] = ()) -> Dict[str, str]:
    """The config of each variant in ``variants``, in that order.

    Args:
        variants (Sequence[str]): Names from :data:`VARIANTS`.
        overrides (Sequence[str]): ``NAME=CONFIG`` strings that point a
            variant at another config.

    Raises:
        ValueError: On a malformed override or unknown name, or when a
            variant reuses the enhancer of a variant not in ``variants``.
    """
    configs = {name: cfg for name, (_, cfg) in VARIANTS.items()}
    for item in overrides:
        name, sep, config = item.partition('=')
        if not sep or name not in VARIANTS:
            raise ValueError(f'--variant {item!r}: expected NAME=CONFIG with '
                             f'NAME in {", ".join(VARIANTS)}')
        configs[name] = config
    unknown = [name for name in variants if name not in VARIANTS]
    if unknown:
        raise ValueError(f'unknown variant(s) {", ".join(unknown)}: expected '
                         f'names in {", ".join(VARIANTS)}')
    selected = {name: configs[name] for name in variants}
    for name, source in ENHANCER_FROM.items():
        if name in selected and source not in selected:
            raise ValueError(f'variant {name} reuses the enhancer of variant '
                             f'{source}: add {source} to --variants')
    return selected


def merged_config(config: str, cfg_options: Sequence[str]) -> Config:
    """``config`` (relative to :data:`REPO_ROOT`) after ``cfg_options``
    (``KEY=VALUE`` strings, parsed as ``--cfg-options`` are)."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    if cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--options', nargs='+', action=DictAction)
        cfg.merge_from_dict(
            parser.parse_args(['--options', *cfg_options]).options)
    return cfg


def schedule_options(config: str, epochs: int) -> List[str]:
    """``--cfg-options`` that set a config's schedule to ``epochs``: the
    epoch count, a validation interval equal to the whole schedule, and the
    end of every epoch-based LR scheduler that ended with the schedule."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    options = [f'train_cfg.max_epochs={epochs}']
    old = cfg.get('train_cfg', {}).get('max_epochs')
    if old is None:
        return options
    if cfg.train_cfg.get('val_interval') == old:
        options.append(f'train_cfg.val_interval={epochs}')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = {'param_scheduler': schedulers}
    else:
        schedulers = {
            f'param_scheduler.{i}': sched
            for i, sched in enumerate(schedulers)
        }
    for key, sched in schedulers.items():
        if sched.get('by_epoch', True) and sched.get('end') == old:
            options.append(f'{key}.end={epochs}')
    return options


def check_pretrained(configs: Dict[str, str],
                     cfg_options: Sequence[str]) -> None:
    """Exit naming every variant whose config (after ``cfg_options``) has no
    ``load_from`` or whose ``load_from`` file is missing: under the
    pretrained protocol no variant may start from random weights."""
    problems = []
    for name, config in configs.items():
        load_from = merged_config(config, cfg_options).get('load_from')
        if not load_from:
            problems.append(f'{name} ({config}) has no load_from')
        elif not osp.isfile(osp.join(REPO_ROOT, load_from)):
            problems.append(f'{name}: load_from {load_from} not found')
    if problems:
        sys.exit('--protocol pretrained: ' + '; '.join(problems) +
                 ' (use --protocol scratch to train from random weights)')


def reference_names(configs: Dict[str, str]) -> List[str]:
    """The reference rows whose configs and prerequisite runs are among
    ``configs``' variants, in table order."""
    return [
        name for name, (_, tested, needs) in REFERENCES.items()
        if tested in configs and (needs is None or needs in configs)
    ]


def run_order(names: Sequence[str], seeds: Sequence[int]) -> List[tuple]:
    """``(name, seed)`` of every run, seed by seed; within a seed, variants
    that reuse another variant's enhancer come last."""
    order = ([n for n in names if n not in ENHANCER_FROM] +
             [n for n in names if n in ENHANCER_FROM])
    return [(name, seed) for seed in seeds for name in order]
