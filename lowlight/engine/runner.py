"""The runner of lowlight configs: safe checkpoints, faithful resume and
image checks."""
import copy
import datetime
import os
import os.path as osp
from typing import Callable, Optional, Union

import torch
import torch.distributed as torch_dist
from mmengine.device import get_device
from mmengine.dist import all_gather_object, get_rank, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import DATASETS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmdet.registry import RUNNERS
from torch.utils.data import DataLoader

from .checkpoint import get_rng_state, load_checkpoint_safely, set_rng_state
from .hooks.atomic_checkpoint_hook import AtomicCheckpointHook
from .hooks.weights_only_checkpoint_hook import WeightsOnlyCheckpointHook
from .hooks.worker_seed_hook import (EpochWorkerSeedHook,
                                     use_epoch_worker_seeding)
from .image_check import check_dataset_images
from .pretrained import load_pretrained


@RUNNERS.register_module()
class LowLightRunner(Runner):
    """mmengine ``Runner`` that treats checkpoints as untrusted input.

    Selected in a config with ``runner_type = 'mmdet.LowLightRunner'`` (the
    scope prefix lets mmdet's own ``tools/train.py``, which builds runners
    from mmengine's root registry, find it too). Differences to ``Runner``:

    - checkpoints are saved in weights-only form
      (:class:`WeightsOnlyCheckpointHook` is always registered), under a
      temporary name first and renamed when complete; a configured
      ``CheckpointHook`` becomes an :class:`AtomicCheckpointHook`, which
      deletes outdated checkpoints only after the new one is complete;
    - ``--resume`` continues as the uninterrupted run would: checkpoints
      hold every rank's Python, numpy and torch RNG states, restored on
      resume; dataloader workers are seeded from the run's seed and the
      epoch (:class:`EpochWorkerSeedHook`), not once for the whole run;
      dataloaders draw their workers' base seeds from their own generator,
      not from torch's global one;
    - ``load_from``, ``resume`` and ``tools/test.py CHECKPOINT`` load files
      only with ``torch.load(weights_only=True)``
      (:func:`load_checkpoint_safely`), so a crafted pickle is refused with
      an error naming the file;
    - every dataset's images are checked when its dataloader is built
      (:func:`check_dataset_images`), so a missing or unreadable image stops
      the run at once, not hours in. Configure it with the top-level config
      key ``image_check = dict(level='header', on_invalid='error')``;
    - distributed training also works on CPU-only machines (mmengine's
      ``pytorch`` launcher needs CUDA there): the process group is set up
      with gloo and the model wrapped without device ids;
    - metrics with an ``out_dir`` attribute left at None (e.g.
      ``LightingAwareVOCMetric``) are given the run's ``work_dir`` for the
      files they write.

    Arguments are those of :class:`mmengine.runner.Runner`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.image_check = dict(level='header', on_invalid='error')
        self.image_check.update(self.cfg.get('image_check') or {})

    def setup_env(self, env_cfg: dict) -> None:
        """Set up the environment; start gloo on CPU-only distributed runs."""
        dist_cfg = dict(env_cfg.get('dist_cfg') or {})
        if (self.distributed and self.launcher == 'pytorch'
                and get_device() == 'cpu'
                and not torch_dist.is_initialized()):
            if dist_cfg.pop('backend', 'gloo') != 'gloo':
                print_log('No GPU found: using the gloo backend.',
                          logger='current')
            if dist_cfg.get('timeout') is not None:
                dist_cfg['timeout'] = datetime.timedelta(
                    seconds=dist_cfg['timeout'])
            torch_dist.init_process_group(backend='gloo', **dist_cfg)
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        """Wrap like :meth:`Runner.wrap_model`; no device ids on CPU."""
        if self.distributed and get_device() == 'cpu':
            model_wrapper_cfg = dict(model_wrapper_cfg or dict(
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get(
                    'find_unused_parameters', False)))
            if model_wrapper_cfg.get(
                    'type', 'MMDistributedDataParallel'
            ) == 'MMDistributedDataParallel':
                model_wrapper_cfg.setdefault('device_ids', None)
        return super().wrap_model(model_wrapper_cfg, model)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        """Register the configured hooks plus lowlight's checkpoint hooks.

        mmengine's ``CheckpointHook`` (configured, or mmengine's default) is
        built as :class:`AtomicCheckpointHook` with the same arguments;
        :class:`WeightsOnlyCheckpointHook` and :class:`EpochWorkerSeedHook`
        are added unless configured.
        """
        default_hooks = dict(default_hooks or {})
        checkpoint = default_hooks.get('checkpoint',
                                       dict(type='CheckpointHook'))
        is_mmengine_hook = isinstance(checkpoint, dict) and checkpoint.get(
            'type') in ('CheckpointHook', CheckpointHook)
        if is_mmengine_hook:
            default_hooks['checkpoint'] = dict(
                checkpoint, type=AtomicCheckpointHook)
        super().register_hooks(default_hooks, custom_hooks)
        for hook_type in (WeightsOnlyCheckpointHook, EpochWorkerSeedHook):
            if not any(isinstance(hook, hook_type) for hook in self._hooks):
                self.register_hook(hook_type())

    def build_evaluator(self, evaluator):
        """Build the evaluator; metrics that write files (an ``out_dir``
        attribute set to None) write them into ``work_dir``."""
        evaluator = super().build_evaluator(evaluator)
        for metric in evaluator.metrics:
            if getattr(metric, 'out_dir', False) is None:
                metric.out_dir = self.work_dir
        return evaluator

    def build_dataloader(self, dataloader, seed=None, diff_rank_seed=False):
        """Build the dataset, check its images, then build the dataloader.

        Same arguments and result as :meth:`Runner.build_dataloader`; the
        dataset is checked before samplers see its length, so skipped
        entries never reach a sampler. With a seed, the dataloader gets its
        own ``torch.Generator`` (creating an iterator then leaves torch's
        global RNG alone, so a resumed run draws the same numbers as an
        uninterrupted one) and epoch-wise worker seeds
        (:func:`use_epoch_worker_seeding`).
        """
        if isinstance(dataloader, dict) and isinstance(
                dataloader.get('dataset'), dict):
            dataloader = copy.copy(dataloader)
            dataset = DATASETS.build(dataloader['dataset'])
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
            check_dataset_images(dataset, **self.image_check)
            dataloader['dataset'] = dataset
        loader = super().build_dataloader(
            dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        if seed is not None and isinstance(loader, DataLoader):
            loader.generator = torch.Generator().manual_seed(seed + get_rank())
            use_epoch_worker_seeding(loader)
        return loader

    def load_or_resume(self) -> None:
        """Resume as mmengine does; check a ``load_from`` checkpoint's fit.

        Without resuming, ``load_from`` goes through :func:`load_pretrained`:
        a file of another model or class count is an error naming the file
        and the keys (mmengine would only warn and train from random
        weights); the T2 additions missing from a plain detector's file
        keep their identity initialisation.
        """
        if self._has_loaded or self._resume or self._load_from is None:
            super().load_or_resume()
            return
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        checkpoint = load_pretrained(model, self._load_from)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        self._has_loaded = True

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        """Load a checkpoint into the model with the weights-only loader.

        Same arguments and result as :meth:`Runner.load_checkpoint`, which
        this replaces only in how the file is read.

        Raises:
            CheckpointLoadError: If the file is missing, damaged, or holds
                Python objects beyond tensors and plain values.
        """
        checkpoint = load_checkpoint_safely(filename, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self, filename: str, *args, **kwargs) -> None:
        """Resume like :meth:`Runner.resume`, with this rank's RNG states.

        A checkpoint without RNG states (saved before lowlight stored them,
        or by another runner) still resumes, with a warning that the run
        will not continue exactly as an uninterrupted one.
        """
        super().resume(filename, *args, **kwargs)
        states = self.message_hub.get_info('rng_state')
        rank = get_rank()
        if states is None or rank >= len(states):
            self.logger.warning(
                f'{filename} holds no random number generator state'
                + ('' if states is None else f' for rank {rank}') +
                ': training continues, but not exactly as an uninterrupted '
                'run would (augmentations and random choices differ).')
            return
        set_rng_state(states[rank])

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """Save like :meth:`Runner.save_checkpoint`, atomically on disk.

        Must be called on every rank (``CheckpointHook`` does): the ranks'
        RNG states are gathered into the message hub (``rng_state``, one
        entry per rank), then the main process writes the file. For a local
        ``out_dir`` the file is written as ``<filename>.part`` and renamed
        when complete, so an interrupted save never leaves a truncated
        checkpoint under the final name.
        """
        self.message_hub.update_info('rng_state',
                                     all_gather_object(get_rng_state()))
        if not is_main_process():
            return
        if '://' in out_dir:
            super().save_checkpoint(out_dir, filename, *args, **kwargs)
            return
        partial = f'{filename}.part'
        super().save_checkpoint(out_dir, partial, *args, **kwargs)
        os.replace(osp.join(out_dir, partial), osp.join(out_dir, filename))
