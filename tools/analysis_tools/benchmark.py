"""Parameters, FLOPs, latency and throughput of an mmdet detector, on CPU
or GPU, optionally against a second detector measured in the same run.

mmdet's own ``benchmark.py`` times inference on CUDA only. This tool runs on
either device and answers "what does this model cost?" with numbers that
survive a noisy machine:

* **Parameters** of the whole detector and **FLOPs** (one fused
  multiply-add counts as one FLOP, as in mmengine/fvcore) for one image of
  ``--shape``, counted by :mod:`mmengine.analysis` on the tensor-mode
  forward (no post-processing). Operators the analyser cannot count are
  listed in the output, never silently dropped; mmcv's modulated deformable
  convolution (DCNv2) is counted like the convolution it replaces.
* **Latency per image**: ``model.test_step`` on a batch of one image, i.e.
  data preprocessor (normalisation, padding, colour order) + enhancer (for
  ``LowLightDetector``) + backbone + neck + head + post-processing (box
  decoding, NMS, rescaling). Image decoding and the test pipeline's resize
  are not included: the input is a fixed, seeded random image of ``--shape``.
  After a warm-up, iterations run in rounds until the median changes by less
  than ``--rel-tol`` between rounds (or ``--max-time`` is reached, which the
  output reports as "not stable"). Median and 90th percentile are reported.
* **Throughput** in images per second at ``--batch-size``, measured the same
  way on a batch of that size.

With ``--compare CONFIG2`` both models are built and measured in the same
process, interleaved (A, B, A, B, ...), so both see the same machine load,
and the ratios B / A are printed. Post-processing cost depends on how many
boxes pass the score threshold, so random weights and trained weights can
differ slightly; pass ``--checkpoint`` for trained weights.

Example::

    python tools/analysis_tools/benchmark.py \\
        configs/baselines/yolov3_d53_8xb8-ms-608-24e_exdark.py \\
        --compare configs/t2/t2_yolov3_d53_8xb8-ms-608-24e_exdark.py \\
        --shape 608 608 --device cpu --out work_dirs/benchmark/yolov3.json
"""
import argparse
import os
import platform
import sys
import time
from functools import partial

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.config import DictAction

# importing lowlight registers its modules
from lowlight.apis import init_low_light_detector
from lowlight.engine import exit_on_checkpoint_error
from lowlight.utils import atomic_dump_json

# jit node names under which mmcv's deformable convolutions appear in a
# traced graph, with the position of the weight among the op's inputs.
_DCN_WEIGHT_INDEX = {
    'prim::PythonOp.ModulatedDeformConv2dFunction': 3,
    'prim::PythonOp.DeformConv2dFunction': 2,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark an mmdet detector (params, FLOPs, latency, '
        'throughput) on CPU or GPU, optionally against a second one.')
    parser.add_argument('config', help='config of model A')
    parser.add_argument(
        '--compare',
        metavar='CONFIG2',
        help='config of model B; both '
        'models are measured in the same run, interleaved')
    parser.add_argument(
        '--checkpoint',
        nargs='+',
        default=[],
        metavar='CKPT',
        help='checkpoint of model A (and of model B with --compare); '
        'loaded with torch\'s safe weights_only loader. Random weights '
        'when omitted')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[640, 640],
        metavar=('H', 'W'),
        help='input image height and width (default: 640 640)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='batch size for the throughput measurement (default: 1)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda[:N] (default: cuda when available)')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='CPU threads for torch (default: torch\'s choice)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='warm-up iterations per model (default: 3)')
    parser.add_argument(
        '--min-iters',
        type=int,
        default=10,
        help='minimum timed iterations per model (default: 10)')
    parser.add_argument(
        '--round-size',
        type=int,
        default=5,
        help='iterations per model between stability checks (default: 5)')
    parser.add_argument(
        '--rel-tol',
        type=float,
        default=0.01,
        help='stop when the median moves less than this fraction between '
        'rounds (default: 0.01)')
    parser.add_argument(
        '--max-time',
        type=float,
        default=300.,
        help='seconds of timing per measurement before giving up on '
        'stability (default: 300)')
    parser.add_argument(
        '--skip-flops', action='store_true', help='do not count FLOPs')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of both configs, as in tools/train.py')
    args = parser.parse_args(argv)
    n_models = 2 if args.compare else 1
    if len(args.checkpoint) > n_models:
        parser.error(f'--checkpoint takes at most {n_models} path(s) here, '
                     f'got {len(args.checkpoint)}')
    if args.batch_size < 1 or min(args.shape) < 1:
        parser.error('--batch-size and --shape must be positive')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device} was asked for, but torch '
                     'sees no CUDA device; use --device cpu')
    return args


def make_batch(height, width, batch_size, seed=0):
    """A batch of seeded random uint8 images as a dataloader would give it.

    Returns:
        dict: ``inputs`` (list of (3, H, W) uint8 tensors) and
        ``data_samples`` (list of :class:`DetDataSample` with the metainfo
        mmdet's test pipeline would set for an unresized image).
    """
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(
            torch.randint(
                0, 256, (3, height, width), generator=gen, dtype=torch.uint8))
        samples.append(
            DetDataSample(
                metainfo=dict(
                    img_id=i,
                    img_path=f'random_{i}.png',
                    ori_shape=(height, width),
                    img_shape=(height, width),
                    scale_factor=(1., 1.))))
    return dict(inputs=inputs, data_samples=samples)


def _dcn_flop_handle(weight_index, inputs, outputs):
    """FLOPs of mmcv's (modulated) deformable conv: those of the convolution
    it computes (output elements x input channels per group x kernel area);
    the bilinear sampling at the offsets is not counted."""
    _, cin_per_group, kh, kw = get_shape(inputs[weight_index])
    return int(np.prod(get_shape(outputs[0]))) * cin_per_group * kh * kw


def make_flop_analyzer(model, inputs):
    """An mmengine :class:`FlopAnalyzer` for ``model(inputs)`` that also
    counts mmcv's deformable convolutions and stays quiet about uncounted
    operators (:meth:`FlopAnalyzer.unsupported_ops` lists them)."""
    analyzer = FlopAnalyzer(model, inputs)
    for op, weight_index in _DCN_WEIGHT_INDEX.items():
        analyzer.set_op_handle(op, partial(_dcn_flop_handle, weight_index))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer


def count_complexity(model, height, width, skip_flops=False):
    """Parameters and FLOPs of a detector for one image.

    FLOPs are those of the tensor-mode forward (``model._forward``: enhancer,
    backbone, neck and head, without post-processing) on one image of
    ``height`` x ``width`` after the data preprocessor.

    Returns:
        dict: ``params`` (int), ``flops`` (int or None) and
        ``unsupported_ops`` (dict op name -> number of uncounted calls).
    """
    result = dict(
        params=parameter_count(model)[''], flops=None, unsupported_ops={})
    if skip_flops:
        return result
    data = model.data_preprocessor(make_batch(height, width, 1), False)
    # Trace the tensor-mode forward; the data samples carry the metainfo.
    model.forward = partial(model.forward, data_samples=data['data_samples'])
    try:
        analyzer = make_flop_analyzer(model, data['inputs'])
        result['flops'] = int(analyzer.total())
        result['unsupported_ops'] = dict(analyzer.unsupported_ops())
    finally:
        del model.forward  # back to the class's forward
    return result


def _summary(times, batch_size):
    times = np.asarray(times)
    median = float(np.median(times))
    return dict(
        iterations=int(times.size),
        median_s=median,
        p90_s=float(np.percentile(times, 90)),
        mean_s=float(times.mean()),
        per_image_ms=1000. * median / batch_size,
        p90_per_image_ms=1000. * float(np.percentile(times, 90)) / batch_size,
        images_per_s=batch_size / median)


def time_interleaved(steps,
                     batch_size,
                     warmup=3,
                     min_iters=10,
                     round_size=5,
                     rel_tol=0.01,
                     max_time=300.,
                     sync=None):
    """Time several callables interleaved until their medians are stable.

    Args:
        steps (dict[str, callable]): name -> function running one batch.
        batch_size (int): images per call, for the per-image figures.
        warmup (int): untimed calls per function first.
        min_iters (int): minimum timed calls per function.
        round_size (int): calls per function between stability checks.
        rel_tol (float): stop once no median moved more than this fraction
            in the last round.
        max_time (float): seconds of timing after which to stop anyway.
        sync (callable, optional): called before reading the clock (e.g.
            ``torch.cuda.synchronize`` on GPU).

    Returns:
        dict: name -> summary (median, p90, mean, per image, images/s,
        iterations), plus ``stable`` (bool) per name.
    """
    sync = sync or (lambda: None)
    for _ in range(warmup):
        for step in steps.values():
            step()
    sync()
    times = {name: [] for name in steps}
    previous = {name: None for name in steps}
    start = time.perf_counter()
    stable = False
    while True:
        for _ in range(round_size):
            for name, step in steps.items():
                tic = time.perf_counter()
                step()
                sync()
                times[name].append(time.perf_counter() - tic)
        medians = {name: float(np.median(t)) for name, t in times.items()}
        enough = len(next(iter(times.values()))) >= min_iters
        stable = enough and all(previous[n] is not None and abs(
            medians[n] - previous[n]) <= rel_tol * previous[n] for n in steps)
        previous = medians
        if stable or (enough and time.perf_counter() - start > max_time):
            break
    return {
        name: dict(_summary(t, batch_size), stable=stable)
        for name, t in times.items()
    }


def _predict_step(model, data_batch):
    """One inference call as mmengine's test loop makes it."""

    def step():
        with torch.no_grad():
            model.test_step(data_batch)

    return step


def _fmt(value, unit=''):
    if value is None:
        return 'n/a'
    for div, suffix in ((1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if abs(value) >= div:
            return f'{value / div:.2f}{suffix}{unit}'
    return f'{value:.0f}{unit}'


def format_table(results):
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


def _progress(message):
    print(
        f'[{time.strftime("%H:%M:%S")}] {message}',
        file=sys.stderr,
        flush=True)


def benchmark(args):
    """Run every measurement described by ``args``; return the results."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    sync = torch.cuda.synchronize if device.startswith('cuda') else None
    configs = {'A': args.config}
    if args.compare:
        configs['B'] = args.compare
    checkpoints = dict(zip(configs, args.checkpoint))
    height, width = args.shape
    models, entries = {}, {}
    for key, config in configs.items():
        _progress(f'{key}: building {config}' +
                  ('' if args.skip_flops else ' and counting FLOPs'))
        torch.manual_seed(0)
        models[key] = init_low_light_detector(config, checkpoints.get(key),
                                              device, args.cfg_options)
        entries[key] = dict(
            config=config,
            checkpoint=checkpoints.get(key),
            **count_complexity(models[key], height, width, args.skip_flops))
    timing = dict(
        warmup=args.warmup,
        min_iters=args.min_iters,
        round_size=args.round_size,
        rel_tol=args.rel_tol,
        max_time=args.max_time,
        sync=sync)
    _progress(f'timing latency at batch size 1 ({", ".join(models)}, '
              'interleaved)')
    one = make_batch(height, width, 1)
    latency = time_interleaved(
        {
            k: _predict_step(m, one)
            for k, m in models.items()
        }, 1, **timing)
    if args.batch_size == 1:
        throughput = latency
    else:
        _progress(f'timing throughput at batch size {args.batch_size}')
        batch = make_batch(height, width, args.batch_size)
        throughput = time_interleaved(
            {
                k: _predict_step(m, batch)
                for k, m in models.items()
            }, args.batch_size, **timing)
    for key, entry in entries.items():
        entry.update(
            latency_ms=latency[key]['per_image_ms'],
            latency_p90_ms=latency[key]['p90_per_image_ms'],
            images_per_s=throughput[key]['images_per_s'],
            latency=latency[key],
            throughput=throughput[key])
    results = dict(
        shape=[height, width],
        batch_size=args.batch_size,
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
    if args.compare:
        for key in ('params', 'flops', 'latency_ms', 'latency_p90_ms',
                    'images_per_s'):
            a, b = entries['A'][key], entries['B'][key]
            results['ratios'][key] = None if not a or b is None else b / a
    return results


def main(argv=None):
    args = parse_args(argv)
    with exit_on_checkpoint_error():
        results = benchmark(args)
    print(f'device: {results["device"]} ({results["device_name"]}), '
          f'torch threads: {results["torch_threads"]}, input '
          f'{args.shape[0]}x{args.shape[1]}')
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
    if args.out:
        atomic_dump_json(results, args.out, indent=2)
        print(f'results written to {args.out}')
    return results


if __name__ == '__main__':
    main()
