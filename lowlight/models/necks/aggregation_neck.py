"""AggregationNeck: what T2's aggregation necks share."""
from typing import Sequence

from mmdet.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor


class AggregationNeck(BaseModule):
    """Base of T2's aggregation necks: K levels in, K maps of the same
    shapes out, the identity at initialisation.

    A subclass zeroes its output layers in :meth:`_zero_outputs`, which
    runs at construction (the subclass calls it) and again after
    ``init_cfg`` (:meth:`init_weights`), so a pretrained detector with an
    aggregation neck added starts as that detector.

    Args:
        in_channels (Sequence[int]): channels of each input level.
        init_cfg (dict or list[dict], optional): initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)

    def _zero_outputs(self) -> None:
        raise NotImplementedError

    def init_weights(self) -> None:
        """Run ``init_cfg``, then zero the output layers again."""
        super().init_weights()
        self._zero_outputs()

    def _check_levels(self, inputs: Sequence[Tensor]) -> None:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'expected {len(self.in_channels)} levels, '
                             f'got {len(inputs)}')
