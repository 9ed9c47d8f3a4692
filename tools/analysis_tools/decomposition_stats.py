"""Measure what a trained enhancer does to the images: mean input I,
reflectance R and illumination L, the brightening R / I, mean |R - I|, and
how much of R sits at its upper bound (clipped highlights), overall and per
lighting type. On the embedded night sample, whose renderer wrote the true
illumination of every image, it also scores L against it
(:func:`lowlight.evaluation.decomposition_score`: log correlation,
scale-invariant log error, smoothness relative to the image).

Example::

    python tools/analysis_tools/decomposition_stats.py \\
        configs/t2/t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py \\
        work_dirs/<run>/epoch_8.pth --split val --num-images 64 \\
        --out work_dirs/<run>/decomposition_stats.json

Images come from the config's ``val_dataloader`` (or ``test_dataloader``)
in order, through its pipeline and the model's data preprocessor, exactly as
the detector sees them; batch padding is left out. The model and checkpoint
are loaded by :func:`lowlight.apis.init_low_light_detector` (weights-only;
a refused checkpoint ends the tool with one message). Every statistic is a
mean over all pixels and channels of the images taken.
"""
import argparse
import sys

from mmengine.config import DictAction

# importing lowlight registers its modules
from lowlight.analysis import decomposition_statistics, format_table
from lowlight.engine import exit_on_checkpoint_error
from lowlight.utils import atomic_dump_json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Statistics of the decomposition (R, L) a trained '
        'LowLightDetector makes of a dataset split.')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--split',
        choices=('val', 'test'),
        default='val',
        help='which dataloader of the config to read (default: val)')
    parser.add_argument(
        '--num-images',
        type=int,
        default=64,
        help='the first N images of the split (default: 64; 0 = all)')
    parser.add_argument(
        '--batch-size', type=int, default=8, help='images per forward pass')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--out', help='also write the statistics as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as in tools/train.py')
    args = parser.parse_args(argv)
    if args.num_images < 0 or args.batch_size < 1:
        parser.error('--num-images must be >= 0 and --batch-size >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    with exit_on_checkpoint_error():
        stats = decomposition_statistics(args.config, args.checkpoint,
                                         args.split, args.num_images,
                                         args.batch_size, args.device,
                                         args.cfg_options)
    if stats is None:
        print(
            f'{args.config}: the model has no enhancer (a LowLightDetector '
            "in mode 'joint' or 'frozen' is needed)",
            file=sys.stderr)
        return 2
    if not stats.images:
        print(
            f'{args.config}: the {args.split} split has no images',
            file=sys.stderr)
        return 2
    summary = stats.summary()
    print(f'{args.split} split, checkpoint {args.checkpoint}')
    print(format_table(summary, stats.max_reflectance))
    if args.out:
        atomic_dump_json(
            dict(
                config=args.config,
                checkpoint=args.checkpoint,
                split=args.split,
                max_reflectance=stats.max_reflectance,
                groups=summary), args.out)
        print(f'written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
