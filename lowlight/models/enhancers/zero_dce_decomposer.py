"""ZeroDCEDecomposer: Zero-DCE curve estimation as a Retinex decomposition.

Zero-DCE (Guo et al., CVPR 2020) estimates per-pixel light-enhancement
curves ``LE(x) = x + A x (1 - x)``, applied ``n`` times with one curve map
``A_k`` in [-1, 1] per iteration, and trains them with four non-reference
losses (spatial consistency, exposure control, colour constancy and
illumination smoothness of the curve maps). Implemented here from the
paper's equations and wrapped in the decomposition interface: the enhanced
image is the reflectance and the illumination is what was removed,
``L = clip(I / R, eps, 1)``.
"""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from torch import Tensor

from .base import BaseDecomposer, Decomposition
from .losses import exposure_loss


@MODELS.register_module()
class ZeroDCEDecomposer(BaseDecomposer):
    """Zero-DCE curve estimator behind the decomposition interface.

    The curve network is Zero-DCE's DCE-Net: ``num_layers`` 3x3 convolutions
    (ReLU), the second half concatenating the mirrored first-half features
    (symmetric skips), and a last convolution with tanh that gives
    ``3 * num_iters`` curve maps. With ``downscale > 1`` the curve maps are
    estimated on a downsampled input and upsampled (the Zero-DCE++ speed-up).

    Losses (weights from the config): ``loss_spatial`` (local contrast of
    the enhanced image matches the input's, 4x4 regions), ``loss_exposure``
    (16x16 patch brightness close to ``exposure_level``), ``loss_color``
    (grey-world colour constancy) and ``loss_curve_tv`` (smoothness of the
    curve maps).

    Args:
        illumination_channels (int): 1 (``max_c I / max_c R``) or 3
            (per channel). Defaults to 1.
        feat_channels (int): width of DCE-Net. Defaults to 32.
        num_layers (int): conv layers before the output layer (even).
            Defaults to 6.
        num_iters (int): curve iterations. Defaults to 8.
        downscale (int): estimate the curves at 1/downscale resolution.
            Defaults to 1.
        eps (float): lower bound of the illumination. Defaults to 1e-3.
        spatial_weight (float): weight of ``loss_spatial``. Defaults to 1.
        exposure_weight (float): weight of ``loss_exposure``.
            Defaults to 10.
        color_weight (float): weight of ``loss_color``. Defaults to 5.
        curve_tv_weight (float): weight of ``loss_curve_tv``.
            Defaults to 200.
        exposure_level (float): target patch brightness. Defaults to 0.6.
        act_cfg (dict): activation of the hidden layers. Defaults to ReLU.
        init_cfg (dict or list[dict], optional): e.g. a ``Pretrained``
            checkpoint.
    """

    def __init__(self,
                 illumination_channels: int = 1,
                 feat_channels: int = 32,
                 num_layers: int = 6,
                 num_iters: int = 8,
                 downscale: int = 1,
                 eps: float = 1e-3,
                 spatial_weight: float = 1.0,
                 exposure_weight: float = 10.0,
                 color_weight: float = 5.0,
                 curve_tv_weight: float = 200.0,
                 exposure_level: float = 0.6,
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(illumination_channels, eps, init_cfg)
        if num_layers < 2 or num_layers % 2:
            raise ValueError(
                f'num_layers must be even and >= 2, got {num_layers}')
        self.num_iters = num_iters
        self.downscale = downscale
        self.spatial_weight = spatial_weight
        self.exposure_weight = exposure_weight
        self.color_weight = color_weight
        self.curve_tv_weight = curve_tv_weight
        self.exposure_level = exposure_level
        half = num_layers // 2
        self.encoder = nn.ModuleList([
            ConvModule(
                3 if i == 0 else feat_channels,
                feat_channels,
                3,
                padding=1,
                act_cfg=act_cfg) for i in range(half)
        ])
        self.decoder = nn.ModuleList([
            ConvModule(
                feat_channels * (1 if i == 0 else 2),
                feat_channels,
                3,
                padding=1,
                act_cfg=act_cfg) for i in range(half)
        ])
        self.curve_out = nn.Conv2d(
            feat_channels * 2, 3 * num_iters, 3, padding=1)

    def curve_maps(self, img: Tensor) -> Tensor:
        """Curve parameters ``A``: (N, 3 * num_iters, H, W) in [-1, 1]."""
        x = img
        if self.downscale > 1:
            x = F.interpolate(
                x,
                scale_factor=1 / self.downscale,
                mode='bilinear',
                align_corners=False)
        skips = []
        for layer in self.encoder:
            x = layer(x)
            skips.append(x)
        for i, layer in enumerate(self.decoder):
            x = layer(x if i == 0 else torch.cat([x, skips[-1 - i]], 1))
        curves = torch.tanh(self.curve_out(torch.cat([x, skips[0]], 1)))
        if self.downscale > 1:
            curves = F.interpolate(
                curves,
                size=img.shape[-2:],
                mode='bilinear',
                align_corners=False)
        return curves

    def _enhance(self, img: Tensor, curves: Tensor) -> Tensor:
        x = img
        for a in curves.split(3, dim=1):
            x = x + a * x * (1 - x)
        return x.clamp(0.0, 1.0)

    def _split(self, img: Tensor, enhanced: Tensor) -> Decomposition:
        num = self.to_illumination_channels(img)
        den = self.to_illumination_channels(enhanced)
        illumination = (num / den.clamp(min=self.eps)).clamp(self.eps, 1.0)
        return Decomposition(enhanced, illumination)

    def decompose(self, img: Tensor) -> Decomposition:
        """See :meth:`BaseDecomposer.decompose`."""
        return self._split(img, self._enhance(img, self.curve_maps(img)))

    def compute_loss(self, img: Tensor,
                     decomposition: Decomposition) -> Dict[str, Tensor]:
        """Zero-DCE's four non-reference losses.

        The curve maps are recomputed here (they are not part of the
        decomposition); the enhanced image is the given reflectance.

        Args:
            img (Tensor): (N, 3, H, W) RGB in [0, 1].
            decomposition (Decomposition): output of :meth:`decompose`.

        Returns:
            dict[str, Tensor]: the weighted losses (weight 0 drops a term).
        """
        enhanced = decomposition.reflectance
        losses = {}
        if self.spatial_weight:
            losses['loss_spatial'] = self.spatial_weight * self._spatial(
                img, enhanced)
        if self.exposure_weight:
            losses['loss_exposure'] = self.exposure_weight * exposure_loss(
                enhanced, self.exposure_level, 16)
        if self.color_weight:
            r, g, b = enhanced.mean(dim=(2, 3)).unbind(1)
            losses['loss_color'] = self.color_weight * ((r - g)**2 +
                                                        (r - b)**2 +
                                                        (g - b)**2).mean()
        if self.curve_tv_weight:
            curves = self.curve_maps(img)
            tv = ((curves[..., 1:, :] - curves[..., :-1, :])**2).mean() + (
                (curves[..., :, 1:] - curves[..., :, :-1])**2).mean()
            losses['loss_curve_tv'] = self.curve_tv_weight * tv
        return losses

    @staticmethod
    def _spatial(img: Tensor, enhanced: Tensor) -> Tensor:
        """Spatial consistency: neighbour differences of 4x4 region means."""
        pool = min(4, *img.shape[-2:])
        a = F.avg_pool2d(img.mean(1, keepdim=True), pool)
        b = F.avg_pool2d(enhanced.mean(1, keepdim=True), pool)
        loss = a.new_zeros(())
        for dim in (2, 3):
            n = a.shape[dim]
            if n > 1:
                da = a.narrow(dim, 1, n - 1) - a.narrow(dim, 0, n - 1)
                db = b.narrow(dim, 1, n - 1) - b.narrow(dim, 0, n - 1)
                loss = loss + ((da - db)**2).mean()
        return loss
