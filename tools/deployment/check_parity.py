"""Do a trained checkpoint and its exported ONNX file give the same
detector? Raw outputs, detections and AP on the config's test images.

    python tools/deployment/check_parity.py CONFIG CHECKPOINT MODEL.onnx
        [--num-images 50] [--out FILE.json] [--cfg-options k=v ...]

Both backends see the same batches of the config's test dataloader (the
first N images); prints the largest raw-output difference, the detections
matched (same label, IoU > 0.99) and their largest score difference, and
AP@0.5 of each backend with the config's test evaluator. Exit code 0 when
raw outputs agree within --raw-tol, every detection is matched and the APs
agree within --ap-tol, 1 otherwise.
"""
import argparse

from mmengine.config import DictAction

import lowlight  # noqa: F401  (registers the lowlight modules)
from lowlight.deployment.parity import check_parity
from lowlight.engine import exit_on_checkpoint_error
from lowlight.utils.file_io import atomic_dump_json


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Compare a checkpoint with its exported ONNX file')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='its trained checkpoint (.pth)')
    parser.add_argument('model_file', help='the exported .onnx file')
    parser.add_argument(
        '--num-images',
        type=int,
        default=50,
        help='first N images of the test split; 0: all (default: 50)')
    parser.add_argument('--out', help='write the numbers to this JSON file')
    parser.add_argument(
        '--raw-tol', type=float, default=1e-4, help='raw output tolerance')
    parser.add_argument(
        '--ap-tol', type=float, default=1e-3, help='AP tolerance')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    args = parser.parse_args(argv)
    if not args.model_file.endswith('.onnx'):
        parser.error(f'MODEL.onnx must be a .onnx file, got {args.model_file}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    with exit_on_checkpoint_error():
        result = check_parity(
            args.config,
            args.checkpoint,
            args.model_file,
            args.num_images or None,
            cfg_options=args.cfg_options)
    ap = result['ap']
    print(f"{result['images']} images: max raw difference "
          f"{result['max_raw_diff']:.3g}; {result['detections']} PyTorch "
          f"detections, {result['unmatched']} unmatched, max score "
          f"difference {result['max_score_diff']:.3g}; {result['ap_key']} "
          f"PyTorch {ap['pytorch']:.4f}, ONNX Runtime "
          f"{ap['onnxruntime']:.4f} (difference {result['ap_diff']:+.4f})")
    if args.out:
        atomic_dump_json(result, args.out, indent=2)
    ok = (
        result['max_raw_diff'] <= args.raw_tol and result['unmatched'] == 0
        and abs(result['ap_diff']) <= args.ap_tol)
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
