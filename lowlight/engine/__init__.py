"""Training glue: safe checkpoints, the runner, hooks and image checks."""
from .checkpoint import (CheckpointLoadError, exit_on_checkpoint_error,
                         load_checkpoint_safely, restore_history_buffers,
                         to_weights_only)
from .hooks import (FiniteLossHook, NonFiniteLossError,
                    WeightsOnlyCheckpointHook)
from .image_check import DatasetImageError, check_dataset_images
from .runner import LowLightRunner
from .tool_config import DEFAULT_RUNNER, load_tool_config

__all__ = [
    'CheckpointLoadError', 'exit_on_checkpoint_error',
    'load_checkpoint_safely', 'restore_history_buffers', 'to_weights_only',
    'FiniteLossHook', 'NonFiniteLossError', 'WeightsOnlyCheckpointHook',
    'DatasetImageError', 'check_dataset_images', 'LowLightRunner',
    'DEFAULT_RUNNER', 'load_tool_config'
]
