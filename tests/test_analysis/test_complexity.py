"""lowlight.analysis.complexity: parameters and FLOPs, DCN included."""
import pytest
import torch

from lowlight.analysis.complexity import (count_complexity, flops_by_module,
                                          make_flop_analyzer, num_params)
from lowlight.apis import init_low_light_detector
from lowlight.testing import tiny_detector_config


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    config = tmp_path_factory.mktemp('config') / 'tiny.py'
    config.write_text(tiny_detector_config().pretty_text)
    return init_low_light_detector(str(config))


def test_flops_scale_with_image_area(model):
    small = count_complexity(model, 64, 64)
    large = count_complexity(model, 128, 128)
    # convolutions dominate: 4x the pixels, 4x the FLOPs
    assert large['flops'] / small['flops'] == pytest.approx(4, rel=0.02)
    assert small['params'] == large['params'] == sum(
        p.numel() for p in model.parameters())
    # the forward is restored after tracing
    assert 'forward' not in vars(model)
    skipped = count_complexity(model, 64, 64, skip_flops=True)
    assert skipped == dict(
        params=small['params'], flops=None, unsupported_ops={})


def test_flops_by_module_add_up(model):
    flops = flops_by_module(model, 64, 64)
    assert flops[''] == count_complexity(model, 64, 64)['flops']
    assert flops[''] == flops['backbone'] + flops['neck'] + flops['bbox_head']
    assert 'forward' not in vars(model)
    assert num_params(None) == 0
    assert num_params(model.neck) == sum(p.numel()
                                         for p in model.neck.parameters())


def test_deformable_conv_flops_are_counted():
    from mmcv.ops import ModulatedDeformConv2dPack
    dcn = ModulatedDeformConv2dPack(4, 8, 3, padding=1).eval()
    analyzer = make_flop_analyzer(dcn, torch.rand(1, 4, 16, 16))
    # offset/mask conv (4 -> 27 channels) + the deformable conv (4 -> 8),
    # both 3x3 over 16x16 outputs
    expected = (27 + 8) * 16 * 16 * 4 * 9
    assert analyzer.total() == expected
    assert not [op for op in analyzer.unsupported_ops() if 'Deform' in op]
