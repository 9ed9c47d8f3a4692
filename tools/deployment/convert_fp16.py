"""Write a float16 copy of an exported model file, for GPU providers.

    python tools/deployment/convert_fp16.py MODEL.onnx --out MODEL_FP16.onnx

The detector's backbone, neck and head go to float16; the graph's input
and outputs and the enhancer's arithmetic stay float32
(:func:`lowlight.deployment.convert_to_float16`). Run the copy with
``tools/test.py CONFIG MODEL_FP16.onnx --providers CUDAExecutionProvider``
or ``tools/infer_video.py ... --backend onnxruntime --providers
CUDAExecutionProvider``.
"""
import argparse

from lowlight.deployment import QuantizationError, convert_to_float16
from lowlight.engine import exit_on_checkpoint_error


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='A float16 copy of an exported lowlight / mmdet model')
    parser.add_argument('model', help='the float32 .onnx file')
    parser.add_argument('--out', required=True, help='the float16 .onnx file')
    args = parser.parse_args(argv)
    if not args.out.endswith('.onnx'):
        parser.error(f'--out must name a .onnx file, got {args.out}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    with exit_on_checkpoint_error():
        try:
            convert_to_float16(args.model, args.out)
        except QuantizationError as error:
            raise SystemExit(f'error: {error}') from None
    print(f'wrote {args.out}: fp16')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
