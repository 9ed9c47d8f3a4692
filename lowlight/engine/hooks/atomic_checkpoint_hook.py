"""A CheckpointHook that never removes the checkpoint a resume needs."""
from mmengine.hooks import CheckpointHook
from mmdet.registry import HOOKS


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` only record the path."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.calls = []

    def remove(self, path: str) -> None:
        self.calls.append((self.backend.remove, path))

    def rmtree(self, path: str) -> None:
        self.calls.append((self.backend.rmtree, path))

    def __getattr__(self, name: str):
        return getattr(self.backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook``, removing outdated files last.

    With ``max_keep_ckpts``, mmengine deletes the oldest kept checkpoint
    before it writes the new one, so a run killed while writing (e.g.
    ``max_keep_ckpts=1``) leaves ``last_checkpoint`` pointing at a deleted
    file and nothing to resume from. This hook deletes outdated checkpoints
    only after the new one is complete and ``last_checkpoint`` names it.
    :class:`LowLightRunner` uses it in place of a configured
    ``CheckpointHook``; arguments are those of ``CheckpointHook``.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save as ``CheckpointHook`` does, then delete outdated files."""
        backend, deferred = self.file_backend, _DeferredRemoval(
            self.file_backend)
        self.file_backend = deferred
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        finally:
            self.file_backend = backend
        for remove, path in deferred.calls:
            remove(path)
