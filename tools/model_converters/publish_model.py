"""Publish a trained checkpoint: weights and meta only, fp16, sha256 name.

Example::

    python tools/model_converters/publish_model.py \\
        work_dirs/yolov3_mobilenetv2_1xb8-256-6e_day-corpus/epoch_8.pth \\
        checkpoints/yolov3_mobilenetv2_1xb8-256-6e_day-corpus
"""
import argparse
import sys

from lowlight.engine import CheckpointLoadError
from lowlight.engine.publish import publish_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Strip a checkpoint for release and name it by its '
        'sha256.')
    parser.add_argument('in_file', help='checkpoint saved by training')
    parser.add_argument('out_stem', help='output path without '
                        '"-<sha256[:8]>.pth"')
    parser.add_argument('--fp32', action='store_true',
                        help='keep fp32 tensors (default: fp16 storage)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        path, digest = publish_checkpoint(args.in_file, args.out_stem,
                                          fp16=not args.fp32)
    except CheckpointLoadError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'{path}\nsha256 {digest}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
