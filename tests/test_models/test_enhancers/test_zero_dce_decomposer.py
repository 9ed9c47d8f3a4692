import pytest
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401
from lowlight.models.enhancers import BaseDecomposer, ZeroDCEDecomposer


def _build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='ZeroDCEDecomposer', feat_channels=8, **kwargs))


@pytest.mark.parametrize('channels', [1, 3])
def test_same_interface_shapes_and_ranges(channels):
    model = _build(illumination_channels=channels).eval()
    assert isinstance(model, BaseDecomposer)
    img = torch.rand(2, 3, 45, 61) * 0.3
    out = model(img)
    assert out.reflectance.shape == (2, 3, 45, 61)
    assert out.illumination.shape == (2, channels, 45, 61)
    assert out.illumination.min() > 0 and out.illumination.max() <= 1
    assert out.reflectance.min() >= 0 and out.reflectance.max() <= 1


def test_illumination_is_input_over_enhanced():
    model = _build(illumination_channels=3).eval()
    for p in model.curve_out.parameters():
        torch.nn.init.zeros_(p)
    torch.nn.init.constant_(model.curve_out.bias, 3.0)  # A = tanh(3) > 0
    img = torch.rand(1, 3, 20, 24) * 0.3 + 0.05
    out = model(img)
    assert (out.reflectance > img).all()  # positive curves brighten
    torch.testing.assert_close(out.illumination, img / out.reflectance)


def test_downscaled_curves_keep_full_resolution_output():
    model = _build(downscale=4).eval()
    out = model(torch.rand(1, 3, 50, 70))
    assert out.reflectance.shape == (1, 3, 50, 70)


def test_losses_and_padding_through_the_base_class(dark_scene):
    model = _build()
    img = dark_scene(64, 64, seed=2)
    batch = torch.zeros(2, 3, 64, 80)
    batch[0, :, :, :64] = img[0]
    batch[1, :, :, :64] = img[0]
    shapes = [(64, 64), (64, 64)]
    model.eval()
    out = model(batch, shapes)
    torch.testing.assert_close(out.reflectance[:1, :, :, :64],
                               model(img).reflectance)
    model.train()
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(25):
        losses = model.loss(img, model(img))
        assert set(losses) == {
            'loss_spatial', 'loss_exposure', 'loss_color', 'loss_curve_tv'
        }
        total = sum(losses.values())
        first = total.item() if first is None else first
        optim.zero_grad()
        total.backward()
        optim.step()
    assert total.item() < first


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_layers'):
        ZeroDCEDecomposer(num_layers=3)
    with pytest.raises(ValueError, match='illumination_channels'):
        ZeroDCEDecomposer(illumination_channels=0)
