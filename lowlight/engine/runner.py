"""The runner of lowlight configs: safe checkpoints and image checks."""
import copy
import datetime
import os
import os.path as osp
from typing import Callable, Optional, Union

import torch.distributed as torch_dist
from mmengine.device import get_device
from mmengine.dist import master_only
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import DATASETS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmdet.registry import RUNNERS

from .checkpoint import load_checkpoint_safely
from .hooks.weights_only_checkpoint_hook import WeightsOnlyCheckpointHook
from .image_check import check_dataset_images


@RUNNERS.register_module()
class LowLightRunner(Runner):
    """mmengine ``Runner`` that treats checkpoints as untrusted input.

    Selected in a config with ``runner_type = 'mmdet.LowLightRunner'`` (the
    scope prefix lets mmdet's own ``tools/train.py``, which builds runners
    from mmengine's root registry, find it too). Differences to ``Runner``:

    - checkpoints are saved in weights-only form
      (:class:`WeightsOnlyCheckpointHook` is always registered), under a
      temporary name first and renamed when complete;
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
      with gloo and the model wrapped without device ids.

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
        """Register the configured hooks plus the weights-only hook."""
        super().register_hooks(default_hooks, custom_hooks)
        if not any(
                isinstance(hook, WeightsOnlyCheckpointHook)
                for hook in self._hooks):
            self.register_hook(WeightsOnlyCheckpointHook())

    def build_dataloader(self, dataloader, seed=None, diff_rank_seed=False):
        """Build the dataset, check its images, then build the dataloader.

        Same arguments and result as :meth:`Runner.build_dataloader`; the
        dataset is checked before samplers see its length, so skipped
        entries never reach a sampler.
        """
        if isinstance(dataloader, dict) and isinstance(
                dataloader.get('dataset'), dict):
            dataloader = copy.copy(dataloader)
            dataset = DATASETS.build(dataloader['dataset'])
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
            check_dataset_images(dataset, **self.image_check)
            dataloader['dataset'] = dataset
        return super().build_dataloader(
            dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

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

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """Save like :meth:`Runner.save_checkpoint`, atomically on disk.

        For a local ``out_dir`` the file is written as ``<filename>.part``
        and renamed when complete, so an interrupted save never leaves a
        truncated checkpoint under the final name.
        """
        if '://' in out_dir:
            super().save_checkpoint(out_dir, filename, *args, **kwargs)
            return
        partial = f'{filename}.part'
        super().save_checkpoint(out_dir, partial, *args, **kwargs)
        os.replace(osp.join(out_dir, partial), osp.join(out_dir, filename))
