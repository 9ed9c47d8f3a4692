"""Seed dataloader workers from the run's seed and the epoch."""
import multiprocessing
from functools import partial
from typing import Callable, Optional

from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmdet.registry import HOOKS
from torch.utils.data import get_worker_info


class EpochWorkerSeeder:
    """A ``worker_init_fn`` that seeds every worker anew at every epoch.

    mmengine seeds worker ``w`` of rank ``r`` once, when it starts, with
    ``seed + num_workers * r + w``. With ``persistent_workers`` the workers
    then live through all epochs, so the augmentations of epoch ``k``
    depend on everything the workers drew in epochs ``0..k-1``, and a
    resumed run, whose workers start afresh at epoch ``k``, draws different
    ones. This seeder calls mmengine's ``worker_init_fn`` with the seed
    ``seed + epoch * num_workers * world_size``: epoch 0 is seeded exactly
    as mmengine does, and every (epoch, rank, worker) gets its own seed. A
    persistent worker reseeds itself at the first batch of a new epoch
    (it wraps its copy of the dataset's batch fetch); the epoch is shared
    with the workers through :meth:`set_epoch`, which
    :class:`EpochWorkerSeedHook` calls before each training epoch.

    Args:
        init_fn (functools.partial): mmengine's ``worker_init_fn`` with its
            ``num_workers``, ``rank`` and ``seed`` keywords, as mmengine's
            ``Runner.build_dataloader`` makes it.
    """

    def __init__(self, init_fn: partial) -> None:
        self.init_fn = init_fn
        self.stride = init_fn.keywords['num_workers'] * get_world_size()
        self._epoch = multiprocessing.Value('q', 0)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch the workers seed themselves for (main process)."""
        self._epoch.value = epoch

    def _seed(self, worker_id: int, epoch: int) -> None:
        keywords = dict(self.init_fn.keywords)
        keywords['seed'] += epoch * self.stride
        self.init_fn.func(worker_id, **keywords)

    def __call__(self, worker_id: int) -> None:
        """Seed this worker for the current epoch (in the worker process).

        Args:
            worker_id (int): The worker's index in ``[0, num_workers)``.
        """
        seeded = [self._epoch.value]
        self._seed(worker_id, seeded[0])
        dataset = get_worker_info().dataset
        fetch: Optional[Callable] = getattr(dataset, '__getitems__', None)

        def getitems(indices):
            epoch = self._epoch.value
            if epoch != seeded[0]:
                self._seed(worker_id, epoch)
                seeded[0] = epoch
            if fetch is not None:
                return fetch(indices)
            return [dataset[index] for index in indices]

        # torch's map-style fetcher calls dataset.__getitems__ (looked up on
        # the instance) for each batch when it exists
        dataset.__getitems__ = getitems


def use_epoch_worker_seeding(dataloader) -> None:
    """Give a dataloader epoch-wise worker seeds, if mmengine seeds it.

    Replaces mmengine's default ``worker_init_fn`` (set when the run has a
    seed and workers) by an :class:`EpochWorkerSeeder`; a custom
    ``worker_init_fn`` of the config is kept.

    Args:
        dataloader (torch.utils.data.DataLoader): A dataloader built by
            mmengine's ``Runner.build_dataloader``.
    """
    init_fn = dataloader.worker_init_fn
    if (isinstance(init_fn, partial)
            and init_fn.func is mmengine_worker_init_fn
            and init_fn.keywords.get('num_workers')):
        dataloader.worker_init_fn = EpochWorkerSeeder(init_fn)


@HOOKS.register_module()
class EpochWorkerSeedHook(Hook):
    """Tell the training dataloader's workers the epoch before it starts.

    Runs before each training epoch, like mmengine's ``DistSamplerSeedHook``
    does for the sampler; does nothing unless the dataloader's
    ``worker_init_fn`` is an :class:`EpochWorkerSeeder`.
    :class:`LowLightRunner` registers it by itself.
    """

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        """Share ``runner.epoch`` with the training dataloader's workers.

        Args:
            runner (Runner): The training runner.
        """
        seeder = runner.train_loop.dataloader.worker_init_fn
        if isinstance(seeder, EpochWorkerSeeder):
            seeder.set_epoch(runner.epoch)
