"""Parameters, FLOPs (and training step time) that T2 adds, per module.

For each T2 model config (a ``LowLightDetector``) this builds the T2 model
and its plain counterpart (same detector, ``mode='none'``, the wrapped
backbone without guidance and the necks without the
``SemanticAggregationNeck``), counts both with :mod:`mmengine.analysis` on
the tensor-mode forward for one image of the given size, and prints a
markdown table of the enhancer (inference part), the illumination guidance
and the aggregation neck against the plain detector.

Counting conventions are those of ``benchmark.py`` (imported from the same
folder): one fused multiply-add is one FLOP; mmcv's DCNv2 is counted as the
convolution it computes (its bilinear sampling is not); element-wise
operations (the FiLM scale and shift, the residual additions) are not
counted by mmengine's analyser. The enhancer's self-calibration module runs
only in training and is excluded (its size is reported separately).

With ``--train-batch B`` it also times full training iterations
(``train_step``: preprocessing, forward, losses, backward, SGD update) of
both models on a batch of B random images with 3 random boxes each,
interleaved (plain, T2, plain, ...) after one warm-up iteration, and prints
the median seconds per iteration.

Example (the README table)::

    python tools/analysis_tools/t2_complexity.py \\
        configs/_base_/models/t2_yolov3_d53.py:608x608 \\
        configs/_base_/models/t2_faster-rcnn_r50-dcnv2_fpn.py:800x1333 \\
        --out work_dirs/t2_complexity.json
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import sys
import time
from functools import partial

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs

import lowlight  # noqa: F401  (registers lowlight's modules)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark import (
    _DCN_WEIGHT_INDEX,
    _dcn_flop_handle,  # noqa: E402
    make_batch)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'settings',
        nargs='+',
        metavar='CONFIG:HxW',
        help='a LowLightDetector config and the input size, e.g. '
        'configs/_base_/models/t2_yolov3_d53.py:608x608')
    parser.add_argument('--out', help='also write the numbers as JSON')
    parser.add_argument(
        '--train-batch',
        type=int,
        metavar='B',
        help='also time training iterations at this batch size')
    parser.add_argument(
        '--train-iters',
        type=int,
        default=5,
        help='timed training iterations per model (default: 5)')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch CPU threads (default: torch\'s default)')
    parser.add_argument(
        '--skip-flops',
        action='store_true',
        help='only parameters (and training time), no FLOP count')
    return parser.parse_args(argv)


def plain_model_cfg(model_cfg):
    """The plain detector of a T2 config, through the same code path."""
    cfg = copy.deepcopy(model_cfg)
    cfg.mode = 'none'
    det = cfg.detector
    if det.backbone.type == 'IlluminationGuidedBackbone':
        det.backbone = det.backbone.backbone
    if isinstance(det.get('neck'), list):
        necks = [n for n in det.neck if n.type != 'SemanticAggregationNeck']
        det.neck = necks[0] if len(necks) == 1 else necks
    return cfg


def flops_by_module(model, height, width):
    """FLOPs of ``model`` per module name for one (height, width) image."""
    data = model.data_preprocessor(make_batch(height, width, 1), False)
    forward = model.forward
    model.forward = partial(forward, data_samples=data['data_samples'])
    try:
        analyzer = FlopAnalyzer(model, data['inputs'])
        for op, weight_index in _DCN_WEIGHT_INDEX.items():
            analyzer.set_op_handle(op, partial(_dcn_flop_handle, weight_index))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return dict(analyzer.by_module())
    finally:
        del model.forward


def _params(module):
    return parameter_count(module)[''] if module is not None else 0


def train_step_seconds(models, height, width, batch, iters):
    """Median seconds of one training iteration of each model.

    Args:
        models (dict[str, nn.Module]): models to time, interleaved.
        height, width (int): image size.
        batch (int): images per iteration.
        iters (int): timed iterations per model (after one warm-up).

    Returns:
        dict[str, float]: median seconds per iteration.
    """
    torch.manual_seed(0)
    data = demo_mm_inputs(
        batch_size=batch,
        image_shapes=(3, height, width),
        num_items=[3] * batch,
        num_classes=12)
    wrappers = {
        name: OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-4))
        for name, model in models.items()
    }
    times = {name: [] for name in models}
    for it in range(iters + 1):
        for name, model in models.items():
            model.train()
            start = time.perf_counter()
            model.train_step(copy.deepcopy(data), wrappers[name])
            if it:  # the first iteration is the warm-up
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def measure(config,
            height,
            width,
            skip_flops=False,
            train_batch=None,
            train_iters=5):
    """Plain detector and T2 additions: params and FLOPs.

    Returns:
        dict: per row name, ``params``, ``flops`` (None if not counted) and,
        with ``train_batch``, ``train_s`` on the two detector rows.
    """
    model_cfg = Config.fromfile(config).model
    init_default_scope('mmdet')
    plain = MODELS.build(plain_model_cfg(model_cfg)).eval()
    t2 = MODELS.build(model_cfg).eval()
    rows = {}
    with torch.no_grad():
        rows['plain detector'] = dict(
            params=_params(plain),
            flops=None if skip_flops else flops_by_module(
                plain, height, width)[''])
        flops = ({} if skip_flops else flops_by_module(t2, height, width))
    backbone = t2.detector.backbone
    calibrator = getattr(t2.enhancer, 'calibrator', None)
    rows['enhancer (inference)'] = dict(
        params=_params(t2.enhancer) - _params(calibrator),
        flops=flops.get('enhancer'))
    rows['illumination guidance'] = dict(
        params=_params(backbone) - _params(backbone.backbone),
        flops=None if skip_flops else flops['detector.backbone'] -
        flops['detector.backbone.backbone'])
    neck = t2.detector.neck
    last = f'detector.neck.{len(neck) - 1}'
    rows['semantic aggregation neck'] = dict(
        params=_params(neck[-1]), flops=flops.get(last))
    added = list(rows)[1:]
    rows['T2 additions'] = dict(
        params=sum(rows[k]['params'] for k in added),
        flops=None if skip_flops else sum(rows[k]['flops'] for k in added))
    rows['T2 detector'] = dict(params=_params(t2), flops=flops.get(''))
    rows['(training only) self-calibration'] = dict(
        params=_params(calibrator), flops=None)
    if train_batch:
        seconds = train_step_seconds(
            dict(plain=plain, t2=t2), height, width, train_batch, train_iters)
        rows['plain detector']['train_s'] = seconds['plain']
        rows['T2 detector']['train_s'] = seconds['t2']
    return rows


def format_table(name, height, width, rows):
    base = rows['plain detector']
    lines = [
        f'**{name} @ {height}x{width}**', '',
        '| module | params | % of plain | GFLOPs | % of plain |',
        '|---|---:|---:|---:|---:|'
    ]
    for row, value in rows.items():
        flops = value['flops']
        lines.append('| {} | {:,} | {:.2f}% | {} | {} |'.format(
            row, value['params'], 100 * value['params'] / base['params'],
            '-' if flops is None else f'{flops / 1e9:.3f}',
            '-' if flops is None else f'{100 * flops / base["flops"]:.2f}%'))
    if 'train_s' in base:
        plain_s, t2_s = base['train_s'], rows['T2 detector']['train_s']
        lines += [
            '', f'training iteration (median): plain {plain_s:.2f} s, '
            f'T2 {t2_s:.2f} s, ratio {t2_s / plain_s:.2f}'
        ]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {}
    for setting in args.settings:
        config, _, size = setting.rpartition(':')
        try:
            height, width = (int(v) for v in size.lower().split('x'))
        except ValueError:
            raise SystemExit(f'bad setting {setting!r}: expected '
                             'CONFIG:HxW, e.g. t2_yolov3_d53.py:608x608')
        rows = measure(config, height, width, args.skip_flops,
                       args.train_batch, args.train_iters)
        name = osp.splitext(osp.basename(config))[0]
        print(format_table(name, height, width, rows), end='\n\n')
        results[f'{name}@{height}x{width}'] = rows
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
