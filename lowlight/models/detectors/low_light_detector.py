"""LowLightDetector: T2's decomposition-and-aggregation around any detector.

The wrapper owns an enhancer and any mmdet detector (single- or two-stage).
It replaces feature extraction only:

    I in [0, 1] -> enhancer -> (R, L) -> normalise R -> backbone(R, L)
    -> neck(s) -> the inner detector's own loss / predict / _forward

The inner detector's ``extract_feat`` is replaced by a pass-through at
construction, so its ``loss``, ``predict`` and ``_forward`` receive the
features computed here as their ``batch_inputs`` and run their heads (RPN,
RoI head, dense head, ...) unchanged. No subclass per detector family.
"""
import copy
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.logging import print_log
from mmengine.structures import PixelData
from torch import Tensor

from ..backbones import IlluminationGuidedBackbone
from ..distillation import DayTeacherDistillation
from ..enhancers import Decomposition
from ..enhancers.base import valid_mask

MODES = ('joint', 'frozen', 'preprocess', 'none')
CORRECTIONS = ('full', 'learned')
IMAGENET_RGB_MEAN = (123.675, 116.28, 103.53)
IMAGENET_RGB_STD = (58.395, 57.12, 57.375)


def _features_passthrough(features: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
    """Stands in for the inner detector's ``extract_feat``."""
    return features


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; multiplies the gradient by ``scale`` backward."""

    @staticmethod
    def forward(ctx, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tuple[Tensor, None]:
        return grad * ctx.scale, None


def _attach_decomposition(samples: SampleList,
                          decomposition: Decomposition) -> None:
    """Store each image's (R, L), padding cut, as ``pred_decomposition``.

    Args:
        samples (list[DetDataSample]): N samples with ``img_shape``.
        decomposition (Decomposition): reflectance (N, 3, H, W) and
            illumination (N, C_L, H, W) of the padded batch.
    """
    for i, sample in enumerate(samples):
        height, width = sample.metainfo['img_shape'][:2]
        sample.pred_decomposition = PixelData(
            reflectance=decomposition.reflectance[i, :, :height, :width],
            illumination=decomposition.illumination[i, :, :height, :width])


class LearnedCorrection(nn.Module):
    """The detector's input ``I / L^a``, with one learnt exponent ``a``.

    ``a = 0`` (the initialisation) is the input image itself, so a T2 model
    built on a pretrained detector starts as that detector; ``a = 1`` is the
    reflectance ``R = I / L``. The detection loss sets ``a``, i.e. how much
    of the estimated lighting the detector wants removed; ``R`` and ``L``
    themselves stay the enhancer's.
    """

    def __init__(self) -> None:
        super().__init__()
        self.exponent = nn.Parameter(torch.zeros(()))

    def forward(self, img: Tensor, log_illumination: Tensor,
                max_value: float) -> Tensor:
        """(N, 3, H, W) image and (N, C_L, H, W) ``log L`` (L in (0, 1]) ->
        the corrected (N, 3, H, W) image, clipped to ``[0, max_value]``."""
        # exp(-a log L) is L^-a, computed faster than pow on CPU
        gain = torch.exp(log_illumination * -self.exponent)
        return (img * gain).clamp(0.0, max_value)


class ReflectanceSideInput(nn.Module):
    """``log R`` (and optionally ``log L``) added to the backbone's
    normalised input through a 1x1 convolution initialised to zero.

    The backbone keeps the image it was pretrained on and gets, beside it,
    the reflectance in the log domain (``log I - log L``: no clipping, the
    lighting divided out); at initialisation the sum is the input itself.
    With ``with_illumination``, ``log L`` is a further input channel of the
    projection: the illumination guides the backbone at its stem.

    Args:
        illumination_channels (int): channels of ``L`` read with
            ``with_illumination``. Defaults to 1.
        with_illumination (bool): also project ``log L``. Defaults to False.
        eps (float): lower bound of ``R`` before the log. Defaults to 1e-3.
    """

    def __init__(self,
                 illumination_channels: int = 1,
                 with_illumination: bool = False,
                 eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.with_illumination = with_illumination
        in_channels = 3 + (illumination_channels if with_illumination else 0)
        self.proj = nn.Conv2d(in_channels, 3, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self,
                x: Tensor,
                reflectance: Tensor,
                log_illumination: Optional[Tensor] = None) -> Tensor:
        """(N, 3, H, W) normalised input, reflectance and (N, C_L, H, W)
        ``log L`` -> the input plus the projected ``log(max(R, eps))`` (and
        ``log L``): (N, 3, H, W).

        The 1x1 convolution runs as one batched (3, C) x (C, H*W) product
        added to the input (``baddbmm``): the same numbers, without the
        overhead of a convolution with a handful of channels on CPU.
        """
        log_r = torch.log(reflectance.clamp(min=self.eps))
        if self.with_illumination:
            if log_illumination is None:
                raise ValueError('ReflectanceSideInput(with_illumination='
                                 'True) needs the illumination')
            log_r = torch.cat([log_r, log_illumination], dim=1)
        weight = self.proj.weight.flatten(1).expand(x.shape[0], -1, -1)
        out = torch.baddbmm(x.flatten(2), weight, log_r.flatten(2))
        return out.view_as(x) + self.proj.bias.view(1, 3, 1, 1)


@MODELS.register_module()
class LowLightDetector(BaseDetector):
    """Enhancer + (illumination-guided) detector, trained jointly.

    Modes (config only):

    * ``'joint'`` (T2): the enhancer is trained by the detection loss and by
      its own unsupervised losses; ``L`` guides an
      :class:`IlluminationGuidedBackbone`.
    * ``'frozen'``: as ``'joint'`` but the enhancer is fixed (no gradient,
      eval mode, no enhancer losses), e.g. a pretrained decomposer.
    * ``'preprocess'``: the frozen enhancer only produces ``R`` for the
      detector; ``L`` is not used (a guided backbone runs unmodulated). The
      "enhancer as pre-processing" baseline T2 argues against.
      An :class:`IlluminationGuidedBackbone` in the config is replaced by
      the backbone it wraps (here and in ``'none'``), so a T2 config
      becomes its baseline by changing ``mode`` only.
    * ``'none'``: no enhancer is built; the detector sees the input image
      through the same code path (the plain baseline).

    The data preprocessor must give RGB in [0, 1]
    (``DetDataPreprocessor(mean=[0, 0, 0], std=[255, 255, 255],
    bgr_to_rgb=True)``); the inner detector's own ``data_preprocessor`` is
    ignored. ``R`` (or the image, in ``'none'`` mode) is normalised as
    ``(255 * R - detector_mean) / detector_std`` and the padding is set to
    0 afterwards, exactly what a plain mmdet detector with
    ``DetDataPreprocessor(mean=detector_mean, std=detector_std)`` sees. Use
    ImageNet RGB statistics (the default) for ResNet-style backbones and
    ``mean=[0, 0, 0], std=[255, 255, 255]`` for DarkNet (mmdet's YOLOv3).

    Args:
        detector (dict): config of any mmdet detector (``YOLOV3``,
            ``RetinaNet``, ``FasterRCNN``, ``TOOD``, ...) whose
            ``extract_feat`` is backbone then optional neck. Its backbone may
            be an :class:`IlluminationGuidedBackbone`, its neck a list ending
            with an aggregation neck (``SemanticAggregationNeck``,
            ``GlobalAggregationNeck``).
        enhancer (dict, optional): config of a decomposer (e.g.
            ``RetinexDecomposer``). Required unless ``mode='none'``, where it
            is ignored.
        mode (str): one of ``'joint'``, ``'frozen'``, ``'preprocess'``,
            ``'none'``. Defaults to ``'joint'``.
        detector_mean (Sequence[float]): RGB mean (0-255 scale) of the
            backbone. Defaults to ImageNet.
        detector_std (Sequence[float]): RGB std (0-255 scale) of the
            backbone. Defaults to ImageNet.
        enhancer_loss_weight (float): factor on every enhancer loss (in
            ``'joint'`` mode); they are reported as ``enh_<name>``.
            Defaults to 1.0.
        detection_grad_scale (float): factor on the detection-loss gradient
            that reaches the enhancer (``'joint'`` mode; the forward pass is
            unchanged). 0 trains the enhancer by its own losses only while
            the detector still trains on its output. Defaults to 1.0.
        illumination_correction (str): what the backbone sees in
            ``'joint'`` and ``'frozen'`` modes: ``'full'``, the reflectance
            ``R = I / L``; ``'learned'``, ``I / L^a`` with ``a`` learnt from
            0 (:class:`LearnedCorrection`). Defaults to ``'full'``.
        reflectance_side_input (bool | dict): in ``'joint'`` and
            ``'frozen'`` modes, also give the backbone ``log R`` through a
            zero-initialised 1x1 convolution
            (:class:`ReflectanceSideInput`); a dict gives its arguments,
            e.g. ``dict(with_illumination=True)``. Defaults to False.
        distillation (dict, optional): arguments of
            :class:`DayTeacherDistillation`, a training-only loss
            ``loss_distill`` on synthetic night/day pairs of a normal-light
            corpus, taught by the frozen pretrained detector; None or an
            empty dict (what a config's ``dict(_delete_=True)`` leaves):
            none. Defaults to None.
        data_preprocessor (dict, optional): the outer data preprocessor.
        init_cfg (dict or list[dict], optional): initialisation config.
    """

    def __init__(self,
                 detector: ConfigType,
                 enhancer: OptConfigType = None,
                 mode: str = 'joint',
                 detector_mean: Sequence[float] = IMAGENET_RGB_MEAN,
                 detector_std: Sequence[float] = IMAGENET_RGB_STD,
                 enhancer_loss_weight: float = 1.0,
                 detection_grad_scale: float = 1.0,
                 illumination_correction: str = 'full',
                 reflectance_side_input: Union[bool, dict] = False,
                 distillation: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if mode != 'none' and enhancer is None:
            raise ValueError(f'mode={mode!r} needs an enhancer config; use '
                             "mode='none' for the plain detector")
        if illumination_correction not in CORRECTIONS:
            raise ValueError(f'illumination_correction must be one of '
                             f'{CORRECTIONS}, got {illumination_correction!r}')
        if len(detector_mean) != 3 or len(detector_std) != 3:
            raise ValueError('detector_mean and detector_std need 3 (RGB) '
                             'values each')
        self.mode = mode
        self.enhancer_loss_weight = enhancer_loss_weight
        self.detection_grad_scale = detection_grad_scale
        detector = copy.deepcopy(detector)
        if detector.pop('data_preprocessor', None) is not None:
            print_log(
                'LowLightDetector ignores the inner detector\'s '
                'data_preprocessor; images are normalised with '
                'detector_mean/detector_std',
                logger='current')
        self.detector = MODELS.build(detector)
        self.detector.extract_feat = _features_passthrough
        backbone = self.detector.backbone
        if mode in ('preprocess', 'none') and isinstance(
                backbone, IlluminationGuidedBackbone):
            # L is unused in these modes: keep the plain backbone only, so
            # baselines carry no idle parameters (DDP rejects those).
            self.detector.backbone = backbone.backbone
        self.enhancer = MODELS.build(enhancer) if mode != 'none' else None
        if mode in ('frozen', 'preprocess'):
            self.enhancer.requires_grad_(False)
        self.input_correction = (
            LearnedCorrection() if illumination_correction == 'learned'
            and mode in ('joint', 'frozen') else None)
        self.reflectance_input = None
        if reflectance_side_input and mode in ('joint', 'frozen'):
            side_input_args = (
                reflectance_side_input
                if isinstance(reflectance_side_input, dict) else {})
            self.reflectance_input = ReflectanceSideInput(
                self.enhancer.illumination_channels, **side_input_args)
        # a plain object, not a module: the teacher stays out of the state
        # dict, and nothing of it runs outside training
        self.distillation = (
            DayTeacherDistillation(**distillation) if distillation else None)
        self.register_buffer(
            'detector_mean',
            self._as_rgb_buffer(detector_mean),
            persistent=False)
        self.register_buffer(
            'detector_std',
            self._as_rgb_buffer(detector_std),
            persistent=False)

    @staticmethod
    def _as_rgb_buffer(values: Sequence[float]) -> Tensor:
        return torch.tensor(values, dtype=torch.float32).view(1, 3, 1, 1)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Also load checkpoints of the plain inner detector.

        Keys without a ``detector.`` or ``enhancer.`` prefix (a plain mmdet
        checkpoint, e.g. COCO YOLOv3 given as ``load_from``) are moved into
        the inner detector: ``backbone.*`` into the wrapped backbone of an
        :class:`IlluminationGuidedBackbone`, ``neck.*`` into the first neck
        of a neck list, the rest (heads) as they are. The T2 additions keep
        their initialisation, which is the identity.
        """
        self.map_plain_state_dict(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def map_plain_state_dict(self, state_dict: dict, prefix: str = '') -> dict:
        """Move a plain detector's keys to where they live in this model.

        Handles plain mmdet checkpoints (keys without a ``detector.``
        prefix) and checkpoints of a ``LowLightDetector`` in mode
        ``'none'`` (whose backbone is not wrapped) loaded into a guided one.

        Args:
            state_dict (dict): Modified in place.
            prefix (str): This module's prefix in ``state_dict``.

        Returns:
            dict: ``state_dict``.
        """
        own = ('detector.', 'enhancer.', 'input_correction.',
               'reflectance_input.', 'data_preprocessor.')
        for key in [k for k in state_dict if k.startswith(prefix)]:
            local = key[len(prefix):]
            if not local.startswith(own):
                local = f'detector.{local}'
            if local.startswith('detector.'):
                local = self._inner_key(local)
            if prefix + local != key:
                state_dict[prefix + local] = state_dict.pop(key)
        return state_dict

    def _inner_key(self, key: str) -> str:
        """Where a plain detector's ``detector.*`` key lives in this model.

        ``detector.backbone.X`` goes into the wrapped backbone of an
        :class:`IlluminationGuidedBackbone` (unless X is one of the wrapper's
        own modules), ``detector.neck.X`` into the first neck of a neck list
        (unless X is already a list index).
        """
        first, _, tail = key[len('detector.'):].partition('.')
        if first == 'backbone' and self.uses_guidance:
            guided = dict(self.detector.backbone.named_children())
            if tail.partition('.')[0] not in guided:
                return f'detector.backbone.backbone.{tail}'
        if first == 'neck' and isinstance(self.detector.neck, nn.Sequential):
            if not tail.partition('.')[0].isdigit():
                return f'detector.neck.0.{tail}'
        return key

    @property
    def uses_guidance(self) -> bool:
        """Whether ``L`` is passed to an illumination-guided backbone."""
        return isinstance(self.detector.backbone, IlluminationGuidedBackbone)

    def train(self, mode: bool = True) -> 'LowLightDetector':
        """Keep a frozen enhancer in eval mode (its norm statistics fixed)."""
        super().train(mode)
        if self.enhancer is not None and self.mode != 'joint':
            self.enhancer.eval()
        return self

    @staticmethod
    def _img_shapes(
        batch_data_samples: OptSampleList
    ) -> Optional[Sequence[Tuple[int, int]]]:
        if batch_data_samples is None:
            return None
        return [sample.metainfo['img_shape'] for sample in batch_data_samples]

    def decompose(self,
                  batch_inputs: Tensor,
                  batch_data_samples: OptSampleList = None) -> Decomposition:
        """Decomposition (R, L) of a batch, e.g. for visualisation.

        Args:
            batch_inputs (Tensor): (N, 3, H, W) RGB in [0, 1], as given by
                the data preprocessor.
            batch_data_samples (list[DetDataSample], optional): their
                ``img_shape`` keeps the padding out of the real image area.

        Returns:
            Decomposition: reflectance (N, 3, H, W), illumination
            (N, C_L, H, W).
        """
        if self.enhancer is None:
            raise RuntimeError("LowLightDetector in mode='none' has no "
                               'enhancer, so there is no decomposition')
        return self.enhancer(batch_inputs,
                             self._img_shapes(batch_data_samples))

    def _extract(
        self,
        batch_inputs: Tensor,
        batch_data_samples: OptSampleList = None
    ) -> Tuple[Tuple[Tensor, ...], Optional[Decomposition]]:
        """Features for the inner detector's heads, and the decomposition.

        Returns:
            tuple: the neck outputs (tuple of (N, C, h, w) maps) and the
            decomposition (None in ``'none'`` mode).
        """
        img_shapes = self._img_shapes(batch_data_samples)
        x, illumination, decomposition = self.backbone_input(
            batch_inputs, img_shapes)
        x = x * valid_mask(x, img_shapes)
        return self.features(x, illumination), decomposition

    def backbone_input(
        self,
        batch_inputs: Tensor,
        img_shapes: Optional[Sequence[Tuple[int, int]]] = None
    ) -> Tuple[Tensor, Optional[Tensor], Optional[Decomposition]]:
        """Enhancer, input correction and normalisation: what the backbone
        sees, before the padding is set to 0.

        Args:
            batch_inputs (Tensor): (N, 3, H, W) RGB in [0, 1].
            img_shapes (Sequence[tuple[int, int]], optional): (h, w) of
                each image of a padded batch.

        Returns:
            tuple: the normalised (N, 3, H, W) backbone input, the
            illumination (N, C_L, H, W) (1 on padding; None in ``'none'``
            mode) and the decomposition (None in ``'none'`` mode).
        """
        illumination = None
        if self.enhancer is None:
            decomposition = None
            image = batch_inputs
        elif self.mode == 'joint':
            decomposition = self.enhancer(batch_inputs, img_shapes)
            scaled = self.detection_grad_scale != 1 and torch.is_grad_enabled()
            image, illumination = (
                _ScaleGradient.apply(t, self.detection_grad_scale)
                if scaled else t for t in decomposition)
        else:
            with torch.no_grad():
                decomposition = self.enhancer(batch_inputs, img_shapes)
            image, illumination = decomposition
        reflectance = image
        # log L, computed once for the correction and the side input
        log_illumination = None
        if illumination is not None:
            log_illumination = torch.log(illumination)
        if self.input_correction is not None:
            image = self.input_correction(
                batch_inputs, log_illumination,
                getattr(self.enhancer, 'max_reflectance', 1.0))
        x = (image * 255 - self.detector_mean) / self.detector_std
        if self.reflectance_input is not None:
            x = self.reflectance_input(x, reflectance, log_illumination)
        return x, illumination, decomposition

    def features(self, x: Tensor,
                 illumination: Optional[Tensor]) -> Tuple[Tensor, ...]:
        """(Guided) backbone and neck(s) on a normalised (N, 3, H, W) input
        whose padding is 0, guided by (N, C_L, H, W) ``illumination``."""
        if self.uses_guidance:
            feats = self.detector.backbone(x, illumination)
        else:
            feats = self.detector.backbone(x)
        if self.detector.with_neck:
            feats = self.detector.neck(feats)
        return feats

    def extract_feat(
            self,
            batch_inputs: Tensor,
            batch_data_samples: OptSampleList = None) -> Tuple[Tensor, ...]:
        """Enhancer, normalisation, (guided) backbone and neck(s).

        Args:
            batch_inputs (Tensor): (N, 3, H, W) RGB in [0, 1].
            batch_data_samples (list[DetDataSample], optional): for the
                image shapes of a padded batch.

        Returns:
            tuple[Tensor]: multi-level features for the inner detector's
            head(s).
        """
        return self._extract(batch_inputs, batch_data_samples)[0]

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Union[dict, tuple]:
        """Detector losses plus (in ``'joint'`` mode) weighted enhancer losses
        named ``enh_<name>`` (and ``loss_distill`` with ``distillation``).

        Args:
            batch_inputs (Tensor): (N, 3, H, W) RGB in [0, 1].
            batch_data_samples (list[DetDataSample]): with ground truth.

        Returns:
            dict[str, Tensor]: all losses.
        """
        feats, decomposition = self._extract(batch_inputs, batch_data_samples)
        losses = self.detector.loss(feats, batch_data_samples)
        if self.mode == 'joint':
            enhancer_losses = self.enhancer.loss(
                batch_inputs, decomposition,
                self._img_shapes(batch_data_samples))
            for name, value in enhancer_losses.items():
                losses[f'enh_{name}'] = self.enhancer_loss_weight * value
        if self.distillation is not None:
            losses['loss_distill'] = self.distillation.loss(
                self, batch_inputs.device)
        return losses

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True,
                with_decomposition: bool = False) -> SampleList:
        """Detections, in original image coordinates if ``rescale``.

        Args:
            batch_inputs (Tensor): (N, 3, H, W) RGB in [0, 1].
            batch_data_samples (list[DetDataSample]): with metainfo.
            rescale (bool): map boxes back to the original image size.
            with_decomposition (bool): also attach the decomposition that
                fed the detector to each sample as ``pred_decomposition``
                (``PixelData``: ``reflectance`` (3, h, w) and
                ``illumination`` (C_L, h, w), at the network input size
                ``img_shape`` without the batch padding), so that it needs
                no second enhancer pass. Defaults to False.

        Returns:
            list[DetDataSample]: with ``pred_instances`` (and
            ``pred_decomposition`` if ``with_decomposition``).

        Raises:
            RuntimeError: If ``with_decomposition`` in ``'none'`` mode.
        """
        if with_decomposition and self.enhancer is None:
            raise RuntimeError("LowLightDetector in mode='none' has no "
                               'enhancer, so there is no decomposition')
        feats, decomposition = self._extract(batch_inputs, batch_data_samples)
        results = self.detector.predict(
            feats, batch_data_samples, rescale=rescale)
        if with_decomposition:
            _attach_decomposition(results, decomposition)
        return results

    def _forward(self,
                 batch_inputs: Tensor,
                 batch_data_samples: OptSampleList = None) -> tuple:
        """Raw head outputs, no post-processing."""
        feats = self.extract_feat(batch_inputs, batch_data_samples)
        return self.detector._forward(feats, batch_data_samples)
