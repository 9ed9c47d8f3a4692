"""Parameters, FLOPs (and training step time) that T2 adds, per module:
the enhancer, the illumination guidance and the aggregation neck against
the plain detector, as a markdown table per config. What is counted and
timed: :mod:`lowlight.analysis.t2_complexity`.

Example (the README table)::

    python tools/analysis_tools/t2_complexity.py \\
        configs/_base_/models/t2_yolov3_d53.py:608x608 \\
        configs/_base_/models/t2_faster-rcnn_r50-dcnv2_fpn.py:800x1333 \\
        --out work_dirs/t2_complexity.json
"""
import argparse

import torch

import lowlight  # noqa: F401  (registers lowlight's modules)
from lowlight.analysis.t2_complexity import measure_settings, parse_setting


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
    args = parser.parse_args(argv)
    try:
        args.settings = [parse_setting(s) for s in args.settings]
    except ValueError as error:
        parser.error(str(error))
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return measure_settings(
        args.settings,
        args.out,
        skip_flops=args.skip_flops,
        train_batch=args.train_batch,
        train_iters=args.train_iters)


if __name__ == '__main__':
    main()
