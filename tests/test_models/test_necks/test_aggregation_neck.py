"""What every T2 aggregation neck (AggregationNeck subclass) guarantees."""
import pytest
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401

# YOLOV3Neck-style outputs: coarse to fine, different channels per level
IN_CHANNELS = [512, 256, 128]
YOLO_LEVELS = [(512, 4, 4), (256, 8, 8), (128, 16, 16)]
NECKS = [
    dict(
        type='SemanticAggregationNeck',
        context_channels=32,
        fusion='sum',
        global_context=True),
    dict(
        type='SemanticAggregationNeck',
        context_channels=32,
        fusion='concat',
        global_context=False,
        reference_level=0),
    dict(type='GlobalAggregationNeck', context_channels=16),
]
#: the layer type an init_cfg of each neck would reach
LAYER = {
    'SemanticAggregationNeck': 'Conv2d',
    'GlobalAggregationNeck': 'Linear'
}


def _feats(n=2):
    return [torch.randn(n, c, h, w) for c, h, w in YOLO_LEVELS]


def _build(cfg, **kwargs):
    return MODELS.build(dict(cfg, in_channels=IN_CHANNELS, **kwargs))


@pytest.mark.parametrize('cfg', NECKS, ids=lambda c: c['type'])
def test_identity_at_init_even_after_an_init_cfg(cfg):
    neck = _build(
        cfg, init_cfg=dict(type='Normal', layer=LAYER[cfg['type']], std=1.0))
    neck.init_weights()
    feats = _feats()
    outs = neck(feats)
    assert len(outs) == 3
    for out, x in zip(outs, feats):
        assert torch.equal(out, x)


@pytest.mark.parametrize('cfg', NECKS, ids=lambda c: c['type'])
def test_learns_from_the_start_and_aggregates_across_levels(cfg):
    torch.manual_seed(0)
    neck = _build(cfg)
    zeroed = [p for p in neck.parameters() if p.dim() > 1 and not p.any()]
    assert zeroed  # the output layers' weights
    feats = _feats()
    sum(o.sum() for o in neck(feats)).backward()
    # every zeroed output layer gets a gradient at the identity
    assert all(p.grad.abs().sum() > 0 for p in zeroed)
    for p in neck.parameters():
        torch.nn.init.normal_(p, std=0.1)
    neck.eval()
    with torch.no_grad():
        outs = neck(feats)
        assert [o.shape for o in outs] == [f.shape for f in feats]
        # changing only the finest level changes the coarsest output
        changed = [f.clone() for f in feats]
        changed[2] += 1.0
        assert not torch.allclose(neck(changed)[0], outs[0])


@pytest.mark.parametrize('cfg', NECKS, ids=lambda c: c['type'])
def test_wrong_number_of_levels(cfg):
    neck = MODELS.build(dict(cfg, in_channels=[8, 8]))
    with pytest.raises(ValueError, match='expected 2 levels'):
        neck([torch.randn(1, 8, 4, 4)])
