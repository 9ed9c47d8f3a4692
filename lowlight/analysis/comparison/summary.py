"""The comparison's summary: mean and sample standard deviation of AP@0.5
per variant, overall and per lighting type, beside the decomposition
scores; written as ``results.md`` and ``results.json``."""
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lowlight.evaluation import SCORE_NAMES
from lowlight.utils import atomic_dump_json, atomic_write_text
from .variants import descriptions as row_descriptions


def ap50_keys(metrics: Dict[str, float]) -> Tuple[Optional[str], Dict]:
    """The overall AP@0.5 key and the per-lighting-type AP@0.5 keys of a
    ``LightingAwareVOCMetric`` result (``voc/mAP``,
    ``voc/AP50_light_<Name>``).

    Returns:
        tuple[str | None, dict]: overall key, lighting name -> key.
    """
    overall = [k for k in metrics if re.search(r'(^|/)mAP$', k)]
    lighting = {}
    for key in metrics:
        match = re.search(r'(?:^|/)AP50_light_(\w+)$', key)
        if match:
            lighting[match.group(1)] = key
    return (overall[0] if overall else None), lighting


def overall_ap50(result: Dict,
                 metrics_key: str = 'metrics') -> Optional[float]:
    """A run's overall test AP@0.5 in [0, 1] (its last val AP@0.5 with
    ``metrics_key='val_metrics'``), or None if it has none."""
    metrics = result.get(metrics_key) or {}
    overall, _ = ap50_keys(metrics)
    return None if overall is None else metrics[overall]


def summarise(results: Dict[str, List[Dict]], names: Sequence[str],
              descriptions: Dict[str, str]) -> Tuple[Dict, str]:
    """Mean and sample standard deviation of AP@0.5 per variant.

    Args:
        results (dict): variant -> list of per-run result dicts.
        names (list[str]): variants in table order.
        descriptions (dict): variant -> description.

    Returns:
        tuple[dict, str]: the summary and its markdown table.
    """
    summary, lighting_names = {}, []
    for name in names:
        runs = results.get(name, [])
        values = {}
        for run in runs:
            overall, lighting = ap50_keys(run['metrics'])
            if overall is not None:
                values.setdefault('overall',
                                  []).append(run['metrics'][overall])
            for light, key in lighting.items():
                values.setdefault(light, []).append(run['metrics'][key])
                if light not in lighting_names:
                    lighting_names.append(light)
        summary[name] = {
            col:
            dict(
                mean=float(np.mean(v)),
                sd=float(np.std(v, ddof=1)) if len(v) > 1 else None,
                n=len(v),
                values=v)
            for col, v in values.items()
        }
        val = [overall_ap50(run, 'val_metrics') for run in runs]
        val = [v for v in val if v is not None]
        if val:
            summary[name]['val'] = dict(
                mean=float(np.mean(val)),
                sd=float(np.std(val, ddof=1)) if len(val) > 1 else None,
                n=len(val),
                values=val)
        summary[name]['seeds'] = [run['seed'] for run in runs]
        scored = [
            run['decomposition'] for run in runs
            if 'log_corr' in (run.get('decomposition') or {})
        ]
        if scored:
            summary[name]['decomposition'] = {
                score: float(np.mean([d[score] for d in scored]))
                for score in SCORE_NAMES
            }

    def cell(stats):
        if stats is None:
            return ''
        text = f'{100 * stats["mean"]:.1f}'
        if stats['sd'] is not None:
            text += f' ± {100 * stats["sd"]:.1f}'
        return text

    def scores(row):
        decomposition = row.get('decomposition')
        if decomposition is None:
            return ['', '']
        return [
            f'{decomposition["log_corr"]:+.2f}',
            f'{decomposition["smoothness"]:.2f}'
        ]

    cols = ['overall'] + lighting_names + ['val']
    lines = [
        '| variant | seeds | ' +
        ' | '.join(['AP@0.5 overall'] +
                   [f'AP@0.5 {c}' for c in lighting_names] + ['val AP@0.5']) +
        ' | corr(log L, log L*) | smoothness of L |',
        '|' + '---|' * (len(cols) + 4)
    ]
    for name in names:
        row = summary[name]
        lines.append(f'| {descriptions[name]} (`{name}`) | '
                     f'{len(row["seeds"])} | ' +
                     ' | '.join([cell(row.get(c))
                                 for c in cols] + scores(row)) + ' |')
    note = (
        '\nAP@0.5 in percent (VOC, area mode) on the night sample test '
        'split: mean ± sample standard deviation over the seeds; val '
        'AP@0.5 on the val split at the end of training, where '
        'settings are chosen. Decomposition scores (mean over the seeds, test split, '
        '`lowlight.evaluation.decomposition_score`): correlation of '
        'log L with the renderer\'s true log illumination (1 = follows '
        'the light) and gradient energy of L relative to the image '
        '(0 = flat, > 1 = an edge map).\n')
    return summary, '\n'.join(lines) + '\n' + note


def per_seed_ap50(results: Dict[str, List[Dict]],
                  metrics_key: str = 'metrics') -> Dict:
    """``{variant: {seed: AP@0.5 in percent}}`` of the finished runs, on
    test (on val with ``metrics_key='val_metrics'``)."""
    table = {}
    for name, runs in results.items():
        for run in runs:
            value = overall_ap50(run, metrics_key)
            if value is not None:
                table.setdefault(name, {})[str(run['seed'])] = 100 * value
    return table


def per_seed_decomposition(results: Dict[str, List[Dict]]) -> Dict:
    """``{variant: {seed: {score: value}}}`` of the finished runs whose
    decomposition was scored against the true illumination."""
    table = {}
    for name, runs in results.items():
        for run in runs:
            scored = run.get('decomposition') or {}
            if 'log_corr' in scored:
                table.setdefault(name, {})[str(run['seed'])] = {
                    score: scored[score]
                    for score in SCORE_NAMES
                }
    return table


def write_summary(results: Dict[str, List[Dict]], names: Sequence[str],
                  settings, work_dir: str) -> Tuple[Dict, str]:
    """Summarise the finished runs into ``results.md`` and
    ``results.json`` in ``work_dir``; return the summary and its table.

    Args:
        results (dict): row name -> list of per-run result dicts.
        names (Sequence[str]): rows (variants, then reference rows) in
            table order.
        settings (ComparisonSettings): The comparison's settings; its
            command, protocol, epochs, seeds and configs are recorded.
        work_dir (str): Where the two files go.
    """
    results = {
        name: sorted(runs, key=lambda run: run['seed'])
        for name, runs in results.items()
    }
    summary, table = summarise(results, names, row_descriptions())
    atomic_dump_json(
        dict(
            command=settings.command,
            protocol=settings.protocol,
            epochs=settings.epochs,
            seeds=settings.seeds,
            configs=settings.configs,
            ap50=per_seed_ap50(results),
            ap50_val=per_seed_ap50(results, 'val_metrics'),
            decomposition=per_seed_decomposition(results),
            summary=summary),
        osp.join(work_dir, 'results.json'),
        indent=2)
    atomic_write_text(
        osp.join(work_dir, 'results.md'),
        f'Command: `{settings.command.strip()}`\n\n{table}')
    return summary, table
