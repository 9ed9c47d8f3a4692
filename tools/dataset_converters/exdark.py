"""Convert the raw ExDark download to COCO json.

Example (official split, then the random 80/20 protocol)::

    python tools/dataset_converters/exdark.py data/exdark data/exdark
    python tools/dataset_converters/exdark.py data/exdark data/exdark \
        --split random-80-20 --seed 0

RAW_ROOT holds ``ExDark/<Class>/<image>``, ``ExDark_Annno/<Class>/<image
name with extension>.txt`` and ``imageclasslist.txt``; the flags point at
each one separately when a layout differs. Writes
``OUT_DIR/annotations/exdark_{train,val,test}.json`` (or
``exdark_random8020_seed<N>_{train,test}.json``), a file list beside each
and an anomaly report, and prints per-split per-class box counts and the
conversion check. Exits with 1 if a file had to be skipped (unless
``--skip-bad``), with 2 if the input cannot be read at all.
"""
import sys

from lowlight.datasets.converters import (convert_exdark,
                                          format_exdark_summary,
                                          converter_parser, run_conversion)


def parse_args(argv=None):
    parser = converter_parser(
        'Convert raw ExDark to COCO json (official or random 80/20 split; '
        '--seed picks the random split).', 'folder with the official '
        'downloads')
    parser.add_argument('--img-dir', help='image folder with class '
                        'sub-folders (default: RAW_ROOT/ExDark)')
    parser.add_argument('--ann-dir', help='annotation folder (default: '
                        'RAW_ROOT/ExDark_Annno)')
    parser.add_argument('--class-list', help='image list (default: '
                        'RAW_ROOT/imageclasslist.txt)')
    parser.add_argument('--split', choices=('official', 'random-80-20'),
                        default='official')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_conversion(
        convert_exdark, format_exdark_summary, args.skip_bad,
        raw_root=args.raw_root, out_dir=args.out_dir,
        split=args.split, seed=args.seed, img_dir=args.img_dir,
        ann_dir=args.ann_dir, class_list=args.class_list,
        data_root=args.data_root)


if __name__ == '__main__':
    sys.exit(main())
