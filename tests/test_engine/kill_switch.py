"""KillSwitchHook: SIGKILL the training process at a chosen point (tests).

Imported by the resume tests' configs through ``custom_imports`` (with this
directory on ``PYTHONPATH``).
"""
import io
import os
import signal

import torch
from mmengine.hooks import Hook
from mmengine.runner import runner as mmengine_runner
from mmdet.registry import HOOKS


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _write_half_and_kill(checkpoint, filename, **kwargs) -> None:
    """Stands in for mmengine's ``save_checkpoint``: dies mid-write."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    with open(filename, 'wb') as f:
        f.write(buffer.getvalue()[:buffer.tell() // 2])
        f.flush()
        os.fsync(f.fileno())
    _kill()


@HOOKS.register_module()
class KillSwitchHook(Hook):
    """Kill the process (SIGKILL, on rank 0) at one point of training.

    Args:
        where (str): ``'train'``: after training iteration ``batch`` of
            epoch ``epoch`` (0-based); ``'val'``: before the first
            validation iteration after ``epoch`` epochs; ``'save'``: half
            way through writing the checkpoint of epoch ``epoch`` (1-based,
            as in ``epoch_<n>.pth``).
        epoch (int): See ``where``.
        batch (int): See ``where``. Defaults to 0.
    """

    def __init__(self, where: str, epoch: int, batch: int = 0) -> None:
        self.where, self.epoch, self.batch = where, epoch, batch

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if (self.where == 'train' and runner.epoch == self.epoch
                and batch_idx == self.batch and runner.rank == 0):
            _kill()

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.where == 'val' and runner.epoch == self.epoch:
            _kill()

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        if self.where == 'save' and runner.epoch + 1 == self.epoch:
            mmengine_runner.save_checkpoint = _write_half_and_kill
