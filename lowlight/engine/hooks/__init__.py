"""Hooks of lowlight: weights-only and atomic checkpoints, epoch-wise
dataloader worker seeds and a NaN/Inf loss guard."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .finite_loss_hook import FiniteLossHook, NonFiniteLossError
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook
from .worker_seed_hook import (EpochWorkerSeeder, EpochWorkerSeedHook,
                               use_epoch_worker_seeding)

__all__ = [
    'AtomicCheckpointHook', 'EpochWorkerSeeder', 'EpochWorkerSeedHook',
    'FiniteLossHook', 'NonFiniteLossError', 'WeightsOnlyCheckpointHook',
    'use_epoch_worker_seeding'
]
