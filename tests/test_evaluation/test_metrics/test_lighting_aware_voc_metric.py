"""LightingAwareVOCMetric against AP computed by hand on a small case.

Four images (x1 y1 x2 y2 boxes, IoU threshold 0.5, area-mode AP):

- img 1, light 1 (Low), indoor: GT People [0,0,10,10], Car [20,20,40,40];
  dets People [0,0,10,10] 0.9 (TP), People [50,50,60,60] 0.8 (FP),
  Car [20,20,40,40] 0.7 (TP).
- img 2, light 4 (Single), outdoor: GT People [0,0,10,10]; dets People
  [30,30,40,40] 0.95 (FP), People [1,1,11,11] 0.6 (IoU 81/119, TP).
- img 3, light 6 (Strong), outdoor: no GT, no detections.
- img 4, light 10 (Twilight), outdoor: GT Bicycle [0,0,5,5], no detection.

People overall, by score: FP, TP, FP, TP of 2 GT -> recall 0, .5, .5, 1 and
precision 0, .5, 1/3, .5; the precision envelope is .5 everywhere, so
AP = .5 * .5 + .5 * .5 = 0.5. Car: 1.0. Bicycle: 0.0 (no detection).
mAP = (0.5 + 1 + 0) / 3 = 0.5; recall = (1 + 1 + 0) / 3.
Low (img 1): People AP 1 (TP before FP), Car 1 -> 1.0.
Single (img 2): FP then TP of 1 GT -> AP 0.5.
Strong: images but no boxes -> absent. Twilight: 0.0 (present, not
absent). Object/Weak/...: no images -> absent.
Indoor (img 1) 1.0; outdoor (imgs 2-4): People 0.5, Bicycle 0 -> 0.25.
"""
import json

import pytest
import torch
from mmengine.structures import InstanceData

from lowlight.datasets import EXDARK_CLASSES
from lowlight.evaluation import LightingAwareVOCMetric
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample

PEOPLE, CAR, BICYCLE = (EXDARK_CLASSES.index(c)
                        for c in ('People', 'Car', 'Bicycle'))


def _sample(img_id, light, in_out, gts, dets):
    sample = DetDataSample(metainfo=dict(img_id=img_id, light=light,
                                         in_out=in_out))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([b for b, _ in gts],
                            dtype=torch.float32).reshape(-1, 4),
        labels=torch.tensor([lab for _, lab in gts], dtype=torch.long))
    sample.ignored_instances = InstanceData(
        bboxes=torch.zeros((0, 4)), labels=torch.zeros(0, dtype=torch.long))
    sample.pred_instances = InstanceData(
        bboxes=torch.tensor([b for b, _, _ in dets],
                            dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor([s for _, s, _ in dets], dtype=torch.float32),
        labels=torch.tensor([lab for _, _, lab in dets], dtype=torch.long))
    return sample.to_dict()


def _samples():
    return [
        _sample(1, 1, 1, [([0, 0, 10, 10], PEOPLE), ([20, 20, 40, 40], CAR)],
                [([0, 0, 10, 10], 0.9, PEOPLE),
                 ([50, 50, 60, 60], 0.8, PEOPLE),
                 ([20, 20, 40, 40], 0.7, CAR)]),
        _sample(2, 4, 2, [([0, 0, 10, 10], PEOPLE)],
                [([30, 30, 40, 40], 0.95, PEOPLE),
                 ([1, 1, 11, 11], 0.6, PEOPLE)]),
        _sample(3, 6, 2, [], []),
        _sample(4, 10, 2, [([0, 0, 5, 5], BICYCLE)], []),
    ]


def _evaluate(tmp_path, **kwargs):
    metric = METRICS.build(dict(type='LightingAwareVOCMetric',
                                out_dir=str(tmp_path), **kwargs))
    metric.dataset_meta = dict(classes=EXDARK_CLASSES)
    metric.process({}, _samples())
    return metric.evaluate(4)


def test_matches_hand_computed_ap(tmp_path):
    res = _evaluate(tmp_path)
    expected = {
        'voc/mAP': 0.5,
        'voc/recall': round(2 / 3, 4),
        'voc/AP50_People': 0.5,
        'voc/AP50_Car': 1.0,
        'voc/AP50_Bicycle': 0.0,
        'voc/AP50_light_Low': 1.0,
        'voc/AP50_light_Single': 0.5,
        'voc/AP50_light_Twilight': 0.0,
        'voc/AP50_indoor': 1.0,
        'voc/AP50_outdoor': 0.25,
    }
    assert res == pytest.approx(expected, abs=1e-4)
    # absent lighting types and classes without GT give no key at all
    assert set(res) == set(expected)


def test_breakdown_json_marks_absent_subsets(tmp_path):
    _evaluate(tmp_path, out_name='eval_test.json')
    data = json.loads((tmp_path / 'eval_test.json').read_text())
    lighting = data['lighting']
    assert lighting['Strong'] == dict(images=1, boxes=0, absent=True,
                                      reason='no boxes', id=6)
    assert lighting['Object']['absent'] and \
        lighting['Object']['reason'] == 'no images'
    assert lighting['Twilight']['absent'] is False
    assert lighting['Twilight']['mAP'] == 0.0
    assert lighting['Low']['classes']['People'] == dict(
        ap=1.0, recall=1.0, gts=1, dets=2)
    assert data['overall']['classes']['People']['ap'] == pytest.approx(0.5)
    assert data['in_out']['outdoor']['images'] == 3
    assert data['metrics']['mAP'] == pytest.approx(0.5)
    assert not list(tmp_path.glob('.*'))  # no temporary file left


def test_coco_map_and_table(tmp_path, capsys):
    res = _evaluate(tmp_path, coco_map=True)
    assert {'voc/coco_mAP', 'voc/coco_AP50', 'voc/coco_AP75'} <= set(res)
    # Car is found exactly, People with one FP above a TP: COCO AP lies
    # between 0 and 1 and AP50 is at least the mAP
    assert 0 < res['voc/coco_mAP'] <= res['voc/coco_AP50'] <= 1


def test_without_lighting_fields_and_out_dir(tmp_path):
    metric = LightingAwareVOCMetric()
    metric.dataset_meta = dict(classes=('face', ))
    sample = _sample(1, None, None, [([0, 0, 10, 10], 0)],
                     [([0, 0, 10, 10], 0.9, 0)])
    for key in ('light', 'in_out'):
        sample.pop(key)
    metric.process({}, [sample])
    expected = {'voc/mAP': 1.0, 'voc/recall': 1.0, 'voc/AP50_face': 1.0}
    assert metric.evaluate(1) == expected
    assert list(tmp_path.iterdir()) == []  # no out_dir: nothing written
    metric.out_dir = str(tmp_path)
    metric.process({}, [sample])
    assert metric.evaluate(1) == expected
    data = json.loads((tmp_path / 'lighting_eval.json').read_text())
    assert 'lighting' not in data and 'in_out' not in data


def test_the_runner_gives_its_work_dir_to_metrics_without_out_dir(
        tmp_path):
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope

    from lowlight.engine.runner import LowLightRunner
    init_default_scope('mmdet')
    runner = LowLightRunner.__new__(LowLightRunner)
    runner._work_dir = str(tmp_path)
    given = str(tmp_path / 'given')
    evaluator = runner.build_evaluator([
        dict(type='LightingAwareVOCMetric'),
        dict(type='LightingAwareVOCMetric', out_dir=given)
    ])
    assert isinstance(evaluator, Evaluator)
    assert [m.out_dir for m in evaluator.metrics] == [str(tmp_path), given]


def test_bad_arguments():
    with pytest.raises(ValueError, match='eval_mode'):
        LightingAwareVOCMetric(eval_mode='points')
