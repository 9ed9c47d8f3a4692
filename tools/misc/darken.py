"""Darken normal-light images and videos with the LowLightSynthesis model.

Makes night test sets out of day footage: undo the display curve, scale the
exposure, add shot and read noise, optional colour cast, re-apply the curve,
quantise (see ``lowlight/datasets/transforms/low_light_synthesis.py``).

Example::

    python tools/misc/darken.py day_photos/ clip.mp4 --out-dir night/ \
        --exposure-range 0.05 0.2 --seed 0

Inputs are image files, video files and folders (searched recursively);
each output keeps its path relative to its input folder. Every image, and
every video as a whole (one camera setting per clip, fresh noise per
frame), gets parameters determined by ``--seed`` and its relative path; they
are recorded in ``OUT_DIR/darken_params.json``. Files are written under a
temporary name and renamed when complete; existing outputs are kept unless
``--overwrite``. Exits with 1 if any input failed, with 2 if an input
does not exist. The logic lives in :mod:`lowlight.datasets.darken_files`.
"""
import argparse
import sys

from lowlight.datasets.darken_files import collect_inputs, darken_files


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Darken images and videos with a camera noise model.')
    parser.add_argument('inputs', nargs='+',
                        help='image files, video files or folders')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--exposure-range', type=float, nargs=2,
                        default=(0.05, 0.3), metavar=('LOW', 'HIGH'))
    parser.add_argument('--gamma-range', type=float, nargs=2,
                        default=(2.0, 2.6), metavar=('LOW', 'HIGH'))
    parser.add_argument('--shot-noise-range', type=float, nargs=2,
                        default=(1e-4, 1e-2), metavar=('LOW', 'HIGH'))
    parser.add_argument('--read-noise-range', type=float, nargs=2,
                        default=(1e-3, 1e-2), metavar=('LOW', 'HIGH'))
    parser.add_argument('--color-cast-range', type=float, nargs=2,
                        default=(0.8, 1.2), metavar=('LOW', 'HIGH'))
    parser.add_argument('--color-cast-prob', type=float, default=0.5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        inputs = collect_inputs(args.inputs)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    ranges = dict(exposure_range=args.exposure_range,
                  gamma_range=args.gamma_range,
                  shot_noise_range=args.shot_noise_range,
                  read_noise_range=args.read_noise_range,
                  color_cast_range=args.color_cast_range)
    failed = darken_files(inputs, args.out_dir, ranges,
                          args.color_cast_prob, args.seed, args.overwrite)
    if failed:
        print(f'error: {failed} of {len(inputs)} input(s) failed',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
