import pytest
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401
from lowlight.models.necks import SemanticAggregationNeck


def _feats(levels, n=2):
    return [torch.randn(n, c, h, w) for c, h, w in levels]


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
