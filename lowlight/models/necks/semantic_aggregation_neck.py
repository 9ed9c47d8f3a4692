"""SemanticAggregationNeck: T2's Semantic Aggregation module (our design).

T2 integrates multi-scale scene-related semantics in a shared context space
to strengthen the feature pyramid. Here: every level is projected into one
context space at a reference level, fused, enriched with global scene
context, and redistributed to every level as a zero-initialised residual.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from .aggregation_neck import AggregationNeck

FUSIONS = ('sum', 'concat')


def _resize(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """Area-average when shrinking, bilinear when enlarging."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if x.shape[-2] >= size[0] and x.shape[-1] >= size[1]:
        return F.adaptive_avg_pool2d(x, size)
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


@MODELS.register_module()
class SemanticAggregationNeck(AggregationNeck):
    """Aggregate multi-scale semantics in one context space, residually.

    For input levels ``x_i`` (N, C_i, h_i, w_i) and a reference level ``r``:

    1. ``p_i = lateral_i(resize(x_i, (h_r, w_r)))``: 1x1 conv-norm-act into
       ``context_channels``, run at the reference resolution (cheap);
    2. ``c = fuse(p_0, ..., p_{K-1})``: the sum (``'sum'``) or a 1x1 conv
       over the concatenation (``'concat'``), then a 3x3 conv-norm-act;
    3. global scene context (``global_context=True``):
       ``c = c + mlp(avgpool(c))`` broadcast over the map;
    4. ``y_i = x_i + resize(out_i(c), (h_i, w_i))`` with ``out_i`` a 1x1
       conv into ``C_i`` initialised to zero, so the neck is the identity at
       initialisation.

    The levels may have different channels and come in any order (e.g.
    ``YOLOV3Neck`` returns 512/256/128 channels, coarse to fine).

    Stand-alone it takes FPN-like ``in_channels`` and returns features of
    the same shapes. To chain it after another neck, give the detector a
    list of necks, which mmengine builds as a ``Sequential``::

        neck=[dict(type='FPN', in_channels=[256, 512, 1024, 2048],
                   out_channels=256, num_outs=5),
              dict(type='SemanticAggregationNeck', in_channels=[256] * 5)]

    Args:
        in_channels (Sequence[int]): channels of each input level.
        context_channels (int): channels of the shared context space.
            Defaults to 128.
        reference_level (int, optional): index of the level whose
            resolution hosts the context space. None: the middle level.
        fusion (str): ``'sum'`` or ``'concat'``. Defaults to ``'sum'``.
        global_context (bool): add the global scene context. Defaults to
            True.
        norm_cfg (dict, optional): norm of the context convs. Defaults to
            BN.
        act_cfg (dict): activation of the context convs. Defaults to ReLU.
        init_cfg (dict or list[dict], optional): initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 context_channels: int = 128,
                 reference_level: Optional[int] = None,
                 fusion: str = 'sum',
                 global_context: bool = True,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(in_channels, init_cfg=init_cfg)
        num_levels = len(self.in_channels)
        if reference_level is None:
            reference_level = num_levels // 2
        if not 0 <= reference_level < num_levels:
            raise ValueError(f'reference_level {reference_level} is not a '
                             f'level of {num_levels} inputs')
        if fusion not in FUSIONS:
            raise ValueError(f'fusion must be one of {FUSIONS}, '
                             f'got {fusion!r}')
        self.reference_level = reference_level
        self.fusion = fusion
        self.laterals = nn.ModuleList([
            ConvModule(
                c, context_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for c in self.in_channels
        ])
        self.concat_proj = (
            ConvModule(
                context_channels * num_levels,
                context_channels,
                1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg) if fusion == 'concat' else None)
        self.fuse = ConvModule(
            context_channels,
            context_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.global_mlp = nn.Sequential(
            nn.Conv2d(context_channels, context_channels, 1),
            nn.ReLU(
                inplace=True), nn.Conv2d(context_channels, context_channels,
                                         1)) if global_context else None
        self.outs = nn.ModuleList(
            [nn.Conv2d(context_channels, c, 1) for c in self.in_channels])
        self._zero_outputs()

    def _zero_outputs(self) -> None:
        for out in self.outs:
            nn.init.zeros_(out.weight)
            nn.init.zeros_(out.bias)

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Aggregate and redistribute.

        Args:
            inputs (Sequence[Tensor]): K maps, level i (N, C_i, h_i, w_i).

        Returns:
            tuple[Tensor]: K maps with the shapes of ``inputs``.
        """
        self._check_levels(inputs)
        ref_size = tuple(inputs[self.reference_level].shape[-2:])
        projected: List[Tensor] = [
            lateral(_resize(x, ref_size))
            for x, lateral in zip(inputs, self.laterals)
        ]
        if self.concat_proj is not None:
            context = self.concat_proj(torch.cat(projected, dim=1))
        else:
            context = torch.stack(projected).sum(dim=0)
        context = self.fuse(context)
        if self.global_mlp is not None:
            context = context + self.global_mlp(
                F.adaptive_avg_pool2d(context, 1))
        return tuple(x + _resize(out(context), tuple(x.shape[-2:]))
                     for x, out in zip(inputs, self.outs))
