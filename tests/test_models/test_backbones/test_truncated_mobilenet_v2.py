"""TruncatedMobileNetV2: mmdet's MobileNetV2 up to the last returned stage."""
import pytest
import torch
from mmdet.models.backbones import MobileNetV2

from lowlight.models.backbones import TruncatedMobileNetV2

ARGS = dict(widen_factor=0.25, out_indices=(2, 4, 6), init_cfg=None)


def test_same_outputs_without_the_unused_conv():
    torch.manual_seed(0)
    full = MobileNetV2(**ARGS)
    torch.manual_seed(0)
    truncated = TruncatedMobileNetV2(**ARGS)
    full.eval()  # mmdet's MobileNetV2.train returns None
    truncated.eval()
    assert hasattr(full, 'conv2') and not hasattr(truncated, 'conv2')
    assert truncated.layers == [f'layer{i}' for i in range(1, 8)]
    # built before dropping: the kept layers draw the same initial weights
    for key, value in truncated.state_dict().items():
        torch.testing.assert_close(value, full.state_dict()[key])
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        expected, outputs = full(x), truncated(x)
    assert [o.shape for o in outputs] == [(1, 8, 8, 12), (1, 24, 4, 6),
                                          (1, 80, 2, 3)]
    for out, ref in zip(outputs, expected):
        torch.testing.assert_close(out, ref)
    # every parameter now takes part in the output
    truncated.train()
    sum(o.sum() for o in truncated(x)).backward()
    assert all(p.grad is not None for p in truncated.parameters())


def test_loads_a_mobilenetv2_checkpoint():
    full = MobileNetV2(**ARGS)
    truncated = TruncatedMobileNetV2(**ARGS)
    result = truncated.load_state_dict(full.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    torch.testing.assert_close(truncated.layer7[0].linear_conv.conv.weight,
                               full.layer7[0].linear_conv.conv.weight)


def test_all_stages_kept_when_the_last_is_returned():
    model = TruncatedMobileNetV2(widen_factor=0.25, out_indices=(7, ))
    assert hasattr(model, 'conv2')
    model.eval()
    assert model(torch.rand(1, 3, 32, 32))[0].shape == (1, 1280, 1, 1)


def test_freezing_a_dropped_stage_is_an_error():
    with pytest.raises(ValueError, match='frozen_stages=7'):
        TruncatedMobileNetV2(
            widen_factor=0.25, out_indices=(2, 4), frozen_stages=7)
