"""Reduced-precision copies of an exported file.

tools/deployment/quantize_onnx.py makes an int8 file that records how it
was calibrated, keeps the enhancer and the head's outputs in float32, runs
wherever an exported file runs, and stays close to the float32 outputs;
bad calibration input is reported, never a broken file.
``convert_to_float16`` makes a float16 copy (for GPU providers) whose
enhancer, input and outputs stay float32."""
import os.path as osp

import cv2
import numpy as np
import onnx
import pytest
import torch

from lowlight.apis import init_low_light_detector
from lowlight.datasets.exdark import EXDARK_CLASSES
from lowlight.deployment import (QuantizationError, convert_to_float16,
                                 quantize_onnx, read_model_metadata)
from lowlight.deployment.quantize import _NAME_SCOPES
from lowlight.testing import make_detector
from tiny_loader_options import tiny_loader_options
from tool_loader import REPO, load_tool

T2 = osp.join(REPO, 'configs', 't2',
              't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')


def _images(folder, count, size=(72, 96), seed=0):
    """A folder of ``count`` dark random BGR images."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        cv2.imwrite(
            str(folder / f'{i}.png'),
            rng.integers(0, 90, (*size, 3), dtype=np.uint8))
    return str(folder)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """(config, exported float32 file, folder of 4 images) of the tiny
    3-class YOLOv3."""
    folder = tmp_path_factory.mktemp('quantize')
    config, checkpoint = make_detector(folder, scale=64)
    model_file = str(folder / 'tiny.onnx')
    assert load_tool('deployment/export_onnx').main(
        [config, checkpoint, '--out', model_file, '--shape', '64', '64']) == 0
    return config, model_file, _images(folder / 'calib', 4, (64, 64))


def _op_types(path):
    return [node.op_type for node in onnx.load(path).graph.node]


def _scopes(node):
    props = {p.key: p.value for p in node.metadata_props}
    return props.get(_NAME_SCOPES, '')


def test_t2_file_calibrated_on_the_train_split(tiny_night_sample, tmp_path):
    """The T2 sample config: its body goes int8 on the train split's
    images, its enhancer stays float32, and tools/test.py evaluates it."""
    tool = load_tool('deployment/export_onnx')
    model = init_low_light_detector(T2)
    checkpoint = str(tmp_path / 't2.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=EXDARK_CLASSES))), checkpoint)
    fp32 = str(tmp_path / 't2.onnx')
    assert tool.main([T2, checkpoint, '--out', fp32, '--shape', '96',
                      '128']) == 0
    int8 = str(tmp_path / 't2_int8.onnx')
    options = tiny_loader_options(tiny_night_sample, 128)
    assert load_tool('deployment/quantize_onnx').main(
        [T2, fp32, '--out', int8, '--cfg-options', *options]) == 0

    meta = read_model_metadata(int8)
    assert meta.precision == 'int8'
    # the tiny sample's train split holds 4 images
    assert meta.calibration.startswith('minmax on 4 images of the train')
    assert read_model_metadata(fp32).precision == 'fp32'
    graph = onnx.load(int8).graph
    made_by = {out: node for node in graph.node for out in node.output}

    def reads_int8(node):  # a convolution with int8 weights
        weight = made_by.get(node.input[1])
        return weight is not None and weight.op_type == 'DequantizeLinear'

    convs = [n for n in graph.node if n.op_type == 'Conv']
    body = [n for n in convs if 'detector.detector.backbone' in _scopes(n)]
    enhancer = [n for n in convs if 'detector.enhancer' in _scopes(n)]
    assert body and enhancer
    assert all(reads_int8(n) for n in body)
    assert not any(reads_int8(n) for n in enhancer)
    # the head's output convolutions (the graph outputs) stay float32
    heads = [made_by[o.name] for o in graph.output]
    assert {n.op_type for n in heads} == {'Conv'}
    assert not any(reads_int8(n) for n in heads)

    # the float16 copy: the body computes in float16, the enhancer in
    # float32 (on weights stored as float16 and cast up)
    half = str(tmp_path / 't2_fp16.onnx')
    assert convert_to_float16(fp32, half).precision == 'fp16'
    graph = onnx.load(half).graph
    stored = {i.name: i.data_type for i in graph.initializer}
    made_by = {out: node for node in graph.node for out in node.output}

    def weight_type(conv):
        name = conv.input[1]
        if name in stored:
            return stored[name]
        cast = made_by[name]
        assert cast.op_type == 'Cast', cast.op_type
        return onnx.helper.get_attribute_value(cast.attribute[0])

    types = {
        part: {
            weight_type(n)
            for n in graph.node
            if n.op_type == 'Conv' and f'detector.{part}' in _scopes(n)
        }
        for part in ('enhancer', 'detector.backbone')
    }
    assert types == {
        'enhancer': {onnx.TensorProto.FLOAT},
        'detector.backbone': {onnx.TensorProto.FLOAT16}
    }
    with pytest.raises(QuantizationError, match='fp16 already'):
        quantize_onnx(T2, half, str(tmp_path / 'q.onnx'))

    metrics = load_tool('test').main([
        T2, int8, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *options
    ])
    assert 'voc/mAP' in metrics


def test_int8_outputs_follow_float32(tiny, tmp_path, capsys):
    config, fp32, calib = tiny
    int8 = str(tmp_path / 'int8.onnx')
    assert load_tool('deployment/quantize_onnx').main(
        [config, fp32, '--out', int8, '--calib-dir', calib, '--method',
         'percentile']) == 0
    assert f'wrote {int8}: int8, percentile on 4 images of {calib}' in \
        capsys.readouterr().out
    assert 'QuantizeLinear' in _op_types(int8)
    assert 'QuantizeLinear' not in _op_types(fp32)
    models = [
        init_low_light_detector(config, f, backend='onnxruntime')
        for f in (fp32, int8)
    ]
    torch.manual_seed(0)
    inputs = torch.rand(1, 3, 64, 64) * 0.35
    reference, approx = (m._forward(inputs)[0] for m in models)
    for ref, app in zip(reference, approx):
        ref, app = ref.flatten(), app.flatten()
        assert not torch.equal(ref, app)  # int8 arithmetic did run
        corr = torch.corrcoef(torch.stack([ref, app]))[0, 1]
        assert corr > 0.98, corr


def test_bad_calibration_input_is_reported(tiny, tmp_path):
    config, fp32, calib = tiny
    out = tmp_path / 'int8.onnx'
    with pytest.raises(QuantizationError, match='missing.*does not exist'):
        quantize_onnx(config, fp32, str(out), calib_dir=str(tmp_path /
                                                            'missing'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(QuantizationError, match='empty holds no image'):
        quantize_onnx(config, fp32, str(out), calib_dir=str(tmp_path /
                                                            'empty'))
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'a.jpg').write_bytes(b'not an image')
    with pytest.warns(UserWarning, match='a.jpg skipped'):
        with pytest.raises(QuantizationError, match='no image of .*broken'):
            quantize_onnx(config, fp32, str(out), calib_dir=str(broken))
    with pytest.raises(QuantizationError, match='unknown calibration'):
        quantize_onnx(config, fp32, str(out), calib_dir=calib, method='kl')
    with pytest.raises(QuantizationError, match='no train_dataloader'):
        quantize_onnx(config, fp32, str(out))
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]

    # a damaged image among good ones is skipped, the rest calibrate
    _images(broken, 2)
    with pytest.warns(UserWarning, match='a.jpg skipped'):
        meta = quantize_onnx(config, fp32, str(out), calib_dir=str(broken))
    assert meta.calibration.startswith('minmax on 2 images of')

    with pytest.raises(QuantizationError, match='int8 already'):
        quantize_onnx(config, str(out), str(tmp_path / 'twice.onnx'),
                      calib_dir=calib)
    with pytest.raises(SystemExit, match='error: .*int8 already'):
        load_tool('deployment/quantize_onnx').main([
            config,
            str(out), '--out',
            str(tmp_path / 'twice.onnx'), '--calib-dir', calib
        ])
    with pytest.raises(SystemExit):
        load_tool('deployment/quantize_onnx').parse_args(
            [config, fp32, '--out', 'model.pth'])


def test_float16_copy_keeps_float32_input_and_outputs(tiny, tmp_path):
    config, fp32, _ = tiny
    half = str(tmp_path / 'half.onnx')
    meta = convert_to_float16(fp32, half)
    assert meta.precision == 'fp16'
    assert read_model_metadata(half) == meta
    graph = onnx.load(half).graph
    for value in list(graph.input) + list(graph.output):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert onnx.TensorProto.FLOAT16 in {i.data_type for i in graph.initializer}
    with pytest.raises(QuantizationError, match='fp16 already'):
        convert_to_float16(half, str(tmp_path / 'again.onnx'))

    tool = load_tool('deployment/convert_fp16')
    by_tool = str(tmp_path / 'by_tool.onnx')
    assert tool.main([fp32, '--out', by_tool]) == 0
    assert read_model_metadata(by_tool) == meta
    with pytest.raises(SystemExit, match='error: .*fp16 already'):
        tool.main([by_tool, '--out', str(tmp_path / 'again.onnx')])
    with pytest.raises(SystemExit, match='error: .*missing.onnx'):
        tool.main([str(tmp_path / 'missing.onnx'), '--out', half])
    with pytest.raises(SystemExit):
        tool.parse_args([fp32, '--out', 'half.pth'])
