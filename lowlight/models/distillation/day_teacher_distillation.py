"""Distillation from a frozen normal-light detector on synthetic night/day
pairs: a training-only loss of :class:`LowLightDetector`.

Each training step draws a batch of normal-light images (the corpus the
detector was pretrained on: COCO for a real model, the day corpus for the
embedded night sample), darkens each with a camera noise model
(``LowLightSynthesis(keep_original=...)`` in the pairs' pipeline) and pulls
the student's features of the dark image towards the frozen pretrained
detector's features of the original: the student learns to see at night
what the normal-light detector sees by day. The pairs pass through the
student's batch norms with batch statistics but do not move their running
statistics, which stay those of the real training images the model is
tested like. Neither the teacher nor the pairs are part of the student (not
in its state dict, nor at inference); both are built on the first training
step, so configs that carry the loss still build, test and export without
the corpus or the teacher's file.
"""
import contextlib
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.registry import DATASETS
from mmdet.structures import DetDataSample
from mmengine.dataset import InfiniteSampler
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader


@contextlib.contextmanager
def frozen_running_stats(module: nn.Module) -> Iterator[None]:
    """Batch norms of ``module`` normalise with batch statistics (in
    training mode) but leave their running statistics unchanged."""
    norms = [m for m in module.modules() if isinstance(m, _BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.momentum = 0.0
    try:
        yield
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum


class DayTeacherDistillation:
    """Feature distillation on synthetic night/day pairs.

    Args:
        teacher_config (str): Config of the frozen normal-light detector
            (e.g. the pretraining config of ``load_from``).
        teacher_checkpoint (str): Its checkpoint (loaded weights-only).
        pairs (dict): Dataset config of the normal-light corpus whose
            pipeline ends in ``LowLightSynthesis(keep_original=day_key)``
            (no packing): ``img`` is the darkened image, ``day_key`` the
            original, both uint8 BGR (H, W, 3) at the network input size.
        day_key (str): Key of the original image. Defaults to 'day_img'.
        batch_size (int): Pairs per training step. Defaults to 8.
        loss_weight (float): Weight of the mean squared feature error,
            averaged over the levels. Defaults to 3000.
    """

    def __init__(self,
                 teacher_config: str,
                 teacher_checkpoint: str,
                 pairs: dict,
                 day_key: str = 'day_img',
                 batch_size: int = 8,
                 loss_weight: float = 3000.0) -> None:
        if batch_size < 1 or loss_weight <= 0:
            raise ValueError('DayTeacherDistillation: batch_size must be >= 1 '
                             'and loss_weight > 0, got '
                             f'{batch_size} and {loss_weight}')
        self.teacher_config = teacher_config
        self.teacher_checkpoint = teacher_checkpoint
        self.pairs = pairs
        self.day_key = day_key
        self.batch_size = batch_size
        self.loss_weight = loss_weight
        self._teacher: Optional[nn.Module] = None
        self._batches: Optional[Iterator[list]] = None

    def _build(self, device: torch.device) -> None:
        # imported here: lowlight.apis imports the models package
        from lowlight.apis import init_low_light_detector
        self._teacher = init_low_light_detector(
            self.teacher_config, self.teacher_checkpoint, device=str(device))
        self._teacher.requires_grad_(False)
        dataset = DATASETS.build(self.pairs)
        loader = DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=InfiniteSampler(dataset, shuffle=True),
            collate_fn=list)
        self._batches = iter(loader)

    def _next_pairs(self, student_preprocess: nn.Module
                    ) -> Tuple[Tensor, Tensor, List[DetDataSample]]:
        """(N, 3, H, W) dark batch through the student's data preprocessor,
        day batch through the teacher's, and their data samples."""
        batch = next(self._batches)
        if self.day_key not in batch[0]:
            raise KeyError(
                f'DayTeacherDistillation: the pairs pipeline gave no '
                f'{self.day_key!r}: end it with LowLightSynthesis('
                f'keep_original={self.day_key!r}) (dataset '
                f'{self.pairs.get("type")} at {self.pairs.get("data_root")})')
        samples = [
            DetDataSample(metainfo=dict(
                img_shape=item['img_shape'], ori_shape=item['img_shape']))
            for item in batch
        ]

        def tensors(key, preprocess):
            inputs = [
                torch.from_numpy(
                    np.ascontiguousarray(item[key].transpose(2, 0, 1)))
                for item in batch
            ]
            return preprocess(
                dict(inputs=inputs, data_samples=samples))['inputs']

        return (tensors('img', student_preprocess),
                tensors(self.day_key, self._teacher.data_preprocessor),
                samples)

    def loss(self, student: nn.Module, device: torch.device) -> Tensor:
        """The weighted distillation loss of one batch of pairs.

        Args:
            student (nn.Module): The detector being trained: its
                ``data_preprocessor`` and ``extract_feat`` are used.
            device (torch.device): Where the student lives.

        Returns:
            Tensor: A scalar, ``loss_weight`` x the mean over levels of the
            mean squared difference between the student's features of the
            dark images and the teacher's of the originals.
        """
        if self._teacher is None:
            self._build(device)
        dark, day, samples = self._next_pairs(student.data_preprocessor)
        with frozen_running_stats(student):
            features = student.extract_feat(dark, samples)
        with torch.no_grad():
            target = self._teacher.extract_feat(day, samples)
        if len(features) != len(target):
            raise RuntimeError(
                f'DayTeacherDistillation: the student has {len(features)} '
                f'feature levels, the teacher ({self.teacher_config}) '
                f'{len(target)}')
        errors = [F.mse_loss(s, t) for s, t in zip(features, target)]
        return self.loss_weight * torch.stack(errors).mean()
