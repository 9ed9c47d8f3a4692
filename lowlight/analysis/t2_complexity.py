"""Parameters, FLOPs (and training step time) that T2 adds, per module
(``tools/analysis_tools/t2_complexity.py``).

For a T2 model config (a ``LowLightDetector``) this builds the T2 model and
its plain counterpart (same detector, ``mode='none'``, the wrapped backbone
without guidance and the necks without the aggregation neck),
counts both as :mod:`lowlight.analysis.complexity` does (one fused
multiply-add is one FLOP; DCNv2 counted as the convolution it computes;
element-wise operations such as the FiLM scale and shift or the residual
additions are not counted by mmengine's analyser), and tabulates the
enhancer (inference part), the illumination guidance and the aggregation
neck against the plain detector. The enhancer's self-calibration module runs
only in training and is excluded (its size is reported separately).

Optionally it times full training iterations (``train_step``:
preprocessing, forward, losses, backward, SGD update) of both models on a
batch of random images with 3 random boxes each, interleaved (plain, T2,
plain, ...) after one warm-up iteration: the median seconds per iteration.
"""
import copy
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from lowlight.models.necks import AggregationNeck
from lowlight.utils import atomic_dump_json
from .complexity import flops_by_module, num_params
from .timing import InterleavedTimer


def plain_model_cfg(model_cfg):
    """The plain detector of a T2 config, through the same code path."""
    cfg = copy.deepcopy(model_cfg)
    cfg.mode = 'none'
    det = cfg.detector
    if det.backbone.type == 'IlluminationGuidedBackbone':
        det.backbone = det.backbone.backbone
    if isinstance(det.get('neck'), list):
        aggregation = {c.__name__ for c in AggregationNeck.__subclasses__()}
        necks = [n for n in det.neck if n.type not in aggregation]
        det.neck = necks[0] if len(necks) == 1 else necks
    return cfg


def train_step_seconds(models: Dict[str, torch.nn.Module], height: int,
                       width: int, batch: int, iters: int) -> Dict[str, float]:
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

    def step(model):
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-4))
        return lambda: model.train_step(copy.deepcopy(data), wrapper)

    timer = InterleavedTimer(
        {
            name: step(model)
            for name, model in models.items()
        },
        batch,
        prepare={
            name: model.train
            for name, model in models.items()
        })
    timer.warm_up(1)
    timer.run_round(iters)
    return {name: timer.median(name) for name in models}


def measure(config: str,
            height: int,
            width: int,
            skip_flops: bool = False,
            train_batch: Optional[int] = None,
            train_iters: int = 5) -> dict:
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
            params=num_params(plain),
            flops=None if skip_flops else flops_by_module(
                plain, height, width)[''])
        flops = ({} if skip_flops else flops_by_module(t2, height, width))
    backbone = t2.detector.backbone
    calibrator = getattr(t2.enhancer, 'calibrator', None)
    rows['enhancer (inference)'] = dict(
        params=num_params(t2.enhancer) - num_params(calibrator),
        flops=flops.get('enhancer'))
    rows['illumination guidance'] = dict(
        params=num_params(backbone) - num_params(backbone.backbone),
        flops=None if skip_flops else flops['detector.backbone'] -
        flops['detector.backbone.backbone'])
    neck = t2.detector.neck
    last = f'detector.neck.{len(neck) - 1}'
    rows['semantic aggregation neck'] = dict(
        params=num_params(neck[-1]), flops=flops.get(last))
    added = list(rows)[1:]
    rows['T2 additions'] = dict(
        params=sum(rows[k]['params'] for k in added),
        flops=None if skip_flops else sum(rows[k]['flops'] for k in added))
    rows['T2 detector'] = dict(params=num_params(t2), flops=flops.get(''))
    rows['(training only) self-calibration'] = dict(
        params=num_params(calibrator), flops=None)
    if train_batch:
        seconds = train_step_seconds(
            dict(plain=plain, t2=t2), height, width, train_batch, train_iters)
        rows['plain detector']['train_s'] = seconds['plain']
        rows['T2 detector']['train_s'] = seconds['t2']
    return rows


def format_table(name: str, height: int, width: int, rows: dict) -> str:
    """The rows of :func:`measure` as a markdown table."""
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


def parse_setting(setting: str) -> Tuple[str, int, int]:
    """``'CONFIG:HxW'`` -> (config, height, width); ValueError if not."""
    config, _, size = setting.rpartition(':')
    try:
        height, width = (int(v) for v in size.lower().split('x'))
    except ValueError:
        raise ValueError(f'bad setting {setting!r}: expected CONFIG:HxW, '
                         'e.g. t2_yolov3_d53.py:608x608') from None
    return config, height, width


def measure_settings(settings: Sequence[Tuple[str, int, int]],
                     out: Optional[str] = None,
                     **kwargs) -> dict:
    """:func:`measure` each (config, height, width) and print its table;
    write all rows as JSON to ``out`` when given.

    Args:
        settings (list[tuple]): (config, height, width) each.
        out (str, optional): JSON file to write.
        **kwargs: ``skip_flops``, ``train_batch``, ``train_iters`` of
            :func:`measure`.

    Returns:
        dict: ``'<config stem>@<H>x<W>'`` -> rows.
    """
    results = {}
    for config, height, width in settings:
        rows = measure(config, height, width, **kwargs)
        name = osp.splitext(osp.basename(config))[0]
        print(format_table(name, height, width, rows), end='\n\n')
        results[f'{name}@{height}x{width}'] = rows
    if out:
        atomic_dump_json(results, out, indent=2)
    return results
