"""Convert the raw DARK FACE download to COCO json.

Reads ``image/<n>.png`` and ``label/<n>.txt`` (first line the face count,
then ``xmin ymin xmax ymax`` per face) and writes a fixed, seeded train/val
split (5500/500 on the 6000 labelled images).
"""
import math
import os.path as osp
from typing import List, Optional

import numpy as np

from ...apis.video.sources import is_image_file
from .coco import (CaseInsensitiveDir, CocoBuilder, clip_box, image_size,
                   read_text_lines, relative_file_name, resolve_inside)
from .report import BadInputError, ConversionError, ConversionReport
from .result import ConversionResult, write_splits

DARKFACE_CLASSES = ('face', )
#: what a correct conversion of the 6000 labelled images gives
OFFICIAL_IMAGES = {'train': 5500, 'val': 500}


def parse_label(path: str, report: ConversionReport) -> List[List[float]]:
    """Parse one DARK FACE label file.

    Args:
        path (str): The label file.
        report (ConversionReport): Receives a count line that disagrees
            with the boxes (the boxes win).

    Returns:
        list: ``([x1, y1, x2, y2], line number)`` per face.

    Raises:
        BadInputError: On a missing or non-integer count line, a wrong
            field count or a non-numeric box; the message names the file
            and line.
    """
    lines = read_text_lines(path)
    if not lines or not lines[0].strip():
        raise BadInputError(f'{path}:1: missing the face count line')
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise BadInputError(f'{path}:1: face count {lines[0].strip()!r} is '
                            'not an integer') from None
    boxes = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            raise BadInputError(f'{path}:{number}: expected 4 fields (xmin '
                                f'ymin xmax ymax), got {len(fields)}: '
                                f'{line.strip()!r}')
        try:
            box = [float(v) for v in fields]
        except ValueError:
            raise BadInputError(f'{path}:{number}: non-numeric box '
                                f'{line.strip()!r}') from None
        if not all(map(math.isfinite, box)):
            raise BadInputError(f'{path}:{number}: non-finite box '
                                f'{line.strip()!r}')
        boxes.append((box, number))
    if count != len(boxes):
        report.anomaly('count_mismatch', path, 1,
                       f'count line says {count}, file has {len(boxes)} '
                       'boxes (the boxes are used)')
    return boxes


def convert_darkface(raw_root: str,
                     out_dir: str,
                     num_val: int = 500,
                     seed: int = 0,
                     img_dir: Optional[str] = None,
                     label_dir: Optional[str] = None,
                     data_root: Optional[str] = None) -> ConversionResult:
    """Convert DARK FACE and write ``annotations/darkface_{train,val}.json``.

    Images are sorted by name, shuffled with ``seed`` and the first
    ``num_val`` go to val; the file lists are written beside the json
    files, with the anomaly report ``darkface_report.txt``.

    Args:
        raw_root (str): Folder holding ``image/`` and ``label/``.
        out_dir (str): Output folder.
        num_val (int): Images in the val split. Defaults to 500.
        seed (int): Seed of the split. Defaults to 0.
        img_dir (str, optional): Image folder. Defaults to
            ``RAW_ROOT/image``.
        label_dir (str, optional): Label folder. Defaults to
            ``RAW_ROOT/label``.
        data_root (str, optional): ``file_name`` is relative to it.
            Defaults to ``raw_root``.

    Returns:
        ConversionResult: The splits, builder, report and files written
        (:func:`~.result.write_splits`).

    Raises:
        ConversionError: If a folder is missing or there are not more
            images than ``num_val``.
    """
    img_dir = img_dir or osp.join(raw_root, 'image')
    label_dir = label_dir or osp.join(raw_root, 'label')
    data_root = data_root or raw_root
    for path, what, flag in ((img_dir, 'image folder', '--img-dir'),
                             (label_dir, 'label folder', '--label-dir')):
        if not osp.isdir(path):
            raise ConversionError(
                f'{what} not found: {path} (point at it with {flag})')
    report = ConversionReport()
    builder = CocoBuilder(DARKFACE_CLASSES)
    labels = CaseInsensitiveDir(label_dir)
    used_labels = set()
    names = [n for n in CaseInsensitiveDir(img_dir) if is_image_file(n)]
    records = []
    for name in names:
        try:
            img_path = resolve_inside(img_dir, name)
            width, height, _ = image_size(img_path)
            label = labels.find(osp.splitext(name)[0] + '.txt')
            boxes = []
            if label is None:
                report.anomaly('no_label_kept_as_negative', img_path)
            else:
                label_path = resolve_inside(label_dir, label)
                used_labels.add(label)
                for box, number in parse_label(label_path, report):
                    clipped = clip_box(box, width, height, report,
                                       label_path, number)
                    if clipped is not None:
                        boxes.append((0, clipped))
            file_name = relative_file_name(img_path, data_root)
        except BadInputError as err:
            report.skip(osp.join(img_dir, name), None, str(err))
            continue
        records.append(builder.add_image(
            dict(file_name=file_name, width=width, height=height), boxes))
    for label in labels:
        if label not in used_labels and label.lower().endswith('.txt'):
            report.anomaly('label_without_image', osp.join(label_dir, label))
    if len(records) <= num_val:
        raise ConversionError(
            f'{len(records)} usable images in {img_dir}, not more than the '
            f'{num_val} requested for val (see --num-val)')
    order = np.random.default_rng(seed).permutation(len(records))
    val_ids = {records[i]['id'] for i in order[:num_val]}
    splits = {
        'train': [r for r in records if r['id'] not in val_ids],
        'val': [r for r in records if r['id'] in val_ids]
    }
    return write_splits(out_dir, 'darkface', splits, builder, report,
                        f'DARK FACE conversion of {raw_root} (seed {seed}, '
                        f'{num_val} val images)')


def format_summary(result: ConversionResult) -> str:
    """Terminal summary: images and faces per split, the check against the
    usual 5500/500 split, anomalies and skipped files."""
    splits, builder = result.splits, result.builder
    lines = ['split      images   faces']
    for name, records in splits.items():
        lines.append(f'{name:<8}{len(records):>9}'
                     f'{sum(builder.box_counts(records)):>8}')
    got = [len(r) for r in splits.values()]
    verdict = 'OK' if got == list(OFFICIAL_IMAGES.values()) else 'DIFFERENT'
    lines += [
        '', 'conversion check (the 6000 labelled DARK FACE images):',
        f'  images train/val: expected 5500/500, got {got[0]}/{got[1]} -> '
        f'{verdict}', '',
        result.report.summary(result.report_path),
        'written: ' + ', '.join(map(osp.relpath, result.outputs))
    ]
    return '\n'.join(lines)
