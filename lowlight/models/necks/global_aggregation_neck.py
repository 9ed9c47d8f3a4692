"""GlobalAggregationNeck: T2's Semantic Aggregation in a global context
space (our design), at the cost of a few operations on vectors.

Every level is summarised by its spatial mean, the summaries are fused into
one scene context vector, and each level is modulated per channel by that
context (scale and shift), zero-initialised so that the neck starts as the
identity. Unlike :class:`SemanticAggregationNeck` it has no spatial context
map: no resizing and no convolution runs on a feature map, which on CPU at
small input sizes is what that neck's time went to.
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmdet.utils import OptMultiConfig
from torch import Tensor

from .aggregation_neck import AggregationNeck


@MODELS.register_module()
class GlobalAggregationNeck(AggregationNeck):
    """Fuse the levels' scene summaries and modulate every level with them.

    For input levels ``x_i`` (N, C_i, h_i, w_i):

    1. ``s = concat_i(mean_hw(x_i))``: (N, sum C_i), each level's summary;
    2. ``c = mlp(s)``: (N, context_channels), one context in a space shared
       by all levels (two linear layers with ReLU);
    3. ``(g_i, b_i) = out(c)`` split per level, each (N, C_i), from a linear
       layer initialised to zero;
    4. ``y_i = x_i * (1 + g_i) + b_i``, broadcast over ``h_i, w_i``.

    Takes FPN-like ``in_channels`` (any channels, any order) and returns
    features of the same shapes; chain it after another neck with a list of
    necks, as :class:`SemanticAggregationNeck`.

    Args:
        in_channels (Sequence[int]): channels of each input level.
        context_channels (int): size of the shared context. Defaults to 64.
        init_cfg (dict or list[dict], optional): initialisation config; the
            output layer is zeroed again after it.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 context_channels: int = 64,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(in_channels, init_cfg=init_cfg)
        total = sum(self.in_channels)
        self.mlp = nn.Sequential(
            nn.Linear(total, context_channels), nn.ReLU(inplace=True),
            nn.Linear(context_channels, context_channels),
            nn.ReLU(inplace=True))
        self.out = nn.Linear(context_channels, 2 * total)
        self._zero_outputs()

    def _zero_outputs(self) -> None:
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Aggregate and modulate.

        Args:
            inputs (Sequence[Tensor]): K maps, level i (N, C_i, h_i, w_i).

        Returns:
            tuple[Tensor]: K maps with the shapes of ``inputs``.
        """
        self._check_levels(inputs)
        summary = torch.cat([x.mean(dim=(2, 3)) for x in inputs], dim=1)
        scale_shift = self.out(self.mlp(summary))
        scales, shifts = scale_shift.split(sum(self.in_channels), dim=1)
        outs = []
        for x, scale, shift in zip(inputs, scales.split(self.in_channels, 1),
                                   shifts.split(self.in_channels, 1)):
            outs.append(
                torch.addcmul(shift[..., None, None], x,
                              1 + scale[..., None, None]))
        return tuple(outs)
