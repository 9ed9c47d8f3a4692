"""The decomposition interface shared by every enhancer.

An enhancer turns a low-light RGB image ``I`` in [0, 1] into a Retinex
decomposition ``I ~ R * L``: the reflectance ``R`` (the detection-oriented
"enhanced" image) and the illumination ``L`` in (0, 1]. The detector only
talks to this interface, so it never knows which enhancer it holds.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

ImgShapes = Optional[Sequence[Tuple[int, int]]]


class Decomposition(NamedTuple):
    """A Retinex decomposition of a batch of images.

    Attributes:
        reflectance (Tensor): (N, 3, H, W), values in [0, 1] (up to
            ``max_reflectance`` for a RetinexDecomposer that sets it).
        illumination (Tensor): (N, 1, H, W) or (N, 3, H, W), values in
            (0, 1].
    """
    reflectance: Tensor
    illumination: Tensor


def valid_mask(img: Tensor, img_shapes: ImgShapes) -> Tensor:
    """Mask of the real (unpadded) image area of a padded batch.

    Args:
        img (Tensor): (N, C, H, W) padded batch.
        img_shapes (Sequence[tuple[int, int]], optional): the (h, w) of each
            image before padding; None means no padding.

    Returns:
        Tensor: (N, 1, H, W) with 1 on real pixels and 0 on padding, in the
        dtype of ``img``.
    """
    n, _, h, w = img.shape
    mask = img.new_ones((n, 1, h, w))
    if img_shapes is not None:
        for i, (img_h, img_w) in enumerate(img_shapes):
            mask[i, :, img_h:, :] = 0
            mask[i, :, :, img_w:] = 0
    return mask


class BaseDecomposer(BaseModule, metaclass=ABCMeta):
    """Base class of enhancers that decompose an image into R and L.

    Subclasses implement :meth:`decompose` and :meth:`compute_loss` on
    unpadded images. This class handles batches padded by the data
    preprocessor: when ``img_shapes`` says an image is smaller than the
    batch, that image is cropped to its real area, decomposed on its own and
    padded back (reflectance 0, illumination 1, so ``I = R * L`` also holds
    on the zero padding). The padding therefore never leaks into the
    estimate of the real image area, whatever the receptive field.

    Args:
        illumination_channels (int): channels of the illumination, 1 (grey)
            or 3 (per colour channel).
        eps (float): lower bound of the illumination.
        init_cfg (dict or list[dict], optional): initialisation config, e.g.
            ``dict(type='Pretrained', checkpoint=PATH, prefix='enhancer.')``
            to load the enhancer's own weights from a local file.
    """

    def __init__(self,
                 illumination_channels: int,
                 eps: float,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if illumination_channels not in (1, 3):
            raise ValueError('illumination_channels must be 1 or 3, got '
                             f'{illumination_channels}')
        self.illumination_channels = illumination_channels
        self.eps = eps

    def to_illumination_channels(self, img: Tensor) -> Tensor:
        """(N, 3, H, W) -> (N, C_L, H, W): the channel maximum (the usual
        Retinex grey estimate) for a 1-channel illumination, else as is."""
        if self.illumination_channels == 1:
            return img.amax(dim=1, keepdim=True)
        return img

    @abstractmethod
    def decompose(self, img: Tensor) -> Decomposition:
        """Decompose unpadded images.

        Args:
            img (Tensor): (N, 3, H, W) RGB in [0, 1].

        Returns:
            Decomposition: reflectance (N, 3, H, W) and illumination
            (N, 1 or 3, H, W).
        """

    @abstractmethod
    def compute_loss(self, img: Tensor,
                     decomposition: Decomposition) -> Dict[str, Tensor]:
        """Unsupervised losses of unpadded images and their decomposition.

        Args:
            img (Tensor): (N, 3, H, W) RGB in [0, 1].
            decomposition (Decomposition): the output of :meth:`decompose`.

        Returns:
            dict[str, Tensor]: weighted scalar losses, keys start with
            ``loss_``.
        """

    def forward(self,
                img: Tensor,
                img_shapes: ImgShapes = None) -> Decomposition:
        """Decompose a (possibly padded) batch.

        Args:
            img (Tensor): (N, 3, H, W) RGB in [0, 1].
            img_shapes (Sequence[tuple[int, int]], optional): (h, w) of each
                image before padding. None: the images fill the batch.

        Returns:
            Decomposition: reflectance (N, 3, H, W) and illumination
            (N, 1 or 3, H, W); on padding R = 0 and L = 1.
        """
        crops = self._crops(img, img_shapes)
        if crops is None:
            return self.decompose(img)
        h, w = img.shape[-2:]
        parts = [self.decompose(crop) for crop in crops]
        reflectance = torch.cat([
            F.pad(p.reflectance, (0, w - p.reflectance.shape[-1], 0,
                                  h - p.reflectance.shape[-2])) for p in parts
        ])
        illumination = torch.cat([
            F.pad(
                p.illumination, (0, w - p.illumination.shape[-1], 0,
                                 h - p.illumination.shape[-2]),
                value=1.0) for p in parts
        ])
        return Decomposition(reflectance, illumination)

    def loss(self,
             img: Tensor,
             decomposition: Decomposition,
             img_shapes: ImgShapes = None) -> Dict[str, Tensor]:
        """Unsupervised losses of a (possibly padded) batch.

        Padded images are cropped to their real area; the losses are then
        the mean over images of each image's loss.

        Args:
            img (Tensor): (N, 3, H, W) RGB in [0, 1].
            decomposition (Decomposition): the output of :meth:`forward`.
            img_shapes (Sequence[tuple[int, int]], optional): (h, w) of each
                image before padding.

        Returns:
            dict[str, Tensor]: weighted scalar losses.
        """
        crops = self._crops(img, img_shapes)
        if crops is None:
            return self.compute_loss(img, decomposition)
        per_image = []
        for i, crop in enumerate(crops):
            h, w = crop.shape[-2:]
            per_image.append(
                self.compute_loss(
                    crop,
                    Decomposition(
                        decomposition.reflectance[i:i + 1, :, :h, :w],
                        decomposition.illumination[i:i + 1, :, :h, :w])))
        return {
            key: torch.stack([losses[key] for losses in per_image]).mean()
            for key in per_image[0]
        }

    @staticmethod
    def _crops(img: Tensor, img_shapes: ImgShapes) -> Optional[List[Tensor]]:
        """Per-image crops of the real area, or None if nothing is padded."""
        if img_shapes is None:
            return None
        if len(img_shapes) != img.shape[0]:
            raise ValueError(f'got {len(img_shapes)} image shapes for a '
                             f'batch of {img.shape[0]} images')
        h, w = img.shape[-2:]
        shapes = [(int(s[0]), int(s[1])) for s in img_shapes]
        if any(sh > h or sw > w for sh, sw in shapes):
            raise ValueError(f'image shapes {shapes} exceed the batch size '
                             f'({h}, {w})')
        if all(s == (h, w) for s in shapes):
            return None
        return [img[i:i + 1, :, :sh, :sw] for i, (sh, sw) in enumerate(shapes)]
