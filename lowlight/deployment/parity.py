"""Do two backends give the same detector? Raw outputs and detections of a
PyTorch model and of its exported file, compared on the same batches, and
(:func:`check_parity`) the AP of each on a config's test images."""
import copy
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, List, Optional, Sequence

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner
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


def size_groups(inputs: torch.Tensor,
                samples: Sequence,
                divisor: int = 1) -> List[tuple]:
    """The images of a padded batch grouped by ``img_shape``, each group
    as its own batch padded to a multiple of ``divisor``.

    Returns:
        list[tuple]: (indices, (n, 3, H', W') inputs, their samples).
    """
    sizes: Dict[tuple, List[int]] = {}
    for i, sample in enumerate(samples):
        sizes.setdefault(tuple(sample.metainfo['img_shape'][:2]), []).append(i)
    groups = []
    for (h, w), indices in sizes.items():
        padded_h, padded_w = (-(-int(v) // divisor) * divisor for v in (h, w))
        groups.append((indices, inputs[indices, :, :padded_h, :padded_w],
                       [samples[i] for i in indices]))
    return groups


def compare_backends(reference: torch.nn.Module,
                     other: torch.nn.Module,
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
    for batch in batches:
        _compare_batch(reference, other, batch, iou_thr, report)
    return report


def _compare_batch(reference: torch.nn.Module, other: torch.nn.Module,
                   batch: Dict, iou_thr: float, report: ParityReport) -> tuple:
    """Compare one data batch into ``report``; return both backends'
    predicted samples."""
    divisor = getattr(reference.data_preprocessor, 'pad_size_divisor', 1)
    with torch.no_grad():
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
        unmatched, score_diff = match_detections(a.pred_instances,
                                                 b.pred_instances, iou_thr)
        report.images += 1
        report.detections += len(a.pred_instances)
        report.unmatched += unmatched
        report.max_score_diff = max(report.max_score_diff, score_diff)
    return ref_out, other_out


def check_parity(config: str,
                 checkpoint: str,
                 model_file: str,
                 num_images: Optional[int] = 50,
                 iou_thr: float = 0.99,
                 ap_key: str = 'voc/mAP',
                 cfg_options: Optional[dict] = None) -> Dict:
    """Compare a trained checkpoint and its exported file on the first
    ``num_images`` images of the config's test split.

    Both backends see the same batches of the config's test dataloader;
    each backend's detections are scored with the config's
    ``test_evaluator`` (for our configs ``LightingAwareVOCMetric``).

    Args:
        config (str): the model's config.
        checkpoint (str): its ``.pth``, loaded weights-only.
        model_file (str): the ``.onnx`` exported from them.
        num_images (int, optional): test images; None: the whole split.
        iou_thr (float): IoU above which two detections match.
        ap_key (str): the metric key compared. Defaults to ``'voc/mAP'``
            (AP@0.5 for ``LightingAwareVOCMetric(iou_thr=0.5)``).
        cfg_options (dict, optional): config overrides.

    Returns:
        dict: the :class:`ParityReport` fields, ``ap`` (backend -> the
        ``ap_key`` value), ``ap_diff`` (onnxruntime minus pytorch), and
        the files compared.

    Raises:
        lowlight.engine.CheckpointLoadError: a refused checkpoint or model
            file (:class:`ModelFileError`).
    """
    # deferred: lowlight.apis imports this package for its backends
    from ..apis.inference import init_low_light_detector
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    models = dict(
        pytorch=init_low_light_detector(cfg, checkpoint),
        onnxruntime=init_low_light_detector(
            cfg, model_file, backend='onnxruntime'))
    loader_cfg = copy.deepcopy(cfg.test_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    if num_images is not None:
        loader_cfg.dataset.indices = int(num_images)
    loader = Runner.build_dataloader(loader_cfg)
    evaluators = {}
    for name in models:
        evaluators[name] = Evaluator(copy.deepcopy(cfg.test_evaluator))
        evaluators[name].dataset_meta = loader.dataset.metainfo
    report = ParityReport()
    for batch in loader:
        outputs = _compare_batch(models['pytorch'], models['onnxruntime'],
                                 batch, iou_thr, report)
        for name, samples in zip(models, outputs):
            evaluators[name].process(data_samples=samples, data_batch=batch)
    ap = {
        name: float(evaluator.evaluate(report.images)[ap_key])
        for name, evaluator in evaluators.items()
    }
    return dict(
        report.as_dict(),
        ap_key=ap_key,
        ap=ap,
        ap_diff=ap['onnxruntime'] - ap['pytorch'],
        config=str(config),
        checkpoint=str(checkpoint),
        model_file=str(model_file))
