"""Do two backends give the same detector? Raw outputs and detections of a
PyTorch model and of its exported file, compared on the same batches."""
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, List, Sequence

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData


@dataclass
class ParityReport:
    """Worst differences seen over all compared images.

    Attributes:
        images (int): images compared.
        max_raw_diff (float): largest absolute difference of any raw head
            output.
        detections (int): detections of the reference backend.
        unmatched (int): reference detections without a same-label match of
            IoU > ``iou_thr`` in the other backend, plus detections of the
            other backend left over.
        max_score_diff (float): largest score difference of matched pairs.
    """

    images: int = 0
    max_raw_diff: float = 0.0
    detections: int = 0
    unmatched: int = 0
    max_score_diff: float = 0.0

    def as_dict(self) -> Dict:
        return asdict(self)


def raw_difference(reference: Iterable, other: Iterable) -> float:
    """Max |a - b| over two nested sequences of same-shaped tensors."""
    worst = 0.0
    for ref_group, other_group in zip(reference, other):
        for a, b in zip(ref_group, other_group):
            if a.shape != b.shape:
                raise ValueError(f'raw output shapes differ: {tuple(a.shape)}'
                                 f' vs {tuple(b.shape)}')
            worst = max(worst, float((a.float() - b.float()).abs().max()))
    return worst


def match_detections(reference: InstanceData,
                     other: InstanceData,
                     iou_thr: float = 0.99) -> tuple:
    """Greedy one-to-one matching of two detection sets, highest score
    first, same label, IoU > ``iou_thr``.

    Returns:
        tuple: (number unmatched on either side, max score difference of
        the matched pairs).
    """
    if len(reference) == 0 or len(other) == 0:
        return len(reference) + len(other), 0.0
    ious = bbox_overlaps(reference.bboxes.float(), other.bboxes.float())
    same_label = reference.labels[:, None] == other.labels[None, :]
    ious = torch.where(same_label, ious, torch.zeros_like(ious))
    taken = torch.zeros(len(other), dtype=torch.bool)
    worst, matched = 0.0, 0
    for i in torch.argsort(reference.scores, descending=True).tolist():
        candidates = torch.where(taken, torch.zeros_like(ious[i]), ious[i])
        j = int(candidates.argmax())
        if candidates[j] > iou_thr:
            taken[j] = True
            matched += 1
            worst = max(worst,
                        float((reference.scores[i] - other.scores[j]).abs()))
    return len(reference) + len(other) - 2 * matched, worst


def size_groups(inputs: torch.Tensor, samples: Sequence,
                divisor: int = 1) -> List[tuple]:
    """The images of a padded batch grouped by ``img_shape``, each group
    as its own batch padded to a multiple of ``divisor``.

    Returns:
        list[tuple]: (indices, (n, 3, H', W') inputs, their samples).
    """
    sizes: Dict[tuple, List[int]] = {}
    for i, sample in enumerate(samples):
        sizes.setdefault(tuple(sample.metainfo['img_shape'][:2]),
                         []).append(i)
    groups = []
    for (h, w), indices in sizes.items():
        padded_h, padded_w = (-(-int(v) // divisor) * divisor for v in (h, w))
        groups.append((indices, inputs[indices, :, :padded_h, :padded_w],
                       [samples[i] for i in indices]))
    return groups


def compare_backends(reference: torch.nn.Module, other: torch.nn.Module,
                     batches: Iterable[Dict],
                     iou_thr: float = 0.99) -> ParityReport:
    """Run both detectors on every data batch and collect the differences.

    Raw outputs are compared per image size (each size as its own padded
    batch, the samples' ``img_shape`` given to both backends); detections
    on the batches as they come.

    Args:
        reference (nn.Module): e.g. the PyTorch detector.
        other (nn.Module): e.g. its :class:`OnnxRuntimeDetector`.
        batches (Iterable[dict]): data batches (``inputs``,
            ``data_samples``), as a dataloader yields them.
        iou_thr (float): IoU above which two detections match.

    Returns:
        ParityReport: over all images.
    """
    report = ParityReport()
    divisor = getattr(reference.data_preprocessor, 'pad_size_divisor', 1)
    with torch.no_grad():
        for batch in batches:
            data = reference.data_preprocessor(batch, False)
            inputs, samples = data['inputs'], data['data_samples']
            for _, group_inputs, group_samples in size_groups(
                    inputs, samples, divisor):
                report.max_raw_diff = max(
                    report.max_raw_diff,
                    raw_difference(
                        reference._forward(group_inputs, group_samples),
                        other._forward(group_inputs, group_samples)))
            ref_out = reference.predict(inputs, [s.clone() for s in samples])
            other_out = other.predict(inputs, [s.clone() for s in samples])
            for a, b in zip(ref_out, other_out):
                unmatched, score_diff = match_detections(
                    a.pred_instances, b.pred_instances, iou_thr)
                report.images += 1
                report.detections += len(a.pred_instances)
                report.unmatched += unmatched
                report.max_score_diff = max(report.max_score_diff, score_diff)
    return report
