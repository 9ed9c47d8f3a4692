"""Quantize an exported model file to int8 for ONNX Runtime.

    python tools/deployment/quantize_onnx.py CONFIG MODEL.onnx
        --out MODEL_INT8.onnx [--calib-split train | --calib-dir DIR]
        [--num-images N]
        [--method minmax|entropy|percentile] [--cfg-options k=v ...]

The detector's backbone, neck and head go to int8 (QDQ, weights per
channel), calibrated on N images of the config's training split (or of
DIR) run through the config's test pipeline; the enhancer and the head's
output layers stay float32. Run the file as any exported one
(``tools/test.py``, ``tools/infer_video.py --backend onnxruntime``);
measure what int8 costs with ``tools/deployment/check_parity.py CONFIG
CHECKPOINT MODEL_INT8.onnx``.
"""
import argparse

from mmengine.config import DictAction

from lowlight.deployment import (CALIBRATION_METHODS, QuantizationError,
                                 quantize_onnx)
from lowlight.deployment.quantize import DEFAULT_CALIBRATION_IMAGES
from lowlight.engine import exit_on_checkpoint_error


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Quantize an exported lowlight / mmdet model to int8')
    parser.add_argument('config', help='config the model was exported from')
    parser.add_argument('model', help='the float32 .onnx file')
    parser.add_argument('--out', required=True, help='the int8 .onnx file')
    parser.add_argument(
        '--calib-split',
        default='train',
        choices=('train', 'val', 'test'),
        help="the config's split to calibrate on (default: train)")
    parser.add_argument(
        '--calib-dir',
        help='a folder of calibration images (searched recursively) '
        'instead of the split')
    parser.add_argument(
        '--num-images',
        type=int,
        default=DEFAULT_CALIBRATION_IMAGES,
        help='calibration images, evenly spaced over the split or folder '
        f'(default: {DEFAULT_CALIBRATION_IMAGES})')
    parser.add_argument(
        '--method',
        choices=CALIBRATION_METHODS,
        default='minmax',
        help='how activation ranges are set (default: minmax)')
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
            meta = quantize_onnx(args.config, args.model, args.out,
                                 args.calib_split, args.calib_dir,
                                 args.num_images, args.method,
                                 args.cfg_options)
        except QuantizationError as error:
            raise SystemExit(f'error: {error}') from None
    print(f'wrote {args.out}: int8, {meta.calibration}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
