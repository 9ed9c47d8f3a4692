"""VOC AP@0.5 overall, per class, per lighting type and indoor/outdoor."""
import contextlib
import io
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from terminaltables import AsciiTable

from mmdet.datasets.api_wrappers import COCO, COCOeval
from mmdet.evaluation.functional import eval_map
from mmdet.registry import METRICS
from ...datasets.exdark import EXDARK_IN_OUT, EXDARK_LIGHTS
from ...utils.file_io import atomic_dump_json


def _to_numpy(value) -> np.ndarray:
    """Tensor, boxes object or array -> numpy array."""
    if hasattr(value, 'cpu'):
        value = value.cpu()
    if hasattr(value, 'numpy'):
        value = value.numpy()
    return np.asarray(value)


@METRICS.register_module()
class LightingAwareVOCMetric(BaseMetric):
    """VOC-style AP with a breakdown by lighting condition.

    Computes, with :func:`mmdet.evaluation.functional.eval_map`, the AP at
    ``iou_thr`` (area mode by default, as peer low-light papers report):
    over all images, per class, and over the images of each lighting type
    and of indoor / outdoor scenes, plus the recall. Optionally also COCO
    mAP@[.5:.95] through pycocotools. The full breakdown (with per-class AP
    inside every subset, the number of images and boxes, and the subsets
    that had no images, marked absent) is written as JSON and printed as a
    table.

    Metric keys (with the default prefix ``voc``; AP and recall in [0, 1]):

    - ``voc/mAP``: mean AP over classes that have ground truth;
    - ``voc/recall``: mean over those classes of the recall reached with
      all detections;
    - ``voc/AP50_<Class>``: AP of each class with ground truth (``AP75_``
      etc. for another ``iou_thr``);
    - ``voc/AP50_light_<Name>``: mAP over the images of each ExDark
      lighting type that has images with boxes (``Low``, ``Ambient``,
      ``Object``, ``Single``, ``Weak``, ``Strong``, ``Screen``,
      ``Window``, ``Shadow``, ``Twilight``); absent types give no key;
    - ``voc/AP50_indoor``, ``voc/AP50_outdoor``;
    - with ``coco_map=True``: ``voc/coco_mAP`` (AP@[.5:.95]),
      ``voc/coco_AP50``, ``voc/coco_AP75``.

    Data samples need ``gt_instances`` in original image coordinates (put
    ``LoadAnnotations`` after ``Resize`` in the test pipeline) and, for the
    breakdown, ``light`` and ``in_out`` in their metainfo (add them to
    ``PackDetInputs``'s ``meta_keys``; ``ExDarkDataset`` provides them).
    Without them only the overall and per-class results are given.

    Args:
        iou_thr (float): IoU threshold of a true positive. Defaults to 0.5.
        eval_mode (str): ``'area'`` or ``'11points'``. Defaults to
            ``'area'``.
        use_legacy_coordinate (bool): Add 1 to box widths and heights
            (the old VOC pixel convention). Our COCO boxes use continuous
            coordinates. Defaults to False.
        coco_map (bool): Also compute COCO mAP@[.5:.95]. Defaults to False.
        out_dir (str, optional): Folder for the JSON breakdown; None writes
            none. ``LowLightRunner`` sets its ``work_dir`` here when the
            config leaves it at None.
        out_name (str): File name of the JSON breakdown. Use different names
            for the val and test evaluators. Defaults to
            ``'lighting_eval.json'``.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to ``'voc'``.
    """

    default_prefix: Optional[str] = 'voc'

    def __init__(self,
                 iou_thr: float = 0.5,
                 eval_mode: str = 'area',
                 use_legacy_coordinate: bool = False,
                 coco_map: bool = False,
                 out_dir: Optional[str] = None,
                 out_name: str = 'lighting_eval.json',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if eval_mode not in ('area', '11points'):
            raise ValueError(f"eval_mode must be 'area' or '11points', got "
                             f'{eval_mode!r}')
        self.iou_thr = iou_thr
        self.eval_mode = eval_mode
        self.use_legacy_coordinate = use_legacy_coordinate
        self.coco_map = coco_map
        self.out_dir = out_dir
        self.out_name = out_name
        self.ap_key = f'AP{int(round(iou_thr * 100)):02d}'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep each sample's ground truth, detections and lighting.

        Args:
            data_batch (dict): Unused.
            data_samples (Sequence[dict]): Packed ``DetDataSample`` dicts
                with ``gt_instances``, ``pred_instances`` and metainfo.
        """
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            gt = sample['gt_instances']
            ignored = sample.get('ignored_instances') or {}
            pred = sample['pred_instances']
            boxes = _to_numpy(pred['bboxes']).reshape(-1, 4)
            scores = _to_numpy(pred['scores'])
            labels = _to_numpy(pred['labels'])
            dets = [
                np.hstack([boxes[labels == c], scores[labels == c, None]])
                for c in range(num_classes)
            ]
            ann = dict(
                bboxes=_to_numpy(gt['bboxes']).reshape(-1, 4),
                labels=_to_numpy(gt['labels']).astype(np.int64),
                bboxes_ignore=_to_numpy(ignored.get(
                    'bboxes', np.zeros((0, 4)))).reshape(-1, 4),
                labels_ignore=_to_numpy(ignored.get(
                    'labels', np.zeros(0))).astype(np.int64))
            self.results.append(
                dict(img_id=sample.get('img_id'), ann=ann, dets=dets,
                     light=sample.get('light'), in_out=sample.get('in_out')))

    def _evaluate(self, results: List[dict]) -> Dict:
        """AP, recall and counts over one subset of images."""
        classes = self.dataset_meta['classes']
        num_boxes = int(sum(len(r['ann']['labels']) for r in results))
        entry = dict(images=len(results), boxes=num_boxes)
        if not results or num_boxes == 0:
            return dict(entry, absent=True,
                        reason='no images' if not results else 'no boxes')
        mean_ap, per_class = eval_map(
            [r['dets'] for r in results], [r['ann'] for r in results],
            iou_thr=self.iou_thr,
            dataset=list(classes),
            logger='silent',
            nproc=1,
            use_legacy_coordinate=self.use_legacy_coordinate,
            eval_mode=self.eval_mode)
        class_results, recalls = OrderedDict(), []
        for name, res in zip(classes, per_class):
            if res['num_gts'] == 0:
                continue
            recall = float(np.asarray(res['recall']).reshape(-1)[-1]) \
                if res['num_dets'] > 0 else 0.0
            recalls.append(recall)
            class_results[name] = dict(
                ap=float(res['ap']), recall=recall,
                gts=int(res['num_gts']), dets=int(res['num_dets']))
        return dict(entry, absent=False, mAP=float(mean_ap),
                    recall=float(np.mean(recalls)), classes=class_results)

    def _coco_map(self, results: List[dict]) -> Dict[str, float]:
        """COCO AP@[.5:.95], AP50 and AP75 with pycocotools."""
        images, anns, dets = [], [], []
        for index, res in enumerate(results):
            images.append(dict(id=index + 1))
            gts = [(b, l, 0) for b, l in zip(res['ann']['bboxes'],
                                               res['ann']['labels'])]
            gts += [(b, l, 1) for b, l in zip(res['ann']['bboxes_ignore'],
                                               res['ann']['labels_ignore'])]
            for box, label, crowd in gts:
                w, h = float(box[2] - box[0]), float(box[3] - box[1])
                anns.append(dict(id=len(anns) + 1, image_id=index + 1,
                                 category_id=int(label) + 1,
                                 bbox=[float(box[0]), float(box[1]), w, h],
                                 area=w * h, iscrowd=crowd))
            for label, cls_dets in enumerate(res['dets']):
                for x1, y1, x2, y2, score in cls_dets:
                    dets.append(dict(image_id=index + 1, category_id=label + 1,
                                     bbox=[float(x1), float(y1),
                                           float(x2 - x1), float(y2 - y1)],
                                     score=float(score)))
        if not anns or not dets:
            return dict(coco_mAP=0.0, coco_AP50=0.0, coco_AP75=0.0)
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO()
            gt.dataset = dict(
                images=images, annotations=anns,
                categories=[dict(id=i + 1, name=n) for i, n in enumerate(
                    self.dataset_meta['classes'])])
            gt.createIndex()
            coco_eval = COCOeval(gt, gt.loadRes(dets), 'bbox')
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
        stats = coco_eval.stats
        return dict(coco_mAP=float(stats[0]), coco_AP50=float(stats[1]),
                    coco_AP75=float(stats[2]))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute the breakdown, write it as JSON and print a table.

        Args:
            results (list[dict]): What :meth:`process` kept, all ranks.

        Returns:
            dict[str, float]: The metric keys listed in the class docstring
            (without the prefix, which the evaluator adds).
        """
        breakdown = OrderedDict(
            iou_thr=self.iou_thr, eval_mode=self.eval_mode,
            overall=self._evaluate(results))
        has_light = any(r['light'] is not None for r in results)
        has_in_out = any(r['in_out'] is not None for r in results)
        if has_light:
            breakdown['lighting'] = OrderedDict(
                (name, dict(self._evaluate(
                    [r for r in results if r['light'] == light]), id=light))
                for light, name in EXDARK_LIGHTS.items())
        if has_in_out:
            breakdown['in_out'] = OrderedDict(
                (name, dict(self._evaluate(
                    [r for r in results if r['in_out'] == value]), id=value))
                for value, name in EXDARK_IN_OUT.items())
        metrics = OrderedDict()
        overall = breakdown['overall']
        metrics['mAP'] = overall.get('mAP', 0.0)
        metrics['recall'] = overall.get('recall', 0.0)
        for name, res in overall.get('classes', {}).items():
            metrics[f'{self.ap_key}_{name}'] = res['ap']
        for group, key in (('lighting', 'light_'), ('in_out', '')):
            for name, res in breakdown.get(group, {}).items():
                if not res['absent']:
                    metrics[f'{self.ap_key}_{key}{name}'] = res['mAP']
        if self.coco_map:
            breakdown['coco'] = self._coco_map(results)
            metrics.update(breakdown['coco'])
        breakdown['metrics'] = dict(metrics)
        self._print_table(breakdown)
        if self.out_dir is not None:
            path = osp.join(self.out_dir, self.out_name)
            atomic_dump_json(breakdown, path, indent=2)
            print_log(f'lighting breakdown written to {path}',
                      logger='current')
        return {k: round(v, 4) for k, v in metrics.items()}

    def _print_table(self, breakdown: Dict) -> None:
        """Log per-class and per-subset tables (absent subsets marked)."""
        overall = breakdown['overall']
        rows = [['class', 'gts', 'dets', 'recall', self.ap_key]]
        for name, res in overall.get('classes', {}).items():
            rows.append([name, res['gts'], res['dets'],
                         f"{res['recall']:.3f}", f"{res['ap']:.3f}"])
        rows.append(['mAP', overall['boxes'], '',
                     f"{overall.get('recall', 0.0):.3f}",
                     f"{overall.get('mAP', 0.0):.3f}"])
        table = AsciiTable(rows)
        table.inner_footing_row_border = True
        text = '\n' + table.table
        subsets = [['subset', 'images', 'gts', 'recall', f'm{self.ap_key}']]
        for group in ('lighting', 'in_out'):
            for name, res in breakdown.get(group, {}).items():
                if res['absent']:
                    subsets.append([name, res['images'], res['boxes'],
                                    'absent', 'absent'])
                else:
                    subsets.append([name, res['images'], res['boxes'],
                                    f"{res['recall']:.3f}",
                                    f"{res['mAP']:.3f}"])
        if len(subsets) > 1:
            text += '\n' + AsciiTable(subsets).table
        if 'coco' in breakdown:
            text += '\nCOCO ' + ', '.join(
                f'{k}={v:.3f}' for k, v in breakdown['coco'].items())
        print_log(text, logger='current')
