"""Write the night sample with its true illumination removed (an upper
bound for any decomposition in front of the detector).

    python tools/analysis_tools/oracle_correction.py data/night_sample \\
        data/night_sample_oracle [--exponent 1.0] [--panel oracle.png]

then train any night-sample config on it with ``--cfg-options
train_dataloader.dataset.data_root=data/night_sample_oracle/`` (and the
same for ``val_dataloader`` and ``test_dataloader``). What is computed:
:mod:`lowlight.analysis.oracle_correction`.
"""
import argparse

import cv2

from lowlight.analysis.oracle_correction import (oracle_panel,
                                                 write_oracle_sample)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='The night sample divided by its true illumination')
    parser.add_argument('night_root', help='a converted night sample')
    parser.add_argument('out_root', help='where the corrected copy goes')
    parser.add_argument(
        '--exponent',
        type=float,
        default=1.0,
        help='remove illumination ** EXPONENT (default 1: all of it)')
    parser.add_argument(
        '--panel',
        help='also write a picture (PNG or JPEG, by the extension) of the '
        'first 4 val images: night | corrected | day twin')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        count = write_oracle_sample(args.night_root, args.out_root,
                                    args.exponent)
    except FileNotFoundError as error:
        raise SystemExit(f'error: {error}') from None
    print(f'wrote {count} corrected images to {args.out_root}')
    if args.panel:
        panel = oracle_panel(args.night_root, args.out_root)
        try:
            written = cv2.imwrite(args.panel, panel)
        except cv2.error:  # an extension OpenCV has no writer for
            written = False
        if not written:
            raise SystemExit(f'error: cannot write {args.panel} (a folder '
                             'that exists, a .png or .jpg name)')
        print(f'wrote {args.panel}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
