"""Stop training at the first NaN or infinite loss, naming the culprit."""
import math
from typing import Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmdet.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite during training."""


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when any loss term is NaN or inf.

    mmdet's ``CheckInvalidLossHook`` only asserts on the total loss every 50
    iterations, with no message. This hook checks every loss term (every
    output whose name contains ``'loss'``, as ``BaseModel.parse_losses``
    counts them) and stops with a message naming the iteration, the epoch,
    the non-finite terms, all loss values and the images of the batch, so
    training never silently goes on with NaN weights and no checkpoint with
    NaN weights is written (it runs before ``CheckpointHook``). In
    distributed training the ranks agree, so all of them stop together.

    Args:
        interval (int): Check every ``interval`` iterations. Checking reads
            values the logger reads anyway, so the default checks every one.
            Defaults to 1.
        max_images (int): How many image paths of the batch to name in the
            message. Defaults to 4.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 1, max_images: int = 4) -> None:
        self.interval = interval
        self.max_images = max_images

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Check the loss terms of this iteration.

        Args:
            runner (Runner): The training runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict, optional): The batch from the dataloader.
            outputs (dict, optional): Log variables returned by
                ``model.train_step``: loss names to scalar tensors or floats.

        Raises:
            NonFiniteLossError: If a loss term is NaN or infinite (on any
                rank).
        """
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        losses = {
            name: float(value.detach() if isinstance(value, torch.Tensor
                                                     ) else value)
            for name, value in outputs.items() if 'loss' in name
        }
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if get_world_size() > 1:
            flag = torch.tensor(float(bool(bad)))
            all_reduce(flag, op='max')
            if flag.item() and not bad:
                bad = ['(on another rank)']
        if not bad:
            return
        values = ', '.join(f'{name}={value:.4g}'
                           for name, value in losses.items())
        images = [
            sample.metainfo.get('img_path', '?')
            for sample in (data_batch or {}).get('data_samples', [])
        ][:self.max_images]
        raise NonFiniteLossError(
            f'Non-finite loss at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}, batch {batch_idx + 1}): '
            f'{", ".join(bad)} is NaN or infinite. All loss terms: {values}.'
            + (f' Images in the batch: {", ".join(images)}.' if images else '')
            + ' Training was stopped before the next checkpoint. Usual '
            'causes: a learning rate too high for the batch size (lower '
            'optim_wrapper.optimizer.lr or add warm-up), exploding '
            'gradients (set optim_wrapper.clip_grad), or a degenerate box in '
            'the annotations.')
