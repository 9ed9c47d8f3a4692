"""Convert the raw DARK FACE download to COCO json.

Example::

    python tools/dataset_converters/darkface.py data/darkface data/darkface

RAW_ROOT holds ``image/<n>.png`` and ``label/<n>.txt``. Writes
``OUT_DIR/annotations/darkface_{train,val}.json`` (a fixed, seeded
5500/500 split), their file lists and an anomaly report, and prints the
counts. Exits with 1 if a file had to be skipped (unless ``--skip-bad``),
with 2 if the input cannot be read at all.
"""
import sys

from lowlight.datasets.converters import (convert_darkface,
                                          format_darkface_summary,
                                          converter_parser, run_conversion)


def parse_args(argv=None):
    parser = converter_parser(
        'Convert raw DARK FACE to COCO json (seeded train/val split).',
        'folder with image/ and label/')
    parser.add_argument('--img-dir', help='default: RAW_ROOT/image')
    parser.add_argument('--label-dir', help='default: RAW_ROOT/label')
    parser.add_argument('--num-val', type=int, default=500,
                        help='images in the val split (default: 500)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_conversion(
        convert_darkface, format_darkface_summary, args.skip_bad,
        raw_root=args.raw_root, out_dir=args.out_dir,
        num_val=args.num_val, seed=args.seed, img_dir=args.img_dir,
        label_dir=args.label_dir, data_root=args.data_root)


if __name__ == '__main__':
    sys.exit(main())
