"""Network images/s of one detector on a GPU at several batch sizes:
PyTorch fp32 and fp16 (autocast) against the exported file on ONNX
Runtime's CUDA provider (fp32 and its fp16 copy) and TensorRT (fp16, where
its provider loads), in one run. What is timed:
:mod:`lowlight.analysis.gpu_benchmark`.

Example::

    python tools/analysis_tools/benchmark_gpu.py \\
        configs/t2/t2_yolov3_d53_8xb8-ms-608-24e_exdark.py \\
        --shape 608 608 --batch-sizes 1 8 32 \\
        --out work_dirs/benchmark/gpu_t2_d53_608.json
"""
import argparse

import torch
from mmengine.config import DictAction

import lowlight  # noqa: F401  (registers lowlight's modules)
from lowlight.analysis.gpu_benchmark import (GPU_BACKENDS, benchmark_gpu,
                                             check_gpu_backends, format_gpu)
from lowlight.engine import exit_on_checkpoint_error
from lowlight.utils import atomic_dump_json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='GPU throughput of a detector on PyTorch and ONNX '
        'Runtime at several batch sizes')
    parser.add_argument('config', help='model config')
    parser.add_argument(
        '--checkpoint',
        help='its .pth, loaded weights-only (default: random weights)')
    parser.add_argument(
        '--shape', nargs=2, type=int, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument(
        '--batch-sizes', nargs='+', type=int, default=[1, 8, 32])
    parser.add_argument(
        '--backends',
        nargs='+',
        default=list(GPU_BACKENDS),
        help=f'default: {" ".join(GPU_BACKENDS)}')
    parser.add_argument(
        '--device',
        default='cuda',
        help="'cuda', 'cuda:N', or 'cpu' for a dry run of pytorch-fp32 and "
        'onnxruntime-fp32')
    parser.add_argument(
        '--max-time',
        type=float,
        default=20.,
        help='seconds of timing per batch size at most (default: 20)')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    args = parser.parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch sees no CUDA GPU here '
                     '(--device cpu runs a dry run)')
    try:
        check_gpu_backends(args.backends, args.device)
    except ValueError as error:
        parser.error(str(error))
    if min(args.batch_sizes) < 1:
        parser.error(f'batch sizes must be >= 1, got {args.batch_sizes}')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    with exit_on_checkpoint_error():
        results = benchmark_gpu(
            args.config,
            args.checkpoint,
            args.shape,
            args.batch_sizes,
            args.backends,
            args.device,
            args.cfg_options,
            max_time=args.max_time)
    print(format_gpu(results))
    if args.out:
        atomic_dump_json(results, args.out)
        print(f'wrote {args.out}')
    return results


if __name__ == '__main__':
    main()
