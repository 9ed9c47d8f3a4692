"""IlluminationGuidedBackbone: the illumination map as a detection cue.

T2 feeds the illumination removed by the decomposition back into the
detector ("trash to treasure"). The layer-level design here is ours: a light
encoder turns the illumination ``L`` into one guidance map per returned
backbone stage, and the guidance modulates that stage's output.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

GUIDANCE_MODES = ('film', 'gate', 'none')


@MODELS.register_module()
class IlluminationGuidedBackbone(BaseModule):
    """Wraps any registered backbone and modulates its outputs by ``L``.

    ``forward(x, illumination)`` runs the wrapped backbone on ``x`` and, for
    every returned stage ``i`` with features ``f_i`` (N, C_i, h_i, w_i):

    * ``g_i = encoder(area_resize(L, (h_i, w_i)))``: a shared 3x3
      conv-norm-act on the illumination resized (area averaging) to the
      stage's size, giving ``guide_channels`` channels;
    * ``'film'``: ``f_i * (1 + gamma_i) + beta_i``, with
      ``(gamma_i, beta_i) = head_i(g_i)`` (feature-wise linear modulation);
    * ``'gate'``: ``f_i * 2 sigmoid(head_i(g_i))``, a one-channel spatial
      gate in (0, 2);
    * ``'none'``: ``f_i`` unchanged (no encoder is built).

    The ``head_i`` are 1x1 convolutions initialised to zero, so at
    initialisation the outputs equal the wrapped backbone's exactly and
    pretrained detector weights keep working at step 0.

    How ``L`` reaches the backbone: the caller passes it as the second
    argument of :meth:`forward` (``LowLightDetector`` does). With
    ``illumination=None`` the wrapped backbone's outputs are returned
    unmodulated; ``LowLightDetector`` does this in its ``'preprocess'`` and
    ``'none'`` modes.

    Args:
        backbone (dict): config of any registered backbone returning a tuple
            of feature maps (e.g. ``ResNet`` with DCNv2, ``Darknet``,
            ``MobileNetV2``, ``CSPNeXt``).
        feat_channels (Sequence[int], optional): channels of each returned
            stage. None: found by running the backbone once on a
            (1, 3, 64, 64) zero image at construction.
        mode (str): ``'film'``, ``'gate'`` or ``'none'``. Defaults to
            ``'film'``.
        illumination_channels (int): channels of ``L`` (1 or 3).
            Defaults to 1.
        guide_channels (int): channels of the encoded guidance.
            Defaults to 16.
        norm_cfg (dict): norm of the encoder. Defaults to BN.
        act_cfg (dict): activation of the encoder. Defaults to ReLU.
        init_cfg (dict or list[dict], optional): initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 feat_channels: Optional[Sequence[int]] = None,
                 mode: str = 'film',
                 illumination_channels: int = 1,
                 guide_channels: int = 16,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in GUIDANCE_MODES:
            raise ValueError(f'mode must be one of {GUIDANCE_MODES}, '
                             f'got {mode!r}')
        self.mode = mode
        self.backbone = MODELS.build(backbone)
        if feat_channels is None:
            feat_channels = self._probe_channels()
        self.feat_channels = list(feat_channels)
        if mode == 'none':
            self.encoder = None
            self.heads = None
            return
        self.encoder = ConvModule(
            illumination_channels,
            guide_channels,
            3,
            padding=1,
            padding_mode='replicate',
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        per_stage = (lambda c: 2 * c) if mode == 'film' else (lambda c: 1)
        self.heads = nn.ModuleList([
            nn.Conv2d(guide_channels, per_stage(c), 1)
            for c in self.feat_channels
        ])
        self._zero_heads()

    def _probe_channels(self) -> List[int]:
        """Channels of each stage, from one forward pass on a zero image."""
        was_training = self.backbone.training
        self.backbone.eval()
        with torch.no_grad():
            outs = self.backbone(torch.zeros(1, 3, 64, 64))
        self.backbone.train(was_training)
        return [out.shape[1] for out in outs]

    def _zero_heads(self) -> None:
        for head in self.heads:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def init_weights(self) -> None:
        """Initialise the wrapped backbone, then zero the guidance heads.

        The heads are zeroed after any ``init_cfg`` has run (an outer
        detector's ``Normal``/``Kaiming`` init would otherwise break the
        identity at initialisation).
        """
        super().init_weights()
        if self.heads is not None:
            self._zero_heads()

    def forward(self,
                x: Tensor,
                illumination: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        """Backbone features modulated by the illumination.

        Args:
            x (Tensor): (N, 3, H, W) normalised input of the backbone.
            illumination (Tensor, optional): (N, C_L, H, W) illumination in
                (0, 1]. None: no modulation.

        Returns:
            tuple[Tensor]: the wrapped backbone's outputs, same shapes.
        """
        feats = self.backbone(x)
        if self.mode == 'none' or illumination is None:
            return tuple(feats)
        if len(feats) != len(self.heads):
            raise ValueError(f'the backbone returned {len(feats)} stages, '
                             f'feat_channels has {len(self.heads)}')
        outs = []
        for feat, head in zip(feats, self.heads):
            guide = head(
                self.encoder(
                    F.adaptive_avg_pool2d(illumination, feat.shape[-2:])))
            if self.mode == 'film':
                gamma, beta = guide.chunk(2, dim=1)
                outs.append(feat * (1 + gamma) + beta)
            else:
                outs.append(feat * 2 * torch.sigmoid(guide))
        return tuple(outs)
