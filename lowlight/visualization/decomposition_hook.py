"""A hook that shows the decomposition of a few fixed validation images."""
import os.path as osp
from typing import Optional, Sequence

from mmdet.registry import HOOKS
from mmengine.dataset import pseudo_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from .render import render_decomposition_panels


@HOOKS.register_module()
class DecompositionVisualizationHook(Hook):
    """Log decomposition panels of fixed validation images after validation.

    After every ``interval``-th validation, the images at ``indices`` of the
    validation dataset (through its own, deterministic pipeline) are
    predicted and decomposed, and one panel per image (input, illumination
    colour-mapped with its scale, reflectance, detections) is sent to every
    backend of the runner's visualizer (``vis_data/vis_image/`` of
    ``LocalVisBackend`` by default, TensorBoard with
    ``TensorboardVisBackend``), named ``decomposition_<image stem>`` at the
    current training iteration, so the decomposition can be watched as it
    evolves.

    Args:
        indices (Sequence[int]): dataset indices of the images to show.
            Indices past the end of the dataset are ignored.
        interval (int): log every ``interval``-th validation.
        score_thr (float): minimum score of a drawn detection.
        name_prefix (str): prefix of the logged image names.
    """
    priority = 'LOW'

    def __init__(self,
                 indices: Sequence[int] = (0, 1, 2, 3),
                 interval: int = 1,
                 score_thr: float = 0.3,
                 name_prefix: str = 'decomposition') -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.indices = list(indices)
        self.interval = interval
        self.score_thr = score_thr
        self.name_prefix = name_prefix
        self._validations = 0

    def before_run(self, runner) -> None:
        model = self._model(runner)
        if not callable(getattr(model, 'decompose', None)):
            raise TypeError(
                f'DecompositionVisualizationHook needs a model with a '
                f'decompose() method (LowLightDetector); the model is '
                f'{type(model).__name__}. Remove the hook from '
                f'custom_hooks for this config.')

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        self._validations += 1
        if self._validations % self.interval or not is_main_process():
            return
        dataset = runner.val_dataloader.dataset
        indices = [i for i in self.indices if 0 <= i < len(dataset)]
        if not indices:
            return
        data_batch = pseudo_collate([dataset[i] for i in indices])
        model = self._model(runner)
        panels = render_decomposition_panels(model, data_batch,
                                             dataset.metainfo, self.score_thr)
        for sample, panel in zip(data_batch['data_samples'], panels):
            stem = osp.splitext(osp.basename(sample.img_path))[0]
            runner.visualizer.add_image(
                f'{self.name_prefix}_{stem}', panel, step=runner.iter)

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model
