import pytest
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401
from lowlight.models.enhancers import Decomposition, RetinexDecomposer


def _build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='RetinexDecomposer', **kwargs))


@pytest.mark.parametrize('channels', [1, 3])
def test_shapes_ranges_and_retinex_identity_odd_size(channels):
    model = _build(illumination_channels=channels).eval()
    img = torch.rand(2, 3, 97, 131) * 0.3
    out = model(img)
    assert isinstance(out, Decomposition)
    assert out.reflectance.shape == (2, 3, 97, 131)
    assert out.illumination.shape == (2, channels, 97, 131)
    assert out.illumination.min() > 0 and out.illumination.max() <= 1
    assert out.reflectance.min() >= 0 and out.reflectance.max() <= 1
    # I = R * L wherever R was not clipped at 1
    unclipped = (out.reflectance < 1).expand(-1, 3, -1, -1)
    recon = out.reflectance * out.illumination
    torch.testing.assert_close(recon[unclipped], img[unclipped])


def test_max_reflectance_keeps_what_would_clip_at_one():
    img = torch.rand(1, 3, 32, 32)
    clipped, kept = (_build(max_reflectance=m).eval() for m in (1.0, 4.0))
    with torch.no_grad():
        kept.load_state_dict(clipped.state_dict())
        # an illumination below the image: R = I / L above 1 where I > L
        for model in (clipped, kept):
            model.estimator[-1].conv.bias.fill_(-0.3)
        r1, r4 = clipped(img).reflectance, kept(img).reflectance
    over = r4 > 1
    assert over.float().mean() > 0.1 and r4.max() <= 4
    assert torch.all(r1[over] == 1)
    torch.testing.assert_close(r1[~over], r4[~over])
    recon = r4 * kept(img).illumination
    torch.testing.assert_close(recon[r4 < 4], img[r4 < 4])


def test_coarse_illumination_is_smooth_and_bounds_the_image():
    from lowlight.evaluation.decomposition_score import _gradient_energy
    torch.manual_seed(1)
    # a lit half and a dark half, with pixel noise
    img = torch.full((1, 3, 67, 90), 0.05)
    img[..., 45:] = 0.4
    img = (img + 0.03 * torch.randn_like(img)).clamp(0, 1)
    fine, coarse = (_build(illumination_scale=s).eval() for s in (1, 8))
    with torch.no_grad():
        coarse.load_state_dict(fine.state_dict())  # same estimator weights
        out_fine, out_coarse = fine(img), coarse(img)
    assert out_coarse.illumination.shape == (1, 1, 67, 90)
    energy = [_gradient_energy(o.illumination[0, 0])
              for o in (out_fine, out_coarse)]
    assert energy[1] < 0.1 * energy[0]  # no pixel noise, no fine edges
    # the local bright channel: L follows the light and rarely clips R
    ill = out_coarse.illumination[0, 0]
    assert ill[:, 60:].mean() > 3 * ill[:, :30].mean()
    assert (out_coarse.reflectance >= 1).float().mean() < 0.1
    losses = coarse.loss(img, coarse(img))
    assert all(torch.isfinite(v) for v in losses.values())
    with pytest.raises(ValueError, match='illumination_scale'):
        RetinexDecomposer(illumination_scale=0)


def test_zero_init_estimator_starts_from_the_prior_whatever_the_seed(
        tmp_path):
    import torch.nn.functional as F
    img = 0.3 * torch.rand(2, 3, 40, 56)  # a dark image: L well below 1
    prior = F.interpolate(
        F.max_pool2d(img.amax(1, keepdim=True), 8, ceil_mode=True),
        size=(40, 56), mode='bilinear', align_corners=False).clamp(1e-3, 1)
    for seed in (0, 1):
        torch.manual_seed(seed)
        enhancer = MODELS.build(
            dict(type='RetinexDecomposer', illumination_scale=8,
                 zero_init_estimator=True))
        enhancer.init_weights()  # as the runner does: the zeros stay
        with torch.no_grad():
            torch.testing.assert_close(enhancer(img).illumination, prior)
    # trained weights given by init_cfg are kept, not zeroed
    trained = tmp_path / 'enhancer.pth'
    torch.save({'state_dict': {f'enhancer.{k}': v
                               for k, v in _build().state_dict().items()}},
               trained)
    enhancer = MODELS.build(
        dict(type='RetinexDecomposer', zero_init_estimator=True,
             init_cfg=dict(type='Pretrained', checkpoint=str(trained),
                           prefix='enhancer.')))
    enhancer.init_weights()
    torch.testing.assert_close(enhancer.estimator[-1].conv.weight,
                               _build().estimator[-1].conv.weight)
    # without it, the random estimator moves L off the prior (at this
    # init, mostly onto the clip bounds eps and 1, where L has no gradient)
    torch.manual_seed(1)
    enhancer = MODELS.build(
        dict(type='RetinexDecomposer', illumination_scale=8))
    with torch.no_grad():
        moved = enhancer(img).illumination
    assert (moved <= 1.001e-3).float().mean() > 0.1


def test_inference_parameter_count_under_1000():
    model = _build()
    n = sum(p.numel() for p in model.estimator.parameters())
    assert n < 1000
    assert n == 145  # stem 30 + conv-BN block 87 + out 28 (1-ch L)


def test_padding_does_not_leak_into_real_area():
    model = _build().eval()
    a = torch.rand(1, 3, 97, 131) * 0.4
    b = torch.rand(1, 3, 128, 96) * 0.4
    batch = torch.zeros(2, 3, 128, 160)  # zero padding like the preprocessor
    batch[0, :, :97, :131] = a[0]
    batch[1, :, :128, :96] = b[0]
    out = model(batch, img_shapes=[(97, 131), (128, 96)])
    alone_a, alone_b = model(a), model(b)
    torch.testing.assert_close(
        out.illumination[0:1, :, :97, :131],
        alone_a.illumination,
        rtol=0,
        atol=1e-6)
    torch.testing.assert_close(
        out.reflectance[1:2, :, :128, :96],
        alone_b.reflectance,
        rtol=0,
        atol=1e-6)
    # padding: R = 0 and L = 1, so I = R * L holds there too
    assert out.reflectance[0, :, 97:].abs().max() == 0
    assert (out.illumination[0, :, :, 131:] == 1).all()
    # without the shapes the padding does change the real area's estimate
    leaked = model(batch)
    assert not torch.allclose(
        leaked.illumination[0:1, :, :97, :131],
        alone_a.illumination,
        atol=1e-4)


def test_losses_on_padded_batch_match_per_image_losses():
    model = _build().eval()
    a = torch.rand(1, 3, 40, 50) * 0.3
    b = torch.rand(1, 3, 48, 64) * 0.3
    batch = torch.zeros(2, 3, 48, 64)
    batch[0, :, :40, :50] = a[0]
    batch[1] = b[0]
    shapes = [(40, 50), (48, 64)]
    losses = model.loss(batch, model(batch, shapes), shapes)
    la, lb = model.loss(a, model(a)), model.loss(b, model(b))
    assert set(losses) == {'loss_fidelity', 'loss_smooth', 'loss_exposure'}
    for key in losses:
        torch.testing.assert_close(losses[key], (la[key] + lb[key]) / 2)


def test_loss_weights_from_config_and_zero_drops_term():
    img = torch.rand(1, 3, 32, 32) * 0.3
    base = _build()
    doubled = _build(smooth_weight=2.0, exposure_weight=0.0)
    doubled.load_state_dict(base.state_dict())
    l1 = base.loss(img, base(img))
    l2 = doubled.loss(img, doubled(img))
    torch.testing.assert_close(l2['loss_smooth'], 2 * l1['loss_smooth'])
    assert 'loss_exposure' not in l2


def test_self_calibration_used_only_in_training_losses():
    model = _build(num_stages=3)
    img = torch.rand(1, 3, 32, 32) * 0.3
    out = model(img)
    out.reflectance.sum().backward()
    assert all(p.grad is None for p in model.calibrator.parameters())
    model.zero_grad()
    sum(model.loss(img, model(img)).values()).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.calibrator.parameters())
    assert _build(num_stages=1).calibrator is None


def test_calibrated_stages_train_on_a_window():
    model = _build(num_stages=3, calib_crop_size=48)
    seen = []
    model.calibrator.register_forward_hook(
        lambda mod, args, out: seen.append(tuple(args[0].shape)))
    img = torch.rand(2, 3, 80, 100) * 0.3
    losses = model.loss(img, model(img))
    assert seen == [(2, 3, 48, 48)] * 2
    sum(losses.values()).backward()
    assert model.calibrator[0].conv.weight.grad.abs().sum() > 0
    seen.clear()
    whole = _build(num_stages=2, calib_crop_size=None)
    whole.calibrator.register_forward_hook(
        lambda mod, args, out: seen.append(tuple(args[0].shape)))
    whole.loss(img, whole(img))
    assert seen == [(2, 3, 80, 100)]


def test_enhancer_losses_decrease_on_dark_scene(dark_scene):
    img = dark_scene(64, 80, seed=1)
    assert img.mean() < 0.35  # it really is dark
    model = _build()
    optim = torch.optim.Adam(model.parameters(), lr=0.01)
    history = []
    for _ in range(30):
        losses = model.loss(img, model(img))
        total = sum(losses.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        history.append(total.item())
    assert history[-1] < 0.7 * history[0], history
    # the decomposition brightens the dark scene
    with torch.no_grad():
        assert model.eval()(img).reflectance.mean() > img.mean()


def test_bad_arguments():
    with pytest.raises(ValueError, match='illumination_channels'):
        RetinexDecomposer(illumination_channels=2)
    with pytest.raises(ValueError, match='num_stages'):
        RetinexDecomposer(num_stages=0)
    with pytest.raises(ValueError, match='max_reflectance'):
        RetinexDecomposer(max_reflectance=0)
    with pytest.raises(ValueError, match='image shapes'):
        RetinexDecomposer()(torch.rand(1, 3, 8, 8), img_shapes=[(9, 8)])
    with pytest.raises(ValueError, match='2 image shapes'):
        RetinexDecomposer()(torch.rand(1, 3, 8, 8), [(8, 8), (8, 8)])


def test_loads_own_weights_from_local_file(tmp_path):
    source = _build()
    for p in source.parameters():
        p.data.uniform_(-1, 1)
    ckpt = tmp_path / 'detector.pth'
    torch.save(
        {
            'state_dict': {
                f'enhancer.{k}': v
                for k, v in source.state_dict().items()
            }
        }, ckpt)
    model = MODELS.build(
        dict(
            type='RetinexDecomposer',
            init_cfg=dict(
                type='Pretrained', checkpoint=str(ckpt), prefix='enhancer.')))
    model.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value)
