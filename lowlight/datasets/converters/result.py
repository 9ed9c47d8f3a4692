"""What a converter writes (one COCO json and one file list per split, an
anomaly report) and the result it returns."""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional

from .coco import CocoBuilder, write_file_list
from .report import ConversionReport


@dataclass
class ConversionResult:
    """The outcome of a conversion.

    Attributes:
        splits (dict): Split name -> image records, in output order.
        builder (CocoBuilder): Every converted image with its boxes.
        report (ConversionReport): Anomalies fixed and files skipped.
        report_path (str): The anomaly report written.
        outputs (list[str]): The COCO json files written, one per split.
        split (str, optional): The split protocol, for converters that
            offer several (ExDark: ``'official'`` or ``'random-80-20'``).
    """
    splits: Dict[str, List[Dict]]
    builder: CocoBuilder
    report: ConversionReport
    report_path: str
    outputs: List[str]
    split: Optional[str] = None


def write_splits(out_dir: str,
                 prefix: str,
                 splits: Dict[str, List[Dict]],
                 builder: CocoBuilder,
                 report: ConversionReport,
                 title: str,
                 split: Optional[str] = None) -> ConversionResult:
    """Write ``OUT_DIR/annotations/<prefix>_<split>.json`` and, beside
    each, its file list ``<prefix>_<split>.txt`` (one ``file_name`` per
    line), then the anomaly report ``<prefix>_report.txt``; every file
    atomically.

    Args:
        out_dir (str): Output folder.
        prefix (str): File name prefix, e.g. ``'exdark'``.
        splits (dict): Split name -> image records of ``builder``.
        builder (CocoBuilder): Holds the records and their boxes.
        report (ConversionReport): The conversion's report.
        title (str): First line of the report.
        split (str, optional): The split protocol, kept in the result.

    Returns:
        ConversionResult: What was written.
    """
    ann_root = osp.join(out_dir, 'annotations')
    outputs = []
    for name, records in splits.items():
        path = osp.join(ann_root, f'{prefix}_{name}.json')
        builder.write(path, records)
        write_file_list(osp.join(ann_root, f'{prefix}_{name}.txt'), records)
        outputs.append(path)
    report_path = osp.join(ann_root, f'{prefix}_report.txt')
    report.write(report_path, title)
    return ConversionResult(
        splits=splits,
        builder=builder,
        report=report,
        report_path=report_path,
        outputs=outputs,
        split=split)
