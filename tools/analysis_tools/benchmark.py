"""Parameters, FLOPs, latency and throughput of an mmdet detector, on CPU
or GPU, optionally against a second detector measured in the same run,
interleaved. What is counted and timed: :mod:`lowlight.analysis.benchmark`.

Example::

    python tools/analysis_tools/benchmark.py \\
        configs/baselines/yolov3_d53_8xb8-ms-608-24e_exdark.py \\
        --compare configs/t2/t2_yolov3_d53_8xb8-ms-608-24e_exdark.py \\
        --shape 608 608 --device cpu --out work_dirs/benchmark/yolov3.json
"""
import argparse

import torch
from mmengine.config import DictAction

import lowlight  # noqa: F401  (registers lowlight's modules)
from lowlight.analysis.backend_benchmark import (benchmark_backends,
                                                 check_backends,
                                                 format_backends)
from lowlight.analysis.benchmark import benchmark, check_arguments, report
from lowlight.utils import atomic_dump_json
from lowlight.engine import exit_on_checkpoint_error


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
        '--backends',
        nargs='+',
        metavar='BACKEND',
        help='measure the one config on these backends in the same run '
        '(pytorch, onnxruntime, onnxruntime-int8): network alone and whole '
        'detector; it is exported to a temporary ONNX file first (and '
        'quantized for onnxruntime-int8)')
    parser.add_argument(
        '--calib-dir',
        help='calibration images of onnxruntime-int8 (default: the '
        "config's training split)")
    parser.add_argument(
        '--backend-threads',
        type=int,
        default=2,
        help='intra-op threads of the ONNX Runtime session with --backends '
        '(default: 2)')
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
        help='CPU threads for torch (default: torch\'s choice; 2 with '
        '--backends)')
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
    args.configs = [args.config] + ([args.compare] if args.compare else [])
    error = check_arguments(
        len(args.configs), args.checkpoint, args.batch_size, args.shape,
        args.device)
    if not error and args.backends:
        error = ('--backends measures one config; drop --compare'
                 if args.compare else check_backends(args.backends))
    if error:
        parser.error(error)
    return args


def main(argv=None):
    args = parse_args(argv)
    timing = dict(
        warmup=args.warmup,
        min_iters=args.min_iters,
        round_size=args.round_size,
        rel_tol=args.rel_tol,
        max_time=args.max_time)
    if args.backends:
        with exit_on_checkpoint_error():
            results = benchmark_backends(
                args.config, (args.checkpoint or [None])[0], args.backends,
                args.shape, args.batch_size, args.threads or 2,
                args.backend_threads, None, args.cfg_options,
                args.calib_dir, **timing)
        print(format_backends(results))
        if args.out:
            atomic_dump_json(results, args.out, indent=2)
        return results
    with exit_on_checkpoint_error():
        results = benchmark(
            args.configs,
            args.checkpoint,
            args.shape,
            args.batch_size,
            args.device,
            args.threads,
            args.skip_flops,
            args.cfg_options,
            **timing)
    report(results, args.out)
    return results


if __name__ == '__main__':
    main()
