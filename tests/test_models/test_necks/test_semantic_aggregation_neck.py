import pytest
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401
from lowlight.models.necks import SemanticAggregationNeck

# YOLOV3Neck-style outputs: coarse to fine, different channels per level
YOLO_LEVELS = [(512, 4, 4), (256, 8, 8), (128, 16, 16)]


def _feats(levels, n=2):
    return [torch.randn(n, c, h, w) for c, h, w in levels]


@pytest.mark.parametrize('fusion', ['sum', 'concat'])
@pytest.mark.parametrize('global_context', [True, False])
def test_identity_at_init_with_different_channels(fusion, global_context):
    neck = SemanticAggregationNeck([512, 256, 128],
                                   context_channels=32,
                                   fusion=fusion,
                                   global_context=global_context)
    neck.init_weights()
    feats = _feats(YOLO_LEVELS)
    outs = neck(feats)
    assert len(outs) == 3
    for out, x in zip(outs, feats):
        assert torch.equal(out, x)


def test_aggregates_across_levels_once_trained():
    torch.manual_seed(0)
    neck = SemanticAggregationNeck([512, 256, 128],
                                   context_channels=32,
                                   reference_level=0)
    feats = _feats(YOLO_LEVELS)
    sum(o.sum() for o in neck(feats)).backward()
    assert all(out.weight.grad.abs().sum() > 0 for out in neck.outs)
    for out in neck.outs:
        torch.nn.init.normal_(out.weight, std=0.1)
    neck.eval()
    with torch.no_grad():
        outs = neck(feats)
        assert [o.shape for o in outs] == [f.shape for f in feats]
        # changing only the finest level changes the coarsest output
        changed = [f.clone() for f in feats]
        changed[2] += 1.0
        assert not torch.allclose(neck(changed)[0], outs[0])


def test_odd_sizes_and_init_cfg_keeps_identity():
    neck = SemanticAggregationNeck([64, 64, 64],
                                   context_channels=16,
                                   init_cfg=dict(
                                       type='Normal', layer='Conv2d', std=1.0))
    neck.init_weights()
    feats = _feats([(64, 13, 17), (64, 7, 9), (64, 4, 5)], n=1)
    for out, x in zip(neck(feats), feats):
        assert torch.equal(out, x)


def test_chained_after_fpn_as_a_neck_list():
    torch.manual_seed(0)
    chained = MODELS.build([
        dict(
            type='FPN', in_channels=[16, 32, 64], out_channels=24, num_outs=4),
        dict(
            type='SemanticAggregationNeck',
            in_channels=[24] * 4,
            context_channels=16)
    ])
    fpn = MODELS.build(
        dict(
            type='FPN', in_channels=[16, 32, 64], out_channels=24, num_outs=4))
    chained.init_weights()
    fpn.load_state_dict(chained[0].state_dict())
    feats = _feats([(16, 16, 16), (32, 8, 8), (64, 4, 4)], n=1)
    outs, refs = chained(feats), fpn(feats)
    assert len(outs) == 4
    for out, ref in zip(outs, refs):
        assert torch.equal(out, ref)


def test_bad_arguments():
    with pytest.raises(ValueError, match='reference_level'):
        SemanticAggregationNeck([8, 8], reference_level=2)
    with pytest.raises(ValueError, match='fusion'):
        SemanticAggregationNeck([8, 8], fusion='max')
    with pytest.raises(ValueError, match='expected 2 levels'):
        SemanticAggregationNeck([8, 8])([torch.randn(1, 8, 4, 4)])
