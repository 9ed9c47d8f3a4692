"""Generate the embedded night sample in the raw ExDark format.

Example::

    python tools/misc/make_night_sample.py data/night_sample
    python tools/dataset_converters/exdark.py data/night_sample \
        data/night_sample
    python tools/dataset_converters/exdark.py data/night_sample/day \
        data/night_sample/day

The night sample comes with its day twins (``day/``) and true illumination
maps (``illumination/``). ``--kind day`` writes a day-only corpus instead,
the stand-in for COCO that the plain detector is pretrained on::

    python tools/misc/make_night_sample.py data/day_corpus --kind day \
        --seed 1000 --num-train 2000 --num-val 200 --num-test 0

``--clean-twins`` also writes the night images without their sensor noise
to ``night_clean/`` (same raw layout; convert it like ``day/``), to measure
what the noise costs apart from the darkness.

Re-running with the same settings does nothing; other settings regenerate
the sample (the files are written to a temporary folder, then moved).
"""
import argparse
import os
import sys
import time

from lowlight.datasets.night_sample import generate_night_sample


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write the embedded night sample (raw ExDark layout).')
    parser.add_argument('out_root', nargs='?', default='data/night_sample',
                        help='output folder (default: data/night_sample)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--num-test', type=int, default=200)
    parser.add_argument('--size', type=int, default=320,
                        help='image width; the height is 3/4 of it')
    parser.add_argument('--workers', type=int,
                        default=min(2, os.cpu_count() or 1),
                        help='worker processes (the output does not depend '
                        'on it)')
    parser.add_argument('--kind', choices=('night', 'day'), default='night',
                        help="'night': the paired night sample (default); "
                        "'day': a day-only pretraining corpus")
    parser.add_argument('--clean-twins', action='store_true',
                        help='also write the night images without sensor '
                        'noise to OUT_ROOT/night_clean/ (night only)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace OUT_ROOT even if it is not a night '
                        'sample')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        manifest = generate_night_sample(
            args.out_root, seed=args.seed, num_train=args.num_train,
            num_val=args.num_val, num_test=args.num_test, size=args.size,
            workers=args.workers, overwrite=args.overwrite, kind=args.kind,
            clean_twins=args.clean_twins)
    except (FileExistsError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if manifest is None:
        print(f'{args.out_root}: {args.kind} sample already up to date '
              f'(seed {args.seed}, size {args.size})')
        return 0
    total = args.num_train + args.num_val + args.num_test
    print(f'wrote {total} {args.kind} scenes ({args.num_train} train / {args.num_val} '
          f'val / {args.num_test} test, {args.size}x{args.size * 3 // 4}, '
          f'classes {", ".join(manifest["classes"])}) to {args.out_root} '
          f'in {time.perf_counter() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
