"""Convert the raw ExDark download to COCO json.

Reads ``imageclasslist.txt`` (``Name | Class | Light | In/Out |
Train/Val/Test``), the class folders of images and the ``bbGt`` annotation
files, and writes one COCO json per split. See ``data/README.md``.
"""
import math
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from ...apis.video.sources import is_image_file
from ..exdark import EXDARK_CLASSES, EXDARK_IN_OUT, EXDARK_LIGHTS
from .coco import (CaseInsensitiveDir, CocoBuilder, clip_box, image_size,
                   read_text_lines, relative_file_name, resolve_inside)
from .report import BadInputError, ConversionError, ConversionReport
from .result import ConversionResult, write_splits

BBGT_HEADER = '% bbGt version=3'
LIST_HEADER = ['Name', 'Class', 'Light', 'In/Out', 'Train/Val/Test']
#: what a correct conversion of the full official download gives
OFFICIAL_IMAGES = {'train': 3000, 'val': 1800, 'test': 2563}
OFFICIAL_TEST_BOXES = (418, 515, 433, 164, 919, 425, 609, 356, 490, 242,
                       2235, 311)
RANDOM_8020_IMAGES = {'train': 5896, 'test': 1467}
CLASS_BY_LOWER = {name.lower(): i for i, name in enumerate(EXDARK_CLASSES)}


def _key(path: str) -> str:
    """Comparable form of a path, whatever relative form it was given in."""
    return osp.normcase(osp.abspath(path))


def parse_bbgt(path: str, report: ConversionReport
               ) -> List[Tuple[int, List[float], int]]:
    """Parse one ``bbGt`` annotation file.

    Args:
        path (str): The annotation file.
        report (ConversionReport): Receives class-name case anomalies.

    Returns:
        list: ``(label, [x1, y1, x2, y2], line number)`` per object, with
        ``x2 = l + w`` and ``y2 = t + h`` (not clipped yet).

    Raises:
        BadInputError: On a wrong header, a wrong field count, a
            non-numeric box or an unknown class; the message names the
            file and line.
    """
    lines = read_text_lines(path)
    if not lines or lines[0].strip() != BBGT_HEADER:
        first = lines[0].strip() if lines else '<empty file>'
        raise BadInputError(f'{path}:1: expected header {BBGT_HEADER!r}, '
                            f'got {first!r}')
    objects = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 12:
            raise BadInputError(
                f'{path}:{number}: expected 12 fields (class l t w h and 7 '
                f'integers), got {len(fields)}: {line.strip()!r}')
        label = CLASS_BY_LOWER.get(fields[0].lower())
        if label is None:
            raise BadInputError(f'{path}:{number}: unknown class '
                                f'{fields[0]!r}')
        if fields[0] != EXDARK_CLASSES[label]:
            report.anomaly('class_name_case', path, number,
                           f'{fields[0]!r} read as {EXDARK_CLASSES[label]!r}')
        try:
            left, top, width, height = (float(v) for v in fields[1:5])
        except ValueError:
            raise BadInputError(f'{path}:{number}: non-numeric box '
                                f'{" ".join(fields[1:5])!r}') from None
        if not all(map(math.isfinite, (left, top, width, height))):
            raise BadInputError(f'{path}:{number}: non-finite box '
                                f'{" ".join(fields[1:5])!r}')
        objects.append((label, [left, top, left + width, top + height],
                        number))
    return objects


def _parse_row(fields: List[str]) -> Dict:
    """Validate one ``imageclasslist.txt`` row; raise BadInputError."""
    if len(fields) != 5:
        raise BadInputError(f'expected 5 columns, got {len(fields)}')
    try:
        cls, light, in_out, split = (int(v) for v in fields[1:])
    except ValueError:
        raise BadInputError('non-integer Class/Light/In-Out/Split column'
                            ) from None
    for value, allowed, column in ((cls, range(1, 13), 'Class'),
                                   (light, EXDARK_LIGHTS, 'Light'),
                                   (in_out, EXDARK_IN_OUT, 'In/Out'),
                                   (split, (1, 2, 3), 'Train/Val/Test')):
        if value not in allowed:
            raise BadInputError(f'{column} value {value} out of range')
    return dict(name=fields[0], cls=cls - 1, light=light, in_out=in_out,
                split=split)


def read_class_list(path: str, report: ConversionReport) -> List[Dict]:
    """Read ``imageclasslist.txt``; bad rows are skipped and reported.

    Returns:
        list[dict]: ``name``, ``cls`` (0-based), ``light``, ``in_out``,
        ``split`` and ``line`` per valid row, in file order.
    """
    try:
        lines = read_text_lines(path)
    except BadInputError as err:
        raise ConversionError(str(err)) from None
    rows, seen = [], set()
    for number, line in enumerate(lines, start=1):
        fields = line.replace('|', ' ').split()
        if not fields:
            continue
        if number == 1 and fields == LIST_HEADER:
            continue
        try:
            row = _parse_row(fields)
        except BadInputError as err:
            if number == 1:
                raise ConversionError(
                    f'{path}:1: not an ExDark image list (expected the '
                    f'header {" | ".join(LIST_HEADER)!r}): {err}') from None
            report.skip(path, number, f'{err}: {line.strip()!r}')
            continue
        if number == 1:
            report.anomaly('list_without_header', path, 1)
        if row['name'].lower() in seen:
            report.skip(path, number, f'duplicate image {row["name"]!r}')
            continue
        seen.add(row['name'].lower())
        rows.append(dict(row, line=number))
    return rows


class ExDarkConverter:
    """Convert a raw ExDark tree to COCO records.

    Args:
        raw_root (str): Folder holding the official downloads.
        img_dir (str, optional): Image folder with one sub-folder per class.
            Defaults to ``RAW_ROOT/ExDark``.
        ann_dir (str, optional): Annotation folder. Defaults to
            ``RAW_ROOT/ExDark_Annno``.
        class_list (str, optional): The image list. Defaults to
            ``RAW_ROOT/imageclasslist.txt``.
        data_root (str, optional): ``file_name`` in the output is relative
            to it (the ``data_root`` of the dataset config). Defaults to
            ``raw_root``.

    Raises:
        ConversionError: If the list file or a folder is missing.
    """

    def __init__(self, raw_root: str, img_dir: Optional[str] = None,
                 ann_dir: Optional[str] = None,
                 class_list: Optional[str] = None,
                 data_root: Optional[str] = None) -> None:
        if not osp.isdir(raw_root):
            raise ConversionError(f'RAW_ROOT {raw_root} is not a folder')
        self.img_dir = img_dir or osp.join(raw_root, 'ExDark')
        self.ann_dir = ann_dir or osp.join(raw_root, 'ExDark_Annno')
        self.class_list = class_list or osp.join(raw_root,
                                                 'imageclasslist.txt')
        self.data_root = data_root or raw_root
        for path, what, flag in (
                (self.class_list, 'image list imageclasslist.txt',
                 '--class-list'), (self.img_dir, 'image folder', '--img-dir'),
                (self.ann_dir, 'annotation folder', '--ann-dir')):
            exists = osp.isfile if flag == '--class-list' else osp.isdir
            if not exists(path):
                raise ConversionError(
                    f'{what} not found: {path} (point at it with {flag})')
        self.report = ConversionReport()
        self.builder = CocoBuilder(EXDARK_CLASSES)

    def _class_folders(self, root: str) -> Dict[int, CaseInsensitiveDir]:
        """0-based class -> folder index, matching names in any case."""
        top = CaseInsensitiveDir(root)
        folders = {}
        for folder in top:
            label = CLASS_BY_LOWER.get(folder.lower())
            if label is None:
                if osp.isdir(osp.join(root, folder)):
                    self.report.anomaly('unknown_folder_ignored',
                                        osp.join(root, folder))
                continue
            folders[label] = CaseInsensitiveDir(osp.join(root, folder))
        return folders

    def _find_image(self, row: Dict, folders: Dict[int, CaseInsensitiveDir]
                    ) -> Tuple[int, str]:
        """The image's class folder and real file name."""
        name = row['name']
        if name != osp.basename(name) or name in ('.', '..'):
            folder = folders.get(row['cls'])
            resolve_inside(self.img_dir,
                           osp.basename(folder.path) if folder else '', name)
            raise BadInputError(f'image name {name!r} is a path, not a file '
                                'name')
        order = [row['cls']] + [c for c in folders if c != row['cls']]
        for label in order:
            folder = folders.get(label)
            found = folder.find(name) if folder else None
            if found is None:
                continue
            where = f'{self.class_list}'
            if found != name:
                self.report.anomaly('name_case', where, row['line'],
                                    f'{name!r} is {found!r} on disk')
            if label != row['cls']:
                self.report.anomaly(
                    'image_in_other_class_folder', where, row['line'],
                    f'{found!r} found in {osp.basename(folder.path)}/')
            return label, found
        raise BadInputError(f'image {name!r} not found in '
                            f'{self.img_dir}/<Class>/')

    def convert(self) -> List[Dict]:
        """Convert every listed image.

        Returns:
            list[dict]: The image records (also kept in ``self.builder``),
            each with ``split`` (1 train, 2 val, 3 test) besides the COCO
            fields and ``light``, ``light_name``, ``in_out``,
            ``image_class`` and ``raw_name``.
        """
        rows = read_class_list(self.class_list, self.report)
        img_folders = self._class_folders(self.img_dir)
        ann_folders = self._class_folders(self.ann_dir)
        used_anns = set()
        records = []
        for row in rows:
            try:
                label, name = self._find_image(row, img_folders)
                img_path = resolve_inside(self.img_dir,
                                          osp.basename(
                                              img_folders[label].path), name)
                width, height, rotated = image_size(img_path)
                if rotated:
                    self.report.anomaly(
                        'exif_rotated', img_path, None,
                        'EXIF orientation swaps width and height; check '
                        'that its boxes match the displayed image')
                ann_folder = ann_folders.get(label)
                ann_name = None
                for candidate in (name, row['name']):
                    ann_name = ann_folder.find(candidate + '.txt') \
                        if ann_folder else None
                    if ann_name:
                        break
                boxes = []
                if ann_name is None:
                    self.report.anomaly('no_annotation_kept_as_negative',
                                        img_path)
                else:
                    ann_path = resolve_inside(self.ann_dir,
                                              osp.basename(ann_folder.path),
                                              ann_name)
                    used_anns.add(_key(ann_path))
                    for obj_label, box, number in parse_bbgt(
                            ann_path, self.report):
                        clipped = clip_box(box, width, height, self.report,
                                           ann_path, number)
                        if clipped is not None:
                            boxes.append((obj_label, clipped))
                file_name = relative_file_name(img_path, self.data_root)
            except BadInputError as err:
                self.report.skip(self.class_list, row['line'], str(err))
                continue
            records.append(self.builder.add_image(
                dict(file_name=file_name, width=width, height=height,
                     light=row['light'],
                     light_name=EXDARK_LIGHTS[row['light']],
                     in_out=row['in_out'],
                     image_class=EXDARK_CLASSES[row['cls']],
                     raw_name=row['name'], split=row['split']), boxes))
        self._report_unlisted(img_folders, ann_folders, records, used_anns)
        return records

    def _report_unlisted(self, img_folders, ann_folders, records,
                         used_anns) -> None:
        """Images and annotation files that no list row refers to."""
        listed = {
            _key(osp.join(self.data_root, r['file_name']))
            for r in records
        }
        for folder in img_folders.values():
            for name in folder:
                path = osp.join(folder.path, name)
                if is_image_file(name) and _key(path) not in listed:
                    self.report.anomaly('unlisted_image_ignored', path)
        for folder in ann_folders.values():
            for name in folder:
                path = osp.join(folder.path, name)
                if _key(path) not in used_anns:
                    self.report.anomaly('unused_annotation_file', path)


def split_records(records: List[Dict], split: str,
                  seed: int) -> Dict[str, List[Dict]]:
    """Group records into the official or the random 80/20 split.

    The random 80/20 protocol splits each image-level class on its own:
    its images (sorted by name) are shuffled with ``seed`` and the first
    ``ceil(0.8 * n)`` go to train, which gives 5896/1467 on the full data.

    Args:
        records (list[dict]): Converted image records.
        split (str): ``'official'`` or ``'random-80-20'``.
        seed (int): Seed of the random split.

    Returns:
        dict: split name -> records, in list order.
    """
    if split == 'official':
        names = {1: 'train', 2: 'val', 3: 'test'}
        return {
            name: [r for r in records if r['split'] == sid]
            for sid, name in names.items()
        }
    if split != 'random-80-20':
        raise ValueError(f'unknown split {split!r}')
    rng = np.random.default_rng(seed)
    train_ids = set()
    for cls in EXDARK_CLASSES:
        members = sorted((r for r in records if r['image_class'] == cls),
                         key=lambda r: r['file_name'])
        order = rng.permutation(len(members))
        keep = math.ceil(0.8 * len(members))
        train_ids.update(members[i]['id'] for i in order[:keep])
    return {
        'train': [r for r in records if r['id'] in train_ids],
        'test': [r for r in records if r['id'] not in train_ids]
    }


def convert_exdark(raw_root: str,
                   out_dir: str,
                   split: str = 'official',
                   seed: int = 0,
                   img_dir: Optional[str] = None,
                   ann_dir: Optional[str] = None,
                   class_list: Optional[str] = None,
                   data_root: Optional[str] = None) -> ConversionResult:
    """Convert and write ``OUT_DIR/annotations/<prefix>_<split>.json``.

    ``<prefix>`` is ``exdark`` for the official split and
    ``exdark_random8020_seed<N>`` for the random one. Beside each json go
    its file list (``.txt``, one ``file_name`` per line) and the anomaly
    report ``<prefix>_report.txt``.

    Args:
        raw_root (str): Folder holding the official downloads.
        out_dir (str): Output folder.
        split (str): ``'official'`` or ``'random-80-20'``.
        seed (int): Seed of the random split.
        img_dir, ann_dir, class_list, data_root: See
            :class:`ExDarkConverter`.

    Returns:
        ConversionResult: The splits, builder, report and files written
        (:func:`~.result.write_splits`), with ``split``.
    """
    converter = ExDarkConverter(raw_root, img_dir, ann_dir, class_list,
                                data_root)
    splits = split_records(converter.convert(), split, seed)
    prefix = 'exdark' if split == 'official' else \
        f'exdark_random8020_seed{seed}'
    return write_splits(out_dir, prefix, splits, converter.builder,
                        converter.report,
                        f'ExDark conversion of {raw_root} ({split} split)',
                        split=split)


def _check(label: str, expected, got) -> str:
    verdict = 'OK' if list(expected) == list(got) else 'DIFFERENT'
    return (f'  {label}: expected {"/".join(map(str, expected))}, '
            f'got {"/".join(map(str, got))} -> {verdict}')


def format_summary(result: ConversionResult) -> str:
    """Terminal summary: per split and class box counts, images per
    lighting type, the conversion check, anomalies and skipped files."""
    splits, builder = result.splits, result.builder
    names = list(splits)
    width = max(10, *(len(c) for c in EXDARK_LIGHTS.values())) + 2
    head = 'boxes'.ljust(width) + ''.join(n.rjust(8) for n in names)
    lines = [head, '-' * len(head)]
    counts = {n: builder.box_counts(recs) for n, recs in splits.items()}
    for i, cls in enumerate(EXDARK_CLASSES):
        lines.append(cls.ljust(width) +
                     ''.join(str(counts[n][i]).rjust(8) for n in names))
    lines.append('all'.ljust(width) +
                 ''.join(str(sum(counts[n])).rjust(8) for n in names))
    lines += ['', 'images'.ljust(width) + ''.join(n.rjust(8) for n in names),
              '-' * len(head)]
    for light, light_name in EXDARK_LIGHTS.items():
        lines.append(light_name.ljust(width) + ''.join(
            str(sum(r['light'] == light for r in splits[n])).rjust(8)
            for n in names))
    lines.append('all'.ljust(width) +
                 ''.join(str(len(splits[n])).rjust(8) for n in names))
    got_images = [len(splits[n]) for n in names]
    if result.split == 'official':
        lines += [
            '', 'conversion check (only the full official ExDark download '
            'matches):',
            _check('images train/val/test', OFFICIAL_IMAGES.values(),
                   got_images),
            _check('test boxes per class', OFFICIAL_TEST_BOXES,
                   counts['test'])
        ]
    else:
        lines += [
            '', 'conversion check (only the full ExDark download matches):',
            _check('images train/test', RANDOM_8020_IMAGES.values(),
                   got_images)
        ]
    lines += ['', result.report.summary(result.report_path)]
    lines += ['written: ' + ', '.join(map(osp.relpath, result.outputs))]
    return '\n'.join(lines)
