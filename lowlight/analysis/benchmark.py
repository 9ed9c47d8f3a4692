"""Parameters, FLOPs, latency and throughput of an mmdet detector, on CPU
or GPU, optionally against a second detector measured in the same run
(``tools/analysis_tools/benchmark.py``).

mmdet's own ``benchmark.py`` times inference on CUDA only. This runs on
either device and answers "what does this model cost?" with numbers that
survive a noisy machine:

* **Parameters** of the whole detector and **FLOPs** for one image, counted
  as :mod:`lowlight.analysis.complexity` says (uncounted operators are
  listed in the output).
* **Latency per image**: ``model.test_step`` on a batch of one image, i.e.
  data preprocessor (normalisation, padding, colour order) + enhancer (for
  ``LowLightDetector``) + backbone + neck + head + post-processing (box
  decoding, NMS, rescaling). Image decoding and the test pipeline's resize
  are not included: the input is a fixed, seeded random image. After a
  warm-up, iterations run in rounds until the median changes by less than
  ``rel_tol`` between rounds (or ``max_time`` is reached, which the output
  reports as "not stable"). Median and 90th percentile are reported.
* **Throughput** in images per second at ``batch_size``, measured the same
  way on a batch of that size.

With a second config both models are built and measured in the same
process, interleaved (A, B, A, B, ...; :mod:`lowlight.analysis.timing`), so
both see the same machine load, and the ratios B / A are given.
Post-processing cost depends on how many boxes pass the score threshold, so
random weights and trained weights can differ slightly.
"""
import os
import platform
import sys
import time
from typing import Dict, Optional, Sequence

import torch

from lowlight.apis import init_low_light_detector
from lowlight.testing import demo_batch
from lowlight.utils import atomic_dump_json
from .complexity import count_complexity
from .timing import time_interleaved

RATIO_KEYS = ('params', 'flops', 'latency_ms', 'latency_p90_ms',
              'images_per_s')


def check_arguments(num_configs: int, checkpoints: Sequence[str],
                    batch_size: int, shape: Sequence[int],
                    device: str) -> Optional[str]:
    """What is wrong with a benchmark's arguments, or None."""
    if len(checkpoints) > num_configs:
        return (f'--checkpoint takes at most {num_configs} path(s) here, '
                f'got {len(checkpoints)}')
    if batch_size < 1 or min(shape) < 1:
        return '--batch-size and --shape must be positive'
    if device.startswith('cuda') and not torch.cuda.is_available():
        return (f'--device {device} was asked for, but torch sees no CUDA '
                'device; use --device cpu')
    return None


def _predict_step(model, data_batch):
    """One inference call as mmengine's test loop makes it."""

    def step():
        with torch.no_grad():
            model.test_step(data_batch)

    return step


def _progress(message):
    print(
        f'[{time.strftime("%H:%M:%S")}] {message}',
        file=sys.stderr,
        flush=True)


def benchmark(configs: Sequence[str],
              checkpoints: Sequence[str] = (),
              shape: Sequence[int] = (640, 640),
              batch_size: int = 1,
              device: str = 'cpu',
              threads: Optional[int] = None,
              skip_flops: bool = False,
              cfg_options: Optional[Dict] = None,
              **timing) -> dict:
    """Measure one or two detectors (``A``, ``B``); return the results.

    Args:
        configs (list[str]): config of model A, and of model B.
        checkpoints (list[str]): their checkpoints (random weights for the
            missing ones), loaded with torch's weights-only loader.
        shape (tuple[int, int]): input height and width.
        batch_size (int): batch size of the throughput measurement.
        device (str): ``'cpu'`` or ``'cuda[:N]'``.
        threads (int, optional): CPU threads for torch.
        skip_flops (bool): do not count FLOPs.
        cfg_options (dict, optional): overrides of both configs.
        **timing: ``warmup``, ``min_iters``, ``round_size``, ``rel_tol``,
            ``max_time`` of :func:`~lowlight.analysis.timing.
            time_interleaved`.

    Returns:
        dict: the machine, ``models`` (per model: config, checkpoint,
        params, flops, unsupported_ops, latency_ms, latency_p90_ms,
        images_per_s and the ``latency`` and ``throughput`` summaries) and
        ``ratios`` (B / A).
    """
    if threads:
        torch.set_num_threads(threads)
    sync = torch.cuda.synchronize if device.startswith('cuda') else None
    configs = dict(zip('AB', configs))
    checkpoints = dict(zip(configs, checkpoints))
    height, width = shape
    models, entries = {}, {}
    for key, config in configs.items():
        _progress(f'{key}: building {config}' +
                  ('' if skip_flops else ' and counting FLOPs'))
        torch.manual_seed(0)
        models[key] = init_low_light_detector(config, checkpoints.get(key),
                                              device, cfg_options)
        entries[key] = dict(
            config=config,
            checkpoint=checkpoints.get(key),
            **count_complexity(models[key], height, width, skip_flops))
    _progress(f'timing latency at batch size 1 ({", ".join(models)}, '
              'interleaved)')
    one = demo_batch(height, width, 1)
    latency = time_interleaved(
        {
            k: _predict_step(m, one)
            for k, m in models.items()
        },
        1,
        sync=sync,
        **timing)
    if batch_size == 1:
        throughput = latency
    else:
        _progress(f'timing throughput at batch size {batch_size}')
        batch = demo_batch(height, width, batch_size)
        throughput = time_interleaved(
            {
                k: _predict_step(m, batch)
                for k, m in models.items()
            },
            batch_size,
            sync=sync,
            **timing)
    for key, entry in entries.items():
        entry.update(
            latency_ms=latency[key]['per_image_ms'],
            latency_p90_ms=latency[key]['p90_per_image_ms'],
            images_per_s=throughput[key]['images_per_s'],
            latency=latency[key],
            throughput=throughput[key])
    results = dict(
        shape=[height, width],
        batch_size=batch_size,
        device=device,
        device_name=(torch.cuda.get_device_name(device)
                     if device.startswith('cuda') else platform.processor()
                     or platform.machine()),
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        torch_version=torch.__version__,
        timed='model.test_step: data preprocessor + enhancer + backbone + '
        'neck + head + post-processing, on a seeded random image',
        models=entries,
        ratios={})
    if 'B' in entries:
        for key in RATIO_KEYS:
            a, b = entries['A'][key], entries['B'][key]
            results['ratios'][key] = None if not a or b is None else b / a
    return results


def _fmt(value, unit=''):
    if value is None:
        return 'n/a'
    for div, suffix in ((1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if abs(value) >= div:
            return f'{value / div:.2f}{suffix}{unit}'
    return f'{value:.0f}{unit}'


def format_table(results: dict) -> str:
    """Render the results as a fixed-width text table."""
    names = list(results['models'])
    rows = [('', *names)]
    if len(names) == 2:
        rows[0] += ('B / A', )

    def add(label, key, fmt):
        vals = [results['models'][n][key] for n in names]
        row = (label, *[fmt(v) for v in vals])
        if len(names) == 2:
            ratio = results['ratios'].get(key)
            row += ('n/a' if ratio is None else f'{ratio:.3f}', )
        rows.append(row)

    add('params', 'params', _fmt)
    add('FLOPs / image', 'flops', _fmt)
    add('latency median (ms/img)', 'latency_ms', lambda v: f'{v:.1f}')
    add('latency p90 (ms/img)', 'latency_p90_ms', lambda v: f'{v:.1f}')
    add(f'throughput @bs{results["batch_size"]} (img/s)', 'images_per_s',
        lambda v: f'{v:.2f}')
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = [
        '  '.join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows
    ]
    lines.insert(1, '-' * len(lines[0]))
    return '\n'.join(lines)


def report(results: dict, out: Optional[str] = None) -> None:
    """Print the machine, the models, any unstable timing and the table;
    write the results as JSON to ``out`` when given."""
    height, width = results['shape']
    print(f'device: {results["device"]} ({results["device_name"]}), '
          f'torch threads: {results["torch_threads"]}, input '
          f'{height}x{width}')
    for key, entry in results['models'].items():
        print(f'{key}: {entry["config"]}')
        if entry['unsupported_ops']:
            print(f'  FLOPs exclude uncounted ops: {entry["unsupported_ops"]}')
        for what in ('latency', 'throughput'):
            m = entry[what]
            if not m['stable']:
                print(f'  {what}: median not stable within --rel-tol after '
                      f'{m["iterations"]} iterations (--max-time reached)')
    print(format_table(results))
    if out:
        atomic_dump_json(results, out, indent=2)
        print(f'results written to {out}')
