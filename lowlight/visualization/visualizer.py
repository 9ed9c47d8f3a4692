"""A DetLocalVisualizer that can also be built without a name."""
import itertools
from typing import Optional

from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer


@VISUALIZERS.register_module()
class LowLightVisualizer(DetLocalVisualizer):
    """mmdet's ``DetLocalVisualizer``; built without ``name``, it gets a new
    unique one instead of failing.

    Visualizers are named singletons (mmengine's ``ManagerMixin``). Our
    configs give no fixed ``name``, so every runner names its visualizer
    after its experiment and mmdet's ``DetVisualizationHook``, which draws
    with the latest instance, never draws with another runner's class
    names. Tools that build the config's visualizer directly (mmdet's
    ``browse_dataset.py``) pass no name at all, which the plain class
    refuses; here each such build makes its own instance.
    """

    _unnamed = itertools.count()

    @classmethod
    def get_instance(cls, name: Optional[str] = None, **kwargs):
        """The instance called ``name``; a new unique one if None."""
        if name is None:
            name = f'{cls.__name__}_unnamed_{next(cls._unnamed)}'
        return super().get_instance(name, **kwargs)
