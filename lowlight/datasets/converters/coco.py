"""Building blocks of the raw-to-COCO converters.

Safe path resolution, case-insensitive file lookup, image sizes from file
headers, box clipping, and a small COCO-json builder.
"""
import os
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

from PIL import Image, UnidentifiedImageError

from ...utils.file_io import atomic_dump_json, atomic_write_text
from .report import BadInputError, ConversionReport

EXIF_ORIENTATION = 0x0112


def resolve_inside(root: str, *parts: str) -> str:
    """Join ``parts`` under ``root`` and refuse results outside of it.

    Symbolic links are followed before the check, so neither ``..`` nor a
    link can reach outside ``root``.

    Args:
        root (str): The folder the path must stay in.
        *parts (str): Path components, e.g. taken from an annotation file.

    Returns:
        str: ``osp.join(root, *parts)`` (not resolved).

    Raises:
        BadInputError: If the resolved path is outside ``root``.
    """
    path = osp.join(root, *parts)
    real_root = osp.realpath(root)
    real = osp.realpath(path)
    if osp.commonpath([real_root, real]) != real_root:
        raise BadInputError(f'path {osp.join(*parts)!r} resolves to {real}, '
                            f'outside {root}')
    return path


class CaseInsensitiveDir:
    """Look up entries of one folder by name, ignoring letter case.

    Args:
        path (str): The folder; a missing folder is empty.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        names = sorted(os.listdir(path)) if osp.isdir(path) else []
        self.names = {name.lower(): name for name in names}

    def find(self, name: str) -> Optional[str]:
        """The entry's real name, or None if there is none."""
        return self.names.get(name.lower())

    def __iter__(self):
        return iter(self.names.values())


def read_text_lines(path: str) -> List[str]:
    """Lines of a UTF-8 text file, any line ending, without a BOM.

    Raises:
        BadInputError: If the file is not UTF-8 text.
    """
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return data.decode('utf-8-sig').splitlines()
    except UnicodeDecodeError as err:
        raise BadInputError(f'{path}: not UTF-8 text: {err}') from None


def image_size(path: str) -> Tuple[int, int, bool]:
    """Width and height as decoders that honour EXIF orientation see them.

    Only the file header is read.

    Args:
        path (str): The image file.

    Returns:
        tuple: ``(width, height, rotated)``; ``rotated`` is True when the
        EXIF orientation swaps width and height.

    Raises:
        BadInputError: If the file is not a readable image.
    """
    try:
        with Image.open(path) as img:
            width, height = img.size
            orientation = img.getexif().get(EXIF_ORIENTATION, 1)
    except (OSError, UnidentifiedImageError) as err:
        raise BadInputError(f'cannot read image {path}: {err}') from err
    if orientation in (5, 6, 7, 8):
        return height, width, True
    return width, height, False


def clip_box(box: Sequence[float], width: int, height: int,
             report: ConversionReport, path: str,
             line: int) -> Optional[List[float]]:
    """Clip ``[x1, y1, x2, y2]`` to the image; report clipped and dropped.

    Returns:
        list[float] | None: The clipped box, or None if it has no area.
    """
    x1, y1 = max(0.0, box[0]), max(0.0, box[1])
    x2, y2 = min(float(width), box[2]), min(float(height), box[3])
    if x2 <= x1 or y2 <= y1:
        report.anomaly('box_dropped', path, line,
                       f'box {list(box)} has no area inside the '
                       f'{width}x{height} image')
        return None
    if [x1, y1, x2, y2] != list(box):
        report.anomaly('box_clipped', path, line,
                       f'box {list(box)} clipped to the {width}x{height} '
                       'image')
    return [x1, y1, x2, y2]


class CocoBuilder:
    """Collect images and boxes, then write one COCO json per split.

    Args:
        classes (Sequence[str]): Category names; ids are 1-based in this
            order.
    """

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = tuple(classes)
        self.images: List[Dict] = []
        self.boxes: Dict[int, List[Tuple[int, List[float]]]] = {}

    def add_image(self, record: Dict,
                  boxes: List[Tuple[int, List[float]]]) -> Dict:
        """Add an image record (``id`` is assigned) with its boxes.

        Args:
            record (dict): ``file_name``, ``width``, ``height`` and any
                extra fields to keep.
            boxes (list): ``(label, [x1, y1, x2, y2])`` with 0-based labels.

        Returns:
            dict: The stored record.
        """
        record = dict(id=len(self.images) + 1, **record)
        self.images.append(record)
        self.boxes[record['id']] = boxes
        return record

    def to_coco(self, images: List[Dict]) -> Dict:
        """The COCO dict of a subset of the added images."""
        annotations = []
        for img in images:
            for label, (x1, y1, x2, y2) in self.boxes[img['id']]:
                w, h = x2 - x1, y2 - y1
                annotations.append(
                    dict(id=len(annotations) + 1, image_id=img['id'],
                         category_id=label + 1, bbox=[x1, y1, w, h],
                         area=w * h, iscrowd=0))
        return dict(
            images=images,
            annotations=annotations,
            categories=[dict(id=i + 1, name=name)
                        for i, name in enumerate(self.classes)])

    def write(self, path: str, images: List[Dict]) -> Dict:
        """Write the COCO json of ``images`` to ``path`` atomically."""
        coco = self.to_coco(images)
        atomic_dump_json(coco, path)
        return coco

    def box_counts(self, images: List[Dict]) -> List[int]:
        """Number of boxes per class over ``images``."""
        counts = Counter(label for img in images
                         for label, _ in self.boxes[img['id']])
        return [counts[i] for i in range(len(self.classes))]


def write_file_list(path: str, images: List[Dict]) -> None:
    """Write the ``file_name`` of each image, one per line, atomically."""
    atomic_write_text(path, ''.join(f"{img['file_name']}\n"
                                    for img in images))


def relative_file_name(path: str, data_root: str) -> str:
    """``path`` relative to ``data_root`` with forward slashes.

    Raises:
        BadInputError: If ``path`` is not under ``data_root``.
    """
    rel = osp.relpath(osp.abspath(path), osp.abspath(data_root))
    if rel == '..' or rel.startswith('..' + os.sep):
        raise BadInputError(f'{path} is not under the data root {data_root}')
    return rel.replace(os.sep, '/')
