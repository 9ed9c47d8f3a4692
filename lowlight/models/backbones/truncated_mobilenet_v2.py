"""TruncatedMobileNetV2: mmdet's MobileNetV2 without the unused tail."""
from mmdet.models.backbones import MobileNetV2
from mmdet.registry import MODELS


@MODELS.register_module()
class TruncatedMobileNetV2(MobileNetV2):
    """mmdet's ``MobileNetV2`` ending at its last returned stage.

    mmdet's ``MobileNetV2`` always builds and runs all eight stages, the
    last one a 1x1 conv to 1280 channels (``conv2``). With ``out_indices``
    that stop earlier, e.g. ``(2, 4, 6)`` of YOLOv3, those stages cost
    compute and leave parameters that never get a gradient, which
    ``DistributedDataParallel`` refuses at the second iteration. Here the
    stages after ``max(out_indices)`` are dropped once mmdet has built them
    (so the remaining layers draw the same random initial weights as in
    ``MobileNetV2``); their keys in a ``MobileNetV2`` checkpoint are
    ignored when loading. Arguments are those of ``MobileNetV2``.

    Raises:
        ValueError: If ``frozen_stages`` names a dropped stage.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        last = max(self.out_indices)
        if self.frozen_stages > last + 1:
            raise ValueError(
                f'frozen_stages={self.frozen_stages} freezes stages after '
                f'the last returned one (out_indices={self.out_indices})')
        self.dropped = self.layers[last + 1:]
        for name in self.dropped:
            delattr(self, name)
        self.layers = self.layers[:last + 1]

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Load as ``MobileNetV2`` does, ignoring the dropped stages' keys."""
        for key in [k for k in state_dict if k.startswith(prefix)]:
            if key[len(prefix):].partition('.')[0] in self.dropped:
                del state_dict[key]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
