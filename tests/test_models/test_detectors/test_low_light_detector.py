import copy
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import lowlight  # noqa: F401
from lowlight.models.backbones import IlluminationGuidedBackbone
from lowlight.models.detectors import LowLightDetector
from lowlight.models.detectors.low_light_detector import ReflectanceSideInput

CONFIG_DIR = Path(__file__).parents[3] / 'configs' / '_base_' / 'models'
SHAPES = [(3, 97, 131), (3, 128, 64)]  # odd and differently sized images


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


def _model_cfg(name, **overrides):
    cfg = Config.fromfile(str(CONFIG_DIR / f'{name}.py')).model
    cfg.update(overrides)
    return cfg


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _light_cfg(**overrides):
    """The light YOLOv3-MobileNetV2 T2 model, shrunk for tests."""
    return _model_cfg('t2_yolov3_mobilenetv2', **overrides)


def _batch(model, shapes=SHAPES, seed=0, num_items=None):
    torch.manual_seed(seed)
    packed = demo_mm_inputs(
        batch_size=len(shapes),
        image_shapes=shapes,
        num_classes=12,
        num_items=num_items)
    data = model.data_preprocessor(packed, True)
    return data['inputs'], data['data_samples']


@pytest.mark.parametrize('name', [
    't2_yolov3_d53', 't2_faster-rcnn_r50-dcnv2_fpn',
    't2_retinanet_r50-dcnv2_fpn', 't2_tood_r50_fpn'
])
def test_loss_backward_predict_for_every_family(name):
    MessageHub.get_current_instance().update_info('epoch', 0)  # for TOOD
    model = _build(_model_cfg(name))
    assert isinstance(model, LowLightDetector)
    inputs, samples = _batch(model, num_items=[2, 3])
    losses = model.loss(inputs, samples)
    enh = {k for k in losses if k.startswith('enh_')}
    assert enh == {'enh_loss_fidelity', 'enh_loss_smooth', 'enh_loss_exposure'}
    assert len(set(losses) - enh) >= 2  # the detector's own losses
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert model.enhancer.estimator[0].conv.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, samples)
    assert len(results) == 2
    for result, shape in zip(results, SHAPES):
        boxes = result.pred_instances.bboxes
        assert boxes.ndim == 2 and boxes.shape[1] == 4
        assert len(result.pred_instances.scores) == len(boxes)
        assert result.metainfo['img_shape'] == shape[1:]


def _detection_loss(model, inputs, samples):
    losses = model.loss(inputs, samples)
    det = {k: v for k, v in losses.items() if not k.startswith('enh_')}
    return model.parse_losses(det)[0], losses


def _enhancer_grads(model):
    return [p.grad for p in model.enhancer.parameters()]


def test_joint_mode_detection_gradients_reach_the_enhancer():
    model = _build(_light_cfg())
    inputs, samples = _batch(model)
    det_loss, losses = _detection_loss(model, inputs, samples)
    assert any(k.startswith('enh_') for k in losses)
    det_loss.backward()
    grads = _enhancer_grads(model)
    assert grads[0] is not None and grads[0].abs().sum() > 0
    # the guidance heads learn from the detection loss too
    heads = model.detector.backbone.heads
    assert all(h.weight.grad.abs().sum() > 0 for h in heads)


def test_detection_gradient_into_the_enhancer_is_scaled():
    grads = {}
    for scale in (1.0, 0.5, 0.0):
        model = _build(_light_cfg(detection_grad_scale=scale))
        inputs, samples = _batch(model)
        det_loss, _ = _detection_loss(model, inputs, samples)
        det_loss.backward()
        grads[scale] = model.enhancer.estimator[0].conv.weight.grad
    assert grads[1.0].abs().sum() > 0
    torch.testing.assert_close(grads[0.5], 0.5 * grads[1.0])
    assert grads[0.0].abs().sum() == 0


@pytest.mark.parametrize('mode', ['frozen', 'preprocess'])
def test_frozen_modes_keep_the_enhancer_fixed(mode):
    model = _build(_light_cfg(mode=mode))
    model.train()
    assert not model.enhancer.training  # norm statistics stay fixed
    inputs, samples = _batch(model)
    det_loss, losses = _detection_loss(model, inputs, samples)
    assert not any(k.startswith('enh_') for k in losses)
    det_loss.backward()
    assert all(g is None for g in _enhancer_grads(model))
    if mode == 'frozen':
        assert model.uses_guidance
        heads = model.detector.backbone.heads
        assert all(h.weight.grad.abs().sum() > 0 for h in heads)
    else:  # plain pre-processing: L is not used, no guidance is built
        assert not model.uses_guidance
        assert not isinstance(model.detector.backbone,
                              IlluminationGuidedBackbone)


def test_none_mode_equals_the_plain_mmdet_detector():
    cfg = _light_cfg(mode='none')
    cfg.detector.neck = cfg.detector.neck[0]
    wrapped = _build(cfg)  # the guided backbone is unwrapped in this mode
    assert wrapped.enhancer is None
    assert not wrapped.uses_guidance
    det_cfg = copy.deepcopy(cfg.detector)
    det_cfg.backbone = det_cfg.backbone.backbone
    with pytest.raises(RuntimeError, match="mode='none'"):
        wrapped.decompose(torch.rand(1, 3, 32, 32))
    plain_cfg = copy.deepcopy(det_cfg)
    plain_cfg.data_preprocessor = dict(
        type='DetDataPreprocessor',
        mean=cfg.detector_mean,
        std=cfg.detector_std,
        bgr_to_rgb=True,
        pad_size_divisor=32)
    plain = MODELS.build(plain_cfg)
    plain.load_state_dict(wrapped.detector.state_dict())
    wrapped.eval(), plain.eval()
    torch.manual_seed(3)
    packed = demo_mm_inputs(batch_size=2, image_shapes=SHAPES, num_classes=12)
    with torch.no_grad():
        ours_in = wrapped.data_preprocessor(copy.deepcopy(packed), False)
        theirs_in = plain.data_preprocessor(packed, False)
        ours = wrapped._forward(ours_in['inputs'], ours_in['data_samples'])
        theirs = plain._forward(theirs_in['inputs'], theirs_in['data_samples'])
    for a_level, b_level in zip(ours, theirs):
        for a, b in zip(a_level, b_level):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_enhancer_losses_are_prefixed_and_weighted():
    inputs = samples = None
    losses = {}
    for weight in (1.0, 3.0):
        model = _build(_light_cfg(enhancer_loss_weight=weight))
        if inputs is None:
            inputs, samples = _batch(model)
        torch.manual_seed(1)  # the same calibration window
        losses[weight] = model.loss(inputs, samples)
    for key in ('enh_loss_fidelity', 'enh_loss_smooth', 'enh_loss_exposure'):
        torch.testing.assert_close(losses[3.0][key], 3 * losses[1.0][key])


def test_decompose_ignores_padding_of_differently_sized_images():
    model = _build(_light_cfg()).eval()
    inputs, samples = _batch(model)
    assert inputs.shape[-2:] == (128, 160)  # padded batch
    with torch.no_grad():
        batch = model.decompose(inputs, samples)
        h, w = samples[0].metainfo['img_shape']  # 97 x 131
        alone = model.decompose(inputs[0:1, :, :h, :w])
    torch.testing.assert_close(
        batch.illumination[0:1, :, :h, :w],
        alone.illumination,
        rtol=0,
        atol=1e-6)
    torch.testing.assert_close(
        batch.reflectance[0:1, :, :h, :w],
        alone.reflectance,
        rtol=0,
        atol=1e-6)


def test_predict_returns_boxes_in_original_image_coordinates():
    model = _build(_light_cfg())
    model.detector.bbox_head.test_cfg.score_thr = 0.0
    model.detector.bbox_head.test_cfg.conf_thr = 0.0
    model.eval()
    inputs, samples = _batch(model, shapes=[(3, 96, 128)])
    samples[0].set_metainfo(
        dict(scale_factor=(0.5, 0.25), ori_shape=(384, 256)))
    with torch.no_grad():
        scaled = model.predict(inputs, copy.deepcopy(samples))[0]
        raw = model.predict(inputs, copy.deepcopy(samples), rescale=False)[0]
    assert len(raw.pred_instances) > 0
    factor = torch.tensor([0.5, 0.25, 0.5, 0.25])
    torch.testing.assert_close(scaled.pred_instances.bboxes,
                               raw.pred_instances.bboxes / factor)


@pytest.mark.parametrize('mode', ['joint', 'frozen'])
def test_predict_attaches_the_decomposition_when_asked(mode):
    model = _build(_light_cfg(mode=mode)).eval()
    inputs, samples = _batch(model)  # two sizes: the batch is padded
    with torch.no_grad():
        plain = model.predict(inputs, copy.deepcopy(samples))
        results = model.predict(
            inputs, copy.deepcopy(samples), with_decomposition=True)
        expected = model.decompose(inputs, samples)
    assert all('pred_decomposition' not in r for r in plain)
    channels = expected.illumination.shape[1]
    for i, (result, shape) in enumerate(zip(results, SHAPES)):
        h, w = shape[1:]
        maps = result.pred_decomposition
        assert maps.reflectance.shape == (3, h, w)
        assert maps.illumination.shape == (channels, h, w)
        torch.testing.assert_close(
            maps.reflectance,
            expected.reflectance[i, :, :h, :w],
            rtol=0,
            atol=0)
        torch.testing.assert_close(
            maps.illumination,
            expected.illumination[i, :, :h, :w],
            rtol=0,
            atol=0)
        # the detections are those of a plain predict
        torch.testing.assert_close(result.pred_instances.bboxes,
                                   plain[i].pred_instances.bboxes)


def test_predict_with_decomposition_needs_an_enhancer():
    cfg = _light_cfg(mode='none')
    cfg.detector.neck = cfg.detector.neck[0]
    model = _build(cfg).eval()
    inputs, samples = _batch(model)
    with pytest.raises(RuntimeError, match="mode='none'"):
        model.predict(inputs, samples, with_decomposition=True)


def test_works_with_zero_dce_and_bad_configs():
    cfg = _light_cfg(enhancer=dict(type='ZeroDCEDecomposer', feat_channels=8))
    model = _build(cfg)
    inputs, samples = _batch(model)
    losses = model.loss(inputs, samples)
    assert 'enh_loss_curve_tv' in losses
    with pytest.raises(ValueError, match='mode'):
        MODELS.build(_light_cfg(mode='cascade'))
    with pytest.raises(ValueError, match='needs an enhancer'):
        MODELS.build(_light_cfg(enhancer=None))


def test_loads_a_plain_mmdet_checkpoint_into_the_inner_detector(tmp_path):
    t2_cfg = _light_cfg()
    plain_cfg = copy.deepcopy(t2_cfg.detector)
    plain_cfg.backbone = plain_cfg.backbone.backbone
    plain_cfg.neck = plain_cfg.neck[0]
    plain = _build(plain_cfg, seed=1)
    ckpt = tmp_path / 'plain_yolov3.pth'
    torch.save({'state_dict': plain.state_dict()}, ckpt)
    model = _build(t2_cfg, seed=2)
    enhancer_before = copy.deepcopy(model.enhancer.state_dict())
    load_checkpoint(model, str(ckpt), strict=False)  # the `load_from` path
    det = model.detector
    for key, value in plain.state_dict().items():
        first, _, rest = key.partition('.')
        target = {
            'backbone': det.backbone.backbone,
            'neck': det.neck[0]
        }.get(first, det)
        name = rest if first in ('backbone', 'neck') else key
        assert torch.equal(target.state_dict()[name], value), key
    for key, value in enhancer_before.items():
        assert torch.equal(model.enhancer.state_dict()[key], value)
    # only the T2 additions are missing, nothing is left over
    result = _build(t2_cfg).load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == []
    t2_parts = ('enhancer.', 'detector.backbone.encoder.',
                'detector.backbone.heads.', 'detector.neck.1.')
    assert result.missing_keys
    assert all(k.startswith(t2_parts) for k in result.missing_keys)
    # a LowLightDetector checkpoint loads as it is
    again = _build(t2_cfg, seed=3)
    again.load_state_dict(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(again.state_dict()[key], value)


def _starts_as_the_plain_detector(new_key, **options):
    """A T2 with ``options``, loaded from a plain detector's weights: only
    T2 additions (among them ``new_key``) are missing, and its raw outputs
    are the plain detector's. Returns the T2 (eval mode) and its batch."""
    t2_cfg = _light_cfg(
        illumination_correction='learned', detection_grad_scale=0.0, **options)
    plain_cfg = _light_cfg(mode='none')
    plain_cfg.detector.neck = plain_cfg.detector.neck[0]
    plain = _build(plain_cfg, seed=1)
    model = _build(t2_cfg, seed=2)
    result = model.load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert new_key in result.missing_keys
    plain.eval(), model.eval()
    inputs, samples = _batch(model)
    with torch.no_grad():
        ours = model._forward(inputs, samples)
        theirs = plain._forward(inputs, samples)
    for a_level, b_level in zip(ours, theirs):
        for a, b in zip(a_level, b_level):
            torch.testing.assert_close(a, b)
    return model, inputs, samples


def test_learned_correction_starts_as_the_pretrained_plain_detector():
    # a = 0, zero guidance heads, zero aggregation outputs: the same network
    model, inputs, samples = _starts_as_the_plain_detector(
        'input_correction.exponent')
    # the detector's input is I / L^a; a = 1 gives the reflectance
    with torch.no_grad():
        model.input_correction.exponent.fill_(1.0)
        reflectance, illumination = model.decompose(inputs, samples)
        corrected = model.input_correction(inputs, torch.log(illumination),
                                           1.0)
    torch.testing.assert_close(corrected, reflectance)
    # training: the detection loss sets a, the enhancer only its own losses
    model.train()
    det_loss, _ = _detection_loss(model, *_batch(model))
    det_loss.backward()
    assert model.input_correction.exponent.grad.abs() > 0
    assert model.enhancer.estimator[0].conv.weight.grad.abs().sum() == 0
    with pytest.raises(ValueError, match='illumination_correction'):
        _build(_light_cfg(illumination_correction='half'))
    # the baselines have no correction to learn
    assert _build(
        _light_cfg(mode='preprocess',
                   illumination_correction='learned')).input_correction is None


def test_reflectance_side_input_is_its_1x1_convolution():
    """The matrix product in forward gives what the 1x1 conv gives."""
    torch.manual_seed(0)
    side = ReflectanceSideInput()
    with torch.no_grad():
        side.proj.weight.normal_()
        side.proj.bias.normal_()
        x = torch.randn(2, 3, 9, 7)
        reflectance = torch.rand(2, 3, 9, 7)
        illumination = torch.rand(2, 1, 9, 7) + 1e-3
        expected = x + side.proj(torch.log(reflectance.clamp(min=1e-3)))
        torch.testing.assert_close(side(x, reflectance), expected)
    # with log L as a further channel (the illumination at the stem)
    side = ReflectanceSideInput(with_illumination=True)
    log_l = torch.log(illumination)
    assert side(x, reflectance, log_l).equal(x)  # zero at start
    with torch.no_grad():
        side.proj.weight.normal_()
        side.proj.bias.normal_()
        log_rl = torch.cat(
            [torch.log(reflectance.clamp(min=1e-3)),
             torch.log(illumination)], 1)
        torch.testing.assert_close(
            side(x, reflectance, log_l), x + side.proj(log_rl))
    with pytest.raises(ValueError, match='needs the illumination'):
        side(x, reflectance)


def test_reflectance_side_input_starts_as_the_pretrained_plain_detector(
        tmp_path):
    model, inputs, _ = _starts_as_the_plain_detector(
        'reflectance_input.proj.weight', reflectance_side_input=True)
    # the detection loss trains the projection, not the enhancer
    model.train()
    det_loss, _ = _detection_loss(model, *_batch(model))
    det_loss.backward()
    assert model.reflectance_input.proj.weight.grad.abs().sum() > 0
    assert model.enhancer.estimator[0].conv.weight.grad.abs().sum() == 0
    # it changes the backbone input once trained: x + W log R + b
    with torch.no_grad():
        model.reflectance_input.proj.weight.fill_(0.5)
    model.eval()
    with torch.no_grad():
        x, _, decomposition = model.backbone_input(inputs)
        reference = (inputs * 255 - model.detector_mean) / model.detector_std
        log_r = torch.log(decomposition.reflectance.clamp(min=1e-3))
    torch.testing.assert_close(x, reference + 0.5 * log_r.sum(1, keepdim=True))
    # a saved model loads back with its own projection (not moved into the
    # inner detector as a plain checkpoint's keys are)
    again = _build(
        _light_cfg(
            illumination_correction='learned',
            detection_grad_scale=0.0,
            reflectance_side_input=True),
        seed=3)
    again.load_state_dict(model.state_dict())
    assert torch.equal(again.reflectance_input.proj.weight,
                       model.reflectance_input.proj.weight)
    # the baselines carry none
    assert _build(
        _light_cfg(mode='preprocess',
                   reflectance_side_input=True)).reflectance_input is None
