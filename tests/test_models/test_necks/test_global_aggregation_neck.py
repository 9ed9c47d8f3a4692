import pytest
import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401
from lowlight.models.necks import GlobalAggregationNeck

# YOLOV3Neck-style outputs: coarse to fine, different channels per level
YOLO_LEVELS = [(512, 4, 4), (256, 8, 8), (128, 16, 16)]


def _feats(levels, n=2):
    return [torch.randn(n, c, h, w) for c, h, w in levels]


def test_identity_at_init_even_after_an_init_cfg():
    neck = GlobalAggregationNeck([512, 256, 128],
                                 context_channels=16,
                                 init_cfg=dict(
                                     type='Normal', layer='Linear', std=1.0))
    neck.init_weights()
    feats = _feats(YOLO_LEVELS)
    outs = neck(feats)
    assert len(outs) == 3
    for out, x in zip(outs, feats):
        assert torch.equal(out, x)


def test_modulates_each_level_by_the_context_of_all_levels():
    torch.manual_seed(0)
    neck = MODELS.build(
        dict(
            type='GlobalAggregationNeck',
            in_channels=[512, 256, 128],
            context_channels=16))
    feats = _feats(YOLO_LEVELS)
    sum(o.sum() for o in neck(feats)).backward()
    assert neck.out.weight.grad.abs().sum() > 0
    torch.nn.init.normal_(neck.out.weight, std=0.1)
    neck.eval()
    with torch.no_grad():
        outs = neck(feats)
        assert [o.shape for o in outs] == [f.shape for f in feats]
        # per image: y = x * (1 + g) + b with g, b constant over the map
        scale_shift = neck.out(
            neck.mlp(torch.cat([f.mean((2, 3)) for f in feats], 1)))
        g, b = scale_shift[:, :128 + 256 + 512].split([512, 256, 128], 1)[0], \
            scale_shift[:, 896:].split([512, 256, 128], 1)[0]
        expected = feats[0] * (1 + g[..., None, None]) + b[..., None, None]
        assert torch.allclose(outs[0], expected, atol=1e-5)
        # changing only the finest level changes the coarsest output
        changed = [f.clone() for f in feats]
        changed[2] += 1.0
        assert not torch.allclose(neck(changed)[0], outs[0])


def test_wrong_number_of_levels():
    with pytest.raises(ValueError, match='expected 2 levels'):
        GlobalAggregationNeck([8, 8])([torch.randn(1, 8, 4, 4)])
