"""tools/analysis_tools/benchmark.py: two detectors measured in one run;
its counting and timing are tested in tests/test_analysis."""
import json
import os.path as osp

import pytest
import torch
from tool_loader import load_tool

from lowlight.analysis.backend_benchmark import benchmark_backends
from lowlight.apis import init_low_light_detector
from lowlight.testing import make_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
benchmark = load_tool('analysis_tools/benchmark')

# A plain mmdet YOLOv3 with a MobileNetV2 backbone (only its head is taken
# from our base config): no lowlight module in the model, so the tool is
# shown to work for any mmdet config.
YOLO_CONFIG = '''
_base_ = [{base!r}]
custom_imports = dict(imports=['lowlight'], allow_failed_imports=False)
default_scope = 'mmdet'
wf = {widen}
model = dict(
    _delete_=True,
    type='YOLOV3',
    data_preprocessor=dict(
        type='DetDataPreprocessor', mean=[0, 0, 0], std=[255., 255., 255.],
        bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='MobileNetV2', widen_factor=wf, out_indices=(2, 4, 6)),
    neck=dict(type='YOLOV3Neck', num_scales=3,
              in_channels=[int(320 * wf), int(96 * wf), int(32 * wf)],
              out_channels=[96, 96, 96]),
    bbox_head={{{{_base_.model.detector.bbox_head}}}},
    test_cfg=dict(
        nms_pre=100, min_bbox_size=0, score_thr=0.05, conf_thr=0.005,
        nms=dict(type='nms', iou_threshold=0.45), max_per_img=20))
'''
BASE = osp.join(REPO, 'configs', '_base_', 'models',
                't2_yolov3_mobilenetv2.py')


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    root = tmp_path_factory.mktemp('configs')
    paths = []
    for name, widen in (('small', 0.5), ('large', 1.0)):
        path = root / f'yolov3_{name}.py'
        path.write_text(YOLO_CONFIG.format(base=BASE, widen=widen))
        paths.append(str(path))
    return paths


def _n_params(config):
    model = init_low_light_detector(config)
    return sum(p.numel() for p in model.parameters())


def test_compare_in_one_run(configs, tmp_path):
    out = tmp_path / 'bench' / 'result.json'
    results = benchmark.main([
        configs[0], '--compare', configs[1], '--shape', '64', '96',
        '--batch-size', '2', '--device', 'cpu', '--warmup', '1', '--min-iters',
        '4', '--round-size', '2', '--max-time', '3', '--out',
        str(out)
    ])
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(results))
    assert not list(out.parent.glob('*.tmp')), 'temp file left behind'
    a, b = saved['models']['A'], saved['models']['B']
    assert saved['shape'] == [64, 96] and saved['batch_size'] == 2
    assert a['params'] == _n_params(configs[0])
    assert b['params'] == _n_params(configs[1])
    assert saved['ratios']['params'] == pytest.approx(b['params'] /
                                                      a['params'])
    assert b['flops'] > a['flops'] > 0
    assert saved['ratios']['flops'] == pytest.approx(b['flops'] / a['flops'])
    for entry in (a, b):
        assert entry['latency']['iterations'] >= 4
        assert entry['latency']['per_image_ms'] > 0
        assert entry['latency_p90_ms'] >= entry['latency_ms'] * 0.999
        # the throughput run is a separate measurement at batch size 2
        assert entry['throughput']['iterations'] >= 4
        assert entry['images_per_s'] == pytest.approx(
            2 / entry['throughput']['median_s'])
        assert isinstance(entry['latency']['stable'], bool)
    assert saved['ratios']['latency_ms'] == pytest.approx(b['latency_ms'] /
                                                          a['latency_ms'])


def test_checkpoint_is_loaded(configs, tmp_path):
    model = init_low_light_detector(configs[0])
    for p in model.parameters():
        torch.nn.init.constant_(p, 0.25)
    ckpt = tmp_path / 'w.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    loaded = init_low_light_detector(configs[0], str(ckpt))
    assert all(torch.all(p == 0.25) for p in loaded.parameters())


def test_bad_arguments(configs):
    with pytest.raises(SystemExit):
        benchmark.parse_args([configs[0], '--checkpoint', 'a', 'b'])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            benchmark.parse_args([configs[0], '--device', 'cuda'])


def test_backends_in_one_run(tmp_path):
    """PyTorch and ONNX Runtime on one tiny config (random weights, so the
    tool exports them itself), both steps timed for each."""
    config, _ = make_detector(tmp_path)
    out = tmp_path / 'backends.json'
    benchmark.main([
        config, '--backends', 'pytorch', 'onnxruntime', '--shape', '64', '64',
        '--warmup', '1', '--min-iters', '3', '--round-size', '3',
        '--max-time', '0.5', '--out',
        str(out)
    ])
    saved = json.loads(out.read_text())
    assert set(saved['backends']) == {'pytorch', 'onnxruntime'}
    for entry in saved['backends'].values():
        for step in ('network', 'detector'):
            assert entry[step]['images_per_s'] > 0
            assert entry[step]['latency_p90_ms'] >= \
                entry[step]['latency_ms'] * 0.999 > 0
    assert saved['torch_threads'] == 2 and saved['backend_threads'] == 2
    assert saved['ratios']['network'] == pytest.approx(
        saved['backends']['onnxruntime']['network']['images_per_s'] /
        saved['backends']['pytorch']['network']['images_per_s'])
    split = saved['breakdown_ms']
    assert split['decode'] > 0 and split['network'] > 0
    assert split['detector'] == pytest.approx(
        split['network'] + split['decode'] + split['rest'])


def test_unknown_backend_is_refused(configs, capsys):
    with pytest.raises(SystemExit):
        benchmark.parse_args([configs[0], '--backends', 'pytorch', 'tvm'])
    assert "unknown backend(s) ['tvm']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        benchmark.parse_args(
            [configs[0], '--compare', configs[1], '--backends', 'pytorch'])
    with pytest.raises(ValueError, match='unknown backend'):
        benchmark_backends(configs[0], backends=['tensorrt'])
