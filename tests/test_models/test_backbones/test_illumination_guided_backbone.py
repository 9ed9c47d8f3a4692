import pytest
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401
from lowlight.models.backbones import IlluminationGuidedBackbone

RESNET50_DCNV2 = dict(
    type='ResNet',
    depth=50,
    out_indices=(0, 1, 2, 3),
    dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
    stage_with_dcn=(False, True, True, True))
BACKBONES = {
    'resnet50_dcnv2': (RESNET50_DCNV2, [256, 512, 1024, 2048]),
    'darknet53': (dict(type='Darknet', depth=53,
                       out_indices=(3, 4, 5)), [256, 512, 1024]),
    'mobilenetv2': (dict(type='MobileNetV2',
                         out_indices=(2, 4, 6)), [32, 96, 320]),
    'cspnext': (dict(type='CSPNeXt', deepen_factor=0.167,
                     widen_factor=0.375), [96, 192, 384]),
}


def _pair(backbone_cfg, mode, **kwargs):
    """A plain backbone and a guided one holding identical weights."""
    torch.manual_seed(0)
    plain = MODELS.build(backbone_cfg)
    guided = MODELS.build(
        dict(
            type='IlluminationGuidedBackbone',
            backbone=backbone_cfg,
            mode=mode,
            **kwargs))
    guided.init_weights()
    guided.backbone.load_state_dict(plain.state_dict())
    plain.eval()  # mmdet's ResNet.train() returns None: no chaining
    guided.eval()
    return plain, guided


@pytest.mark.parametrize('name', list(BACKBONES))
def test_identity_at_init_film_and_gate(name):
    cfg, channels = BACKBONES[name]
    x = torch.randn(1, 3, 64, 64)
    light = torch.rand(1, 1, 64, 64).clamp(min=1e-3)
    plain, film = _pair(cfg, 'film')
    assert film.feat_channels == channels  # found by the probe
    _, gate = _pair(cfg, 'gate', feat_channels=channels)
    with torch.no_grad():
        expected = plain(x)
        for guided in (film, gate):
            outs = guided(x, light)
            assert len(outs) == len(expected)
            for out, ref in zip(outs, expected):
                assert torch.equal(out, ref)


def test_guidance_acts_once_trained_and_gets_gradients():
    cfg, _ = BACKBONES['mobilenetv2']
    plain, guided = _pair(cfg, 'film')
    guided.train()
    x = torch.randn(2, 3, 64, 64)
    light = torch.rand(2, 1, 64, 64).clamp(min=1e-3).requires_grad_()
    sum(o.sum() for o in guided(x, light)).backward()
    assert all(h.weight.grad.abs().sum() > 0 for h in guided.heads)
    guided.backbone.load_state_dict(plain.state_dict())  # undo BN updates
    for head in guided.heads:
        torch.nn.init.normal_(head.weight, std=0.1)
    guided.eval()
    with torch.no_grad():
        outs = guided(x, light.detach())
        refs = plain(x)
        assert not torch.allclose(outs[0], refs[0])
        # no illumination (preprocess / none modes): plain outputs
        for out, ref in zip(guided(x), refs):
            assert torch.equal(out, ref)
        # the modulation depends on L
        darker = guided(x, light.detach() * 0.1)
        assert not torch.allclose(darker[0], outs[0])


def test_gradient_reaches_illumination():
    cfg, _ = BACKBONES['darknet53']
    _, guided = _pair(cfg, 'gate')
    for head in guided.heads:
        torch.nn.init.normal_(head.weight, std=0.1)
    light = torch.rand(1, 1, 64, 64).clamp(min=1e-3).requires_grad_()
    sum(o.sum() for o in guided(torch.randn(1, 3, 64, 64), light)).backward()
    assert light.grad.abs().sum() > 0


def test_none_mode_builds_no_guidance_and_init_cfg_keeps_identity():
    cfg, _ = BACKBONES['mobilenetv2']
    plain, none = _pair(cfg, 'none')
    assert none.encoder is None and none.heads is None
    x = torch.randn(1, 3, 64, 64)
    assert all(
        torch.equal(a, b)
        for a, b in zip(none(x, torch.rand(1, 1, 64, 64)), plain(x)))
    guided = IlluminationGuidedBackbone(
        cfg, init_cfg=dict(type='Normal', layer='Conv2d', std=1.0))
    guided.init_weights()
    assert all(h.weight.abs().sum() == 0 for h in guided.heads)


def test_bad_arguments():
    cfg, _ = BACKBONES['mobilenetv2']
    with pytest.raises(ValueError, match='mode'):
        IlluminationGuidedBackbone(cfg, mode='concat')
    guided = IlluminationGuidedBackbone(cfg, feat_channels=[32, 96])
    with pytest.raises(ValueError, match='returned 3 stages'):
        guided(torch.randn(1, 3, 64, 64), torch.rand(1, 1, 64, 64))
