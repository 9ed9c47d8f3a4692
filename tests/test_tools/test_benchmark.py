import json
import os.path as osp

import pytest
import torch

from lowlight.apis import init_low_light_detector
from tool_loader import load_tool

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


def test_flops_scale_with_image_area(configs):
    model = init_low_light_detector(configs[0])
    small = benchmark.count_complexity(model, 64, 64)
    large = benchmark.count_complexity(model, 128, 128)
    # convolutions dominate: 4x the pixels, 4x the FLOPs
    assert large['flops'] / small['flops'] == pytest.approx(4, rel=0.02)
    assert small['params'] == large['params']
    # the forward is restored after tracing
    assert 'forward' not in vars(model)


def test_deformable_conv_flops_are_counted():
    from mmcv.ops import ModulatedDeformConv2dPack
    dcn = ModulatedDeformConv2dPack(4, 8, 3, padding=1).eval()
    analyzer = benchmark.make_flop_analyzer(dcn, torch.rand(1, 4, 16, 16))
    # offset/mask conv (4 -> 27 channels) + the deformable conv (4 -> 8),
    # both 3x3 over 16x16 outputs
    expected = (27 + 8) * 16 * 16 * 4 * 9
    assert analyzer.total() == expected
    assert not [op for op in analyzer.unsupported_ops() if 'Deform' in op]


def test_checkpoint_is_loaded(configs, tmp_path):
    model = init_low_light_detector(configs[0])
    for p in model.parameters():
        torch.nn.init.constant_(p, 0.25)
    ckpt = tmp_path / 'w.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    loaded = init_low_light_detector(configs[0], str(ckpt))
    assert all(torch.all(p == 0.25) for p in loaded.parameters())


def test_interleaved_timing_stops_when_stable(monkeypatch):
    clock = [0.]
    calls = []
    monkeypatch.setattr(benchmark.time, 'perf_counter', lambda: clock[0])

    def step(name, cost):

        def run():
            calls.append(name)
            clock[0] += cost

        return run

    res = benchmark.time_interleaved(
        dict(A=step('A', 0.5), B=step('B', 1.0)),
        batch_size=2,
        warmup=2,
        min_iters=6,
        round_size=3,
        rel_tol=0.01,
        max_time=100)
    assert calls[:4] == ['A', 'B', 'A', 'B']
    assert calls == ['A', 'B'] * (len(calls) // 2)
    assert res['A']['stable'] and res['A']['iterations'] == 6
    assert res['A']['median_s'] == 0.5 and res['B']['median_s'] == 1.0
    assert res['A']['per_image_ms'] == 250.
    assert res['B']['images_per_s'] == 2.


def test_interleaved_timing_gives_up_after_max_time(monkeypatch):
    clock = [0.]
    cost = [1.]
    monkeypatch.setattr(benchmark.time, 'perf_counter', lambda: clock[0])

    def slower_each_time():
        cost[0] *= 1.2
        clock[0] += cost[0]

    res = benchmark.time_interleaved(
        dict(A=slower_each_time),
        batch_size=1,
        warmup=0,
        min_iters=2,
        round_size=2,
        rel_tol=0.01,
        max_time=50)
    assert not res['A']['stable']
    assert res['A']['iterations'] < 20


def test_bad_arguments(configs):
    with pytest.raises(SystemExit):
        benchmark.parse_args([configs[0], '--checkpoint', 'a', 'b'])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            benchmark.parse_args([configs[0], '--device', 'cuda'])
