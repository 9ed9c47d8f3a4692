"""Save checkpoints that ``torch.load(weights_only=True)`` accepts."""
from mmengine.hooks import Hook
from mmdet.registry import HOOKS

from ..checkpoint import restore_history_buffers, to_weights_only


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Keep checkpoints free of pickled Python objects.

    Right before a checkpoint is written it converts everything that is not
    a tensor (message hub history, numpy scalars in runtime information and
    metrics, optimizer and scheduler state) into plain Python values and
    tensors, see :func:`lowlight.engine.to_weights_only`; right after a
    checkpoint is loaded it turns the message hub history back into
    ``HistoryBuffer`` objects so that ``--resume`` restores the logs too.

    It runs with the lowest priority, so it sees the checkpoint after every
    other hook (e.g. ``EMAHook``) has added to it. :class:`LowLightRunner`
    registers it by itself; add it to ``custom_hooks`` to get the same
    checkpoints from a plain mmengine ``Runner``.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Convert ``checkpoint`` in place to weights-only form.

        Args:
            runner (Runner): The runner saving the checkpoint.
            checkpoint (dict): The checkpoint about to be saved.
        """
        to_weights_only(checkpoint)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore ``HistoryBuffer`` objects of the message hub in place.

        Args:
            runner (Runner): The runner loading the checkpoint.
            checkpoint (dict): The loaded checkpoint.
        """
        restore_history_buffers(checkpoint)
