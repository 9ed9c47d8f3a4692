"""RetinexDecomposer: T2's Scene Decomposition Module (our design).

Built in the spirit of SCI (Ma et al., "Toward Fast, Flexible, and Robust
Low-Light Image Enhancement", CVPR 2022), from its published equations:

* a weight-shared illumination estimator ``H`` refines a stage input
  ``v^t`` into the illumination ``x^t = clip(v^t + H(v^t), eps, 1)``
  (residual illumination learning);
* a self-calibration module ``K`` maps the stage reflectance
  ``z^t = y / x^t`` back to the next stage input ``v^{t+1} = y + K(z^t)``;
* the unsupervised loss sums, over the stages, a fidelity term
  ``||x^t - v^t||^2`` and an edge-aware smoothness term on ``x^t``.

Only the first stage's estimator runs at inference (weight sharing makes the
later stages' outputs converge to it), so the calibration module is used
only by :meth:`RetinexDecomposer.compute_loss` during training.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from torch import Tensor

from .base import BaseDecomposer, Decomposition
from .losses import exposure_loss


def _conv_stack(in_channels: int, out_channels: int, feat_channels: int,
                num_blocks: int, norm_cfg: ConfigType,
                act_cfg: ConfigType) -> nn.Sequential:
    """3x3 conv stem, ``num_blocks`` conv-norm-act blocks, 3x3 conv out.

    All convolutions replicate-pad, so image borders are not darkened by
    zero padding.
    """
    layers = [
        ConvModule(
            in_channels,
            feat_channels,
            3,
            padding=1,
            padding_mode='replicate',
            act_cfg=act_cfg)
    ]
    layers += [
        ConvModule(
            feat_channels,
            feat_channels,
            3,
            padding=1,
            padding_mode='replicate',
            norm_cfg=norm_cfg,
            act_cfg=act_cfg) for _ in range(num_blocks)
    ]
    layers.append(
        ConvModule(
            feat_channels,
            out_channels,
            3,
            padding=1,
            padding_mode='replicate',
            act_cfg=None))
    return nn.Sequential(*layers)


def _rgb_to_yuv(img: Tensor) -> Tensor:
    """(N, 3, H, W) RGB to YUV (BT.601)."""
    r, g, b = img.unbind(1)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return torch.stack([y, 0.492 * (b - y), 0.877 * (r - y)], dim=1)


@MODELS.register_module()
class RetinexDecomposer(BaseDecomposer):
    """Scene Decomposition Module: SCI-style Retinex decomposition.

    At inference: ``L = clip(p(I) + H(I), eps, 1)`` and
    ``R = clip(I / L, 0, 1)``, where ``p`` is the identity for a 3-channel
    illumination and the channel maximum (the usual Retinex initial
    estimate) for a 1-channel one. With the defaults ``H`` has 3 feature
    channels and one block: 145 parameters at inference.

    With ``illumination_scale = s > 1``, L is smooth by construction: the
    prior is max-pooled by ``s`` (the local bright channel, so ``L >= I``
    almost everywhere), ``H`` refines it at that resolution and L is
    upsampled bilinearly: ``L = clip(up(q + H(q)), eps, 1)`` with
    ``q = maxpool_s(p(I))``. L then cannot carry edges finer than ``s``
    pixels, whatever gradient reaches it, and ``H`` runs on ``1 / s^2`` of
    the pixels.

    The training-only parts (stages after the first, calibration, the
    smoothness window, the calibration crop) are sized for cost by config
    switches; SCI's own setting is far more expensive on CPU (timings in
    ``configs/t2/README.md``).

    Losses (each weight from the config; a weight of 0 drops the term):

    * ``loss_fidelity``: mean over stages of ``|| L^t - p(v^t) ||^2``
      (``up(q(v^t))`` in place of ``p(v^t)`` with ``illumination_scale >
      1``: the per-pixel channel maximum would pull L below the image's
      local maxima and clip R wherever the image is brighter than its
      neighbourhood).
    * ``loss_smooth``: mean over stages of the edge-aware smoothness
      ``sum_j w_ij |L^t_i - L^t_j|`` over the neighbours ``j`` of each pixel
      ``i`` within ``smooth_radius``, with
      ``w_ij = exp(-||yuv(I_i) - yuv(I_j)||^2 / (2 sigma^2))``.
    * ``loss_exposure`` (our addition): ``|| avgpool(mean_c R) - E ||^2``
      over ``exposure_patch`` patches. Why: fidelity + smoothness alone are
      minimised by ``L`` ~ a smoothed ``max_c I``, which makes the local
      mean of ``R`` close to 1 everywhere; in joint training the detector
      loss can then push ``L`` down freely, saturating ``R`` (clipped at 1,
      no gradient) and amplifying noise in dark flat areas. Pinning the
      local brightness of ``R`` at a well-exposed level (``E = 0.6`` as in
      Zero-DCE) keeps the decomposition in a useful range.

    Args:
        illumination_channels (int): 1 (grey illumination) or 3.
            Defaults to 1.
        num_stages (int): stages of the weight-shared estimator unrolled in
            training (SCI uses 3). Defaults to 2.
        feat_channels (int): width of the estimator. Defaults to 3.
        num_blocks (int): conv-norm-act blocks of the estimator.
            Defaults to 1.
        calib_channels (int): width of the self-calibration module.
            Defaults to 8.
        calib_blocks (int): blocks of the self-calibration module.
            Defaults to 1.
        calib_crop_size (int, optional): side of the random window the
            self-calibrated stages are trained on. None: the whole image.
            Defaults to 128.
        illumination_scale (int): L is estimated at ``1 / s`` of the input
            resolution and upsampled (see above); 1 estimates it per pixel.
            Defaults to 1.
        eps (float): lower bound of the illumination. Defaults to 1e-3.
        max_reflectance (float): upper bound of ``R = I / L``. 1 is the
            Retinex range, but where the exposure term brightens a dark
            image, lit areas then clip; a larger bound keeps their contrast
            for the detector. Defaults to 1.
        fidelity_weight (float): weight of ``loss_fidelity``. Defaults to 1.
        smooth_weight (float): weight of ``loss_smooth``. Defaults to 1.
        exposure_weight (float): weight of ``loss_exposure``.
            Defaults to 0.5.
        smooth_radius (int): neighbourhood radius of the smoothness term.
            Defaults to 1 (a 3x3 window; SCI uses 5x5).
        smooth_sigma (float): colour bandwidth of the edge weights.
            Defaults to 0.1.
        exposure_level (float): target local brightness ``E``.
            Defaults to 0.6.
        exposure_patch (int): patch size of the exposure term.
            Defaults to 16.
        zero_init_estimator (bool): initialise the estimator's last
            convolution to zero, so that training starts from ``L = p(I)``
            (``up(q)`` with ``illumination_scale > 1``) whatever the random
            state. Defaults to False.
        norm_cfg (dict): norm layer of the blocks. Defaults to BN.
        act_cfg (dict): activation. Defaults to ReLU.
        init_cfg (dict or list[dict], optional): e.g.
            ``dict(type='Pretrained', checkpoint=PATH, prefix='enhancer.')``.
    """

    def __init__(self,
                 illumination_channels: int = 1,
                 num_stages: int = 2,
                 feat_channels: int = 3,
                 num_blocks: int = 1,
                 calib_channels: int = 8,
                 calib_blocks: int = 1,
                 calib_crop_size: Optional[int] = 128,
                 illumination_scale: int = 1,
                 eps: float = 1e-3,
                 max_reflectance: float = 1.0,
                 fidelity_weight: float = 1.0,
                 smooth_weight: float = 1.0,
                 exposure_weight: float = 0.5,
                 smooth_radius: int = 1,
                 smooth_sigma: float = 0.1,
                 exposure_level: float = 0.6,
                 exposure_patch: int = 16,
                 zero_init_estimator: bool = False,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(illumination_channels, eps, init_cfg)
        if num_stages < 1:
            raise ValueError(f'num_stages must be >= 1, got {num_stages}')
        if smooth_radius < 1:
            raise ValueError(
                f'smooth_radius must be >= 1, got {smooth_radius}')
        if illumination_scale < 1:
            raise ValueError('illumination_scale must be >= 1, got '
                             f'{illumination_scale}')
        if max_reflectance <= 0:
            raise ValueError(
                f'max_reflectance must be > 0, got {max_reflectance}')
        self.num_stages = num_stages
        self.illumination_scale = illumination_scale
        self.max_reflectance = max_reflectance
        self.calib_crop_size = calib_crop_size
        self.fidelity_weight = fidelity_weight
        self.smooth_weight = smooth_weight
        self.exposure_weight = exposure_weight
        self.smooth_sigma = smooth_sigma
        self.exposure_level = exposure_level
        self.exposure_patch = exposure_patch
        self.smooth_offsets = self._half_window(smooth_radius)
        self.estimator = _conv_stack(illumination_channels,
                                     illumination_channels, feat_channels,
                                     num_blocks, norm_cfg, act_cfg)
        self.zero_init_estimator = zero_init_estimator
        self._zero_estimator_output()
        # Used only by the training losses (stages after the first).
        self.calibrator = (
            _conv_stack(3, 3, calib_channels, calib_blocks, norm_cfg, act_cfg)
            if num_stages > 1 else None)

    def _zero_estimator_output(self) -> None:
        if self.zero_init_estimator:
            last = self.estimator[-1].conv
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def init_weights(self) -> None:
        """Run ``init_cfg``, then zero the estimator's output again (with
        ``zero_init_estimator``: the children's own init redraws it) unless
        ``init_cfg`` loaded trained weights (``'Pretrained'``)."""
        super().init_weights()
        cfgs = self.init_cfg if isinstance(self.init_cfg,
                                           list) else [self.init_cfg]
        if not any(
                cfg and cfg.get('type') == 'Pretrained'
                and cfg.get('checkpoint') for cfg in cfgs):
            self._zero_estimator_output()

    @staticmethod
    def _half_window(radius: int) -> List[Tuple[int, int]]:
        """Offsets (dy, dx) of half a (2r+1)^2 window: each pair once."""
        return [(dy, dx) for dy in range(0, radius + 1)
                for dx in range(-radius, radius + 1) if dy > 0 or dx > 0]

    def _upsample(self, coarse: Tensor, size: Tuple[int, int]) -> Tensor:
        return F.interpolate(
            coarse, size=size, mode='bilinear', align_corners=False)

    def _prior(self, stage_input: Tensor) -> Tensor:
        """The initial estimate ``p`` (per pixel) or ``up(q)`` (coarse) that
        the estimator refines and the fidelity term pulls L to:
        (N, C_L, H, W)."""
        prior = self.to_illumination_channels(stage_input)
        scale = self.illumination_scale
        if scale == 1:
            return prior
        return self._upsample(
            F.max_pool2d(prior, scale, ceil_mode=True), prior.shape[-2:])

    def _illumination(self, stage_input: Tensor) -> Tensor:
        """One stage of the weight-shared estimator: (N, C_L, H, W)."""
        prior = self.to_illumination_channels(stage_input)
        scale = self.illumination_scale
        if scale == 1:
            return (prior + self.estimator(prior)).clamp(self.eps, 1.0)
        coarse = F.max_pool2d(prior, scale, ceil_mode=True)
        coarse = coarse + self.estimator(coarse)
        return self._upsample(coarse, prior.shape[-2:]).clamp(self.eps, 1.0)

    def _reflectance(self, img: Tensor, illumination: Tensor) -> Tensor:
        return (img / illumination).clamp(0.0, self.max_reflectance)

    def decompose(self, img: Tensor) -> Decomposition:
        """See :meth:`BaseDecomposer.decompose`."""
        illumination = self._illumination(img)
        return Decomposition(
            self._reflectance(img, illumination), illumination)

    def compute_loss(self, img: Tensor,
                     decomposition: Decomposition) -> Dict[str, Tensor]:
        """Fidelity, smoothness and exposure losses over all stages.

        Stage 0 is the given decomposition (its input is ``img``); each later
        stage's input comes from the self-calibration module. The later
        stages run on one random ``calib_crop_size`` window of the batch
        (SCI trains on patches too): same scale, a fraction of the cost.

        Args:
            img (Tensor): (N, 3, H, W) RGB in [0, 1].
            decomposition (Decomposition): output of :meth:`decompose`.

        Returns:
            dict[str, Tensor]: ``loss_fidelity``, ``loss_smooth`` and
            ``loss_exposure`` (terms with weight 0 are left out).
        """
        # (image, stage input, stage illumination) of every stage
        stages = [(img, img, decomposition.illumination)]
        if self.num_stages > 1:
            window, illumination = self._calibration_window(
                img, decomposition.illumination)
            for _ in range(1, self.num_stages):
                calibration = self.calibrator(
                    self._reflectance(window, illumination))
                stage_input = (window + calibration).clamp(0.0, 1.0)
                illumination = self._illumination(stage_input)
                stages.append((window, stage_input, illumination))
        losses = {}
        if self.fidelity_weight:
            fidelity = sum(((ill - self._prior(inp))**2).mean()
                           for _, inp, ill in stages)
            losses['loss_fidelity'] = (
                self.fidelity_weight * fidelity / self.num_stages)
        if self.smooth_weight:
            edge_weights = {}
            smooth = 0
            for image, _, ill in stages:
                if id(image) not in edge_weights:
                    edge_weights[id(image)] = self._edge_weights(image)
                smooth = smooth + self._smoothness(ill,
                                                   edge_weights[id(image)])
            losses['loss_smooth'] = (
                self.smooth_weight * smooth / self.num_stages)
        if self.exposure_weight:
            losses['loss_exposure'] = self.exposure_weight * exposure_loss(
                decomposition.reflectance, self.exposure_level,
                self.exposure_patch)
        return losses

    def _calibration_window(self, img: Tensor,
                            illumination: Tensor) -> Tuple[Tensor, Tensor]:
        """A random ``calib_crop_size`` window of the image and of L."""
        size = self.calib_crop_size
        h, w = img.shape[-2:]
        if size is None or (h <= size and w <= size):
            return img, illumination
        top = int(torch.randint(0, max(h - size, 0) + 1, ()))
        left = int(torch.randint(0, max(w - size, 0) + 1, ()))
        window = (..., slice(top, top + size), slice(left, left + size))
        return img[window], illumination[window]

    def _shifted_pairs(self, x: Tensor, dy: int,
                       dx: int) -> Tuple[Tensor, Tensor]:
        """Pixels ``x_i`` and their neighbours ``x_{i + (dy, dx)}``."""
        h, w = x.shape[-2:]
        x0, x1 = max(0, -dx), w - max(0, dx)
        return (x[..., 0:h - dy, x0:x1], x[..., dy:h, x0 + dx:x1 + dx])

    def _edge_weights(self, img: Tensor) -> List[Tensor]:
        """Edge-aware weights w_ij, one (N, 1, h', w') map per offset."""
        yuv = _rgb_to_yuv(img)
        weights = []
        for dy, dx in self.smooth_offsets:
            a, b = self._shifted_pairs(yuv, dy, dx)
            dist = ((a - b)**2).sum(dim=1, keepdim=True)
            weights.append(torch.exp(-dist / (2 * self.smooth_sigma**2)))
        return weights

    def _smoothness(self, illumination: Tensor,
                    edge_weights: List[Tensor]) -> Tensor:
        """Mean over pixels of sum_j w_ij |L_i - L_j| (each pair once)."""
        total = illumination.new_zeros(())
        for (dy, dx), weight in zip(self.smooth_offsets, edge_weights):
            a, b = self._shifted_pairs(illumination, dy, dx)
            total = total + (weight * (a - b).abs()).mean()
        return total
