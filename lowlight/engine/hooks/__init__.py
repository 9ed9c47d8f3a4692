"""Hooks of lowlight: weights-only checkpoints and a NaN/Inf loss guard."""
from .finite_loss_hook import FiniteLossHook, NonFiniteLossError
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['FiniteLossHook', 'NonFiniteLossError', 'WeightsOnlyCheckpointHook']
