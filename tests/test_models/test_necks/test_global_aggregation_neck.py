import torch
from mmdet.registry import MODELS

import lowlight  # noqa: F401

# YOLOV3Neck-style outputs: coarse to fine, different channels per level
YOLO_LEVELS = [(512, 4, 4), (256, 8, 8), (128, 16, 16)]


def _feats(levels, n=2):
    return [torch.randn(n, c, h, w) for c, h, w in levels]


def test_modulates_each_level_by_the_context_of_all_levels():
    torch.manual_seed(0)
    neck = MODELS.build(
        dict(
            type='GlobalAggregationNeck',
            in_channels=[512, 256, 128],
            context_channels=16))
    feats = _feats(YOLO_LEVELS)
    torch.nn.init.normal_(neck.out.weight, std=0.1)
    neck.eval()
    with torch.no_grad():
        outs = neck(feats)
        assert [o.shape for o in outs] == [f.shape for f in feats]
        # per image: y = x * (1 + g) + b with g, b constant over the map
        scale_shift = neck.out(
            neck.mlp(torch.cat([f.mean((2, 3)) for f in feats], 1)))
        scales, shifts = scale_shift.split(512 + 256 + 128, dim=1)
        g, b = scales[:, :512], shifts[:, :512]  # the coarsest level's
        expected = feats[0] * (1 + g[..., None, None]) + b[..., None, None]
        assert torch.allclose(outs[0], expected, atol=1e-5)
