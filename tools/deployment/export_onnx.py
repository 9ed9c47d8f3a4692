"""Export a trained detector (plain or T2) to ONNX.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out FILE
        [--shape H W] [--batch-size N] [--dynamic-batch] [--opset N]
        [--cfg-options k=v ...]

The graph holds the tensor path (enhancer, guided backbone, neck(s), the
head's raw outputs); decoding and NMS stay mmdet's. Its input height and
width are dynamic: it takes each image at the size the test pipeline gives
it and pads it as PyTorch does. Run the file with
``tools/test.py CONFIG FILE`` or ``tools/infer_video.py ... --backend
onnxruntime``. The checkpoint is read weights-only; the file is written
under a temporary name and renamed.
"""
import argparse

from mmengine.config import DictAction

from lowlight.deployment import DEFAULT_OPSET, ExportError, export_onnx
from lowlight.engine import exit_on_checkpoint_error


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a lowlight / mmdet detector to ONNX')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='its trained checkpoint (.pth)')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[256, 256],
        metavar=('H', 'W'),
        help='size of the example input the export traces, e.g. the test '
        'pipeline output; the file runs any size (default: 256 256)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='exported batch size')
    parser.add_argument(
        '--dynamic-batch',
        action='store_true',
        help='make the batch axis dynamic')
    parser.add_argument(
        '--opset', type=int, default=DEFAULT_OPSET, help='ONNX opset')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    args = parser.parse_args(argv)
    if not args.out.endswith('.onnx'):
        parser.error(f'--out must name a .onnx file, got {args.out}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    with exit_on_checkpoint_error():
        try:
            meta = export_onnx(args.config, args.checkpoint, args.out,
                               args.shape, args.batch_size, args.dynamic_batch,
                               args.opset, args.cfg_options)
        except ExportError as error:
            raise SystemExit(f'error: {error}') from None
    batch = 'dynamic' if meta.input_shape[0] is None else meta.input_shape[0]
    print(f'wrote {args.out}: input {batch}x3xHxW (dynamic H, W), opset '
          f'{meta.opset}, {meta.num_classes} classes, checkpoint sha256 '
          f'{meta.checkpoint_sha256[:8]}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
