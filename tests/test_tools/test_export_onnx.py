"""tools/deployment/export_onnx.py: the exported T2 and plain detectors run
by ONNX Runtime give PyTorch's raw outputs and detections, in tools/test.py
and in a fresh process; bad files and unexportable models are refused."""
import json
import os
import os.path as osp
import subprocess
import sys

import onnx
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample

from lowlight.apis import init_low_light_detector
from lowlight.datasets.exdark import EXDARK_CLASSES
from lowlight.deployment import ModelFileError, OnnxRuntimeDetector
from lowlight.deployment.parity import compare_backends, raw_difference
from lowlight.engine.publish import sha256_of
from tiny_loader_options import tiny_loader_options
from tool_loader import REPO, load_tool

T2 = osp.join(REPO, 'configs', 't2',
              't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')
PLAIN = osp.join(REPO, 'configs', 't2', 'ablations',
                 'plain_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')
# the example input of the export (height and width stay dynamic): the 96x72
# sample images resized to fit 128x128
SHAPE = ('96', '128')


def _checkpoint(config: str, path: str) -> str:
    """A checkpoint of ``config`` whose T2 additions are not the identity
    (guidance heads random, correction exponent 0.5) and whose head's scores
    spread (no near-ties that float rounding could reorder), with class
    names."""
    init_default_scope('mmdet')
    set_random_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'backbone.heads' in name or 'convs_pred' in name:
                param.normal_(std=0.1)
            if name == 'input_correction.exponent':
                param.fill_(0.5)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=EXDARK_CLASSES))), path)
    return path


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """(checkpoint, onnx file) of the T2 and the plain sample configs."""
    folder = tmp_path_factory.mktemp('export')
    tool = load_tool('deployment/export_onnx')
    files = {}
    for name, config in (('t2', T2), ('plain', PLAIN)):
        checkpoint = _checkpoint(config, str(folder / f'{name}.pth'))
        out = str(folder / f'{name}.onnx')
        assert tool.main([config, checkpoint, '--out', out, '--shape',
                          *SHAPE]) == 0
        files[name] = (checkpoint, out)
    return files


def _props(path):
    return {p.key: p.value for p in onnx.load(path).metadata_props}


def test_metadata_records_config_checkpoint_shape_opset(exported):
    checkpoint, out = exported['t2']
    props = _props(out)
    assert props['lowlight.config'] == T2
    assert props['lowlight.checkpoint_sha256'] == sha256_of(checkpoint)
    assert props['lowlight.input_shape'] == '1,3,height,width'
    assert props['lowlight.opset'] == '18'
    assert props['lowlight.num_classes'] == '12'
    assert props['lowlight.output_groups'] == '[3]'  # YOLOv3: 3 maps
    assert not [f for f in os.listdir(osp.dirname(out)) if f.startswith('.')
                ]  # no temporary file left


@pytest.mark.parametrize('name,config', [('t2', T2), ('plain', PLAIN)])
def test_raw_outputs_match_pytorch(exported, name, config):
    checkpoint, out = exported[name]
    torch_model = init_low_light_detector(config, checkpoint)
    ort_model = init_low_light_detector(config, out, backend='onnxruntime')
    assert isinstance(ort_model, OnnxRuntimeDetector)
    assert ort_model.dataset_meta['classes'] == list(EXDARK_CLASSES)
    torch.manual_seed(1)
    for _ in range(2):
        inputs = torch.rand(1, 3, 96, 128) * 0.4
        with torch.no_grad():
            reference = torch_model._forward(inputs)
        assert raw_difference(reference, ort_model._forward(inputs)) < 1e-4


def test_same_detections_and_metrics_as_pytorch(exported, tiny_night_sample,
                                                tmp_path):
    checkpoint, out = exported['t2']
    cfg = Config.fromfile(T2)
    loader_cfg = cfg.test_dataloader
    loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader_cfg.dataset.data_root = tiny_night_sample
    loader_cfg.dataset.pipeline[1].scale = (128, 128)
    loader = Runner.build_dataloader(loader_cfg)
    torch_model = init_low_light_detector(cfg, checkpoint)
    ort_model = init_low_light_detector(cfg, out, backend='onnxruntime')
    report = compare_backends(torch_model, ort_model, loader)
    assert report.images == 2 and report.detections > 0
    assert report.unmatched == 0
    assert report.max_score_diff < 1e-4 and report.max_raw_diff < 1e-4

    options = tiny_loader_options(tiny_night_sample, 128)
    test = load_tool('test')
    metrics = {}
    runs = (('pth', checkpoint, []),
            ('onnx', out, ['--providers', 'CPUExecutionProvider']))
    for name, model_file, extra in runs:
        metrics[name] = test.main([
            T2, model_file, '--work-dir',
            str(tmp_path / name), *extra, '--cfg-options', *options
        ])
    assert metrics['pth'].keys() == metrics['onnx'].keys()
    for key, value in metrics['pth'].items():
        assert metrics['onnx'][key] == pytest.approx(value, abs=1e-3), key


def test_file_runs_in_a_fresh_process(exported):
    _, out = exported['t2']
    script = (
        'import torch\n'
        'from lowlight.apis import init_low_light_detector\n'
        f'm = init_low_light_detector({T2!r}, {out!r}, backend="onnxruntime")\n'
        'maps = m._forward(torch.full((1, 3, 96, 128), 0.2))[0]\n'
        'print(len(maps), tuple(maps[0].shape))\n')
    done = subprocess.run([sys.executable, '-c', script],
                          capture_output=True,
                          text=True,
                          cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split('\n')[0].startswith('3 (1, ')


def test_dynamic_batch_equals_one_by_one(exported, tmp_path):
    checkpoint, _ = exported['plain']
    out = str(tmp_path / 'dynamic.onnx')
    assert load_tool('deployment/export_onnx').main([
        PLAIN, checkpoint, '--out', out, '--shape', *SHAPE, '--dynamic-batch'
    ]) == 0
    assert _props(out)['lowlight.input_shape'] == 'batch,3,height,width'
    model = init_low_light_detector(PLAIN, out, backend='onnxruntime')
    batch = torch.rand(3, 3, 96, 128)
    together = model._forward(batch)[0]
    for i in range(3):
        alone = model._forward(batch[i:i + 1])[0]
        for a, b in zip(alone, together):
            torch.testing.assert_close(a[0], b[i], atol=1e-5, rtol=1e-5)


def _padded_batch(sizes, seed=0):
    """A data batch of dark random images of the given (h, w) sizes."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i, (h, w) in enumerate(sizes):
        inputs.append(
            torch.randint(0, 90, (3, h, w), generator=gen, dtype=torch.uint8))
        samples.append(
            DetDataSample(
                metainfo=dict(
                    img_id=i,
                    ori_shape=(h, w),
                    img_shape=(h, w),
                    scale_factor=(1., 1.))))
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('name,config', [('t2', T2), ('plain', PLAIN)])
def test_padded_images_match_pytorch(exported, name, config):
    """Images smaller than their padded batch (the enhancer of T2 sees only
    the real area in PyTorch) give PyTorch's raw maps and detections, also
    with two sizes in one batch; sizes other than the example's run."""
    checkpoint, out = exported[name]
    torch_model = init_low_light_detector(config, checkpoint)
    ort_model = init_low_light_detector(config, out, backend='onnxruntime')
    batches = [
        _padded_batch([(70, 100)]),  # padded to 96x128
        _padded_batch([(70, 100), (96, 128)], seed=1),  # both 96x128
        _padded_batch([(50, 60)], seed=2),  # padded to 64x64
    ]
    report = compare_backends(torch_model, ort_model, batches)
    assert report.images == 4 and report.detections > 0
    assert report.max_raw_diff < 1e-4
    assert report.unmatched == 0 and report.max_score_diff < 1e-4


def test_mixed_padded_sizes_run_per_size(exported):
    """A batch of images with different padded sizes is run one size at a
    time: each image gets the detections of its size's own batch."""
    model = init_low_light_detector(
        T2, exported['t2'][1], backend='onnxruntime')
    batch = model.data_preprocessor(
        _padded_batch([(40, 60), (96, 128)]), False)
    together = model.predict(batch['inputs'], batch['data_samples'])
    alone = model.data_preprocessor(_padded_batch([(40, 60)]), False)
    first = model.predict(alone['inputs'], alone['data_samples'])[0]
    torch.testing.assert_close(together[0].pred_instances.bboxes,
                               first.pred_instances.bboxes)
    with pytest.raises(ValueError, match='images of 2 sizes'):
        model._forward(batch['inputs'], batch['data_samples'])


def test_bad_model_files_are_refused_naming_the_file(exported, tmp_path,
                                                     tiny_night_sample):
    _, out = exported['t2']
    truncated = tmp_path / 'truncated.onnx'
    truncated.write_bytes(open(out, 'rb').read()[:5000])
    with pytest.raises(ModelFileError, match='truncated.onnx.*not a readable'):
        init_low_light_detector(T2, str(truncated), backend='onnxruntime')

    identity = onnx.helper.make_model(
        onnx.helper.make_graph(
            [onnx.helper.make_node('Identity', ['x'], ['y'])], 'foreign', [
                onnx.helper.make_tensor_value_info('x', onnx.TensorProto.FLOAT,
                                                   [1])
            ], [
                onnx.helper.make_tensor_value_info('y', onnx.TensorProto.FLOAT,
                                                   [1])
            ]))
    foreign = str(tmp_path / 'foreign.onnx')
    onnx.save(identity, foreign)
    with pytest.raises(ModelFileError, match='foreign.onnx has no lowlight'):
        init_low_light_detector(T2, foreign, backend='onnxruntime')

    with pytest.raises(ModelFileError, match='exported for 12 classes.*3'):
        init_low_light_detector(
            T2,
            out,
            cfg_options={'model.detector.bbox_head.num_classes': 3},
            backend='onnxruntime')
    with pytest.raises(ModelFileError, match='another model config'):
        init_low_light_detector(PLAIN, out, backend='onnxruntime')
    fixed = onnx.load(out)
    for entry in fixed.metadata_props:
        if entry.key == 'lowlight.input_shape':
            entry.value = '1,3,96,128'  # what an older export recorded
    onnx.save(fixed, str(tmp_path / 'fixed.onnx'))
    with pytest.raises(ModelFileError, match='fixed.onnx.*fixed input size'):
        init_low_light_detector(
            T2, str(tmp_path / 'fixed.onnx'), backend='onnxruntime')
    with pytest.raises(ModelFileError, match='CUDAExecutionProvider.*not'):
        cfg = Config.fromfile(T2)
        OnnxRuntimeDetector(
            out, cfg.model, providers=['CUDAExecutionProvider'])

    with pytest.raises(SystemExit, match='NoSuchExecutionProvider.*not'):
        load_tool('test').main([
            T2, out, '--providers', 'NoSuchExecutionProvider', '--work-dir',
            str(tmp_path / 'test'), '--cfg-options',
            *tiny_loader_options(tiny_night_sample, 128)
        ])
    with pytest.raises(SystemExit):  # argparse: no providers for a .pth
        load_tool('test').parse_args(
            [T2, 'epoch_8.pth', '--providers', 'CPUExecutionProvider'])
    with pytest.raises(SystemExit, match='error: .*truncated.onnx'):
        load_tool('test').main([
            T2,
            str(truncated), '--work-dir',
            str(tmp_path / 'test'), '--cfg-options',
            *tiny_loader_options(tiny_night_sample, 128)
        ])


def test_unexportable_op_is_named_and_no_file_written(tmp_path):
    cfg = Config.fromfile(PLAIN)
    cfg.model.detector.backbone = dict(
        type='ResNet',
        depth=50,
        base_channels=8,
        out_indices=(1, 2, 3),
        dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, False, True, True),
        init_cfg=None)
    cfg.model.detector.neck[0].in_channels = [256, 128, 64]
    config = str(tmp_path / 'dcn.py')
    cfg.dump(config)
    checkpoint = _checkpoint(config, str(tmp_path / 'dcn.pth'))
    out = tmp_path / 'dcn.onnx'
    with pytest.raises(SystemExit, match=r'layer3\.0\.conv2 .*mmcv\.ops'):
        load_tool('deployment/export_onnx').main(
            [config, checkpoint, '--out',
             str(out), '--shape', *SHAPE])
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]


def test_check_parity_tool(exported, tiny_night_sample, tmp_path, capsys):
    """check_parity.py: numbers of an exported file against its checkpoint
    (exit 0), and against other weights (exit 1)."""
    checkpoint, out = exported['t2']
    tool = load_tool('deployment/check_parity')
    options = ['--cfg-options', *tiny_loader_options(tiny_night_sample, 128)]
    report = tmp_path / 'parity.json'
    assert tool.main([
        T2, checkpoint, out, '--num-images', '2', '--out',
        str(report), *options
    ]) == 0
    result = json.loads(report.read_text())
    assert result['images'] == 2 and result['detections'] > 0
    assert result['unmatched'] == 0 and result['max_raw_diff'] < 1e-4
    assert result['ap_key'] == 'voc/mAP'
    assert result['ap']['onnxruntime'] == pytest.approx(
        result['ap']['pytorch'], abs=1e-3)
    assert '2 images: max raw difference' in capsys.readouterr().out

    other = torch.load(checkpoint, weights_only=True)
    for name, value in other['state_dict'].items():
        if 'convs_pred' in name:
            value.add_(0.05)
    torch.save(other, str(tmp_path / 'other.pth'))
    assert tool.main(
        [T2,
         str(tmp_path / 'other.pth'), out, '--num-images', '2', *options]) == 1
