"""How much a learnt illumination L looks like the real one.

A Retinex decomposition I = R * L is only defined up to a global scale, so
L is compared with the renderer's true illumination L* in the log domain
with the scale taken out:

- ``log_corr``: Pearson correlation of log L and log L* over the pixels
  (1 = L follows the light exactly, 0 = unrelated, < 0 = inverted, e.g.
  an object mask that is low where the objects are);
- ``si_log_error``: the scale-invariant log error of Eigen et al. (NeurIPS
  2014), ``sqrt(mean(d ** 2) - mean(d) ** 2)`` with ``d = log L - log L*``
  (0 = equal up to scale);
- ``smoothness``: the gradient energy of L relative to that of the input,
  each normalised by its squared mean so that brightness does not count:
  ``E(L) / E(I)`` with ``E(x) = mean(|grad x| ** 2) / mean(x) ** 2``
  (0 = flat L, 1 = as busy as the image, > 1 = an edge map);
- ``true_smoothness``: the same measure for L*, the value a faithful L
  would reach.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor

#: floor of L and L* before the logarithm (illumination is in [0, inf))
LOG_FLOOR = 1e-3
SCORE_NAMES = ('log_corr', 'si_log_error', 'smoothness', 'true_smoothness')


def _gradient_energy(x: Tensor) -> Tensor:
    """``mean(|grad x| ** 2) / mean(x) ** 2`` of a (H, W) map."""
    dx = x[:, 1:] - x[:, :-1]
    dy = x[1:, :] - x[:-1, :]
    energy = dx.pow(2).mean() + dy.pow(2).mean()
    return energy / x.mean().clamp_min(LOG_FLOOR).pow(2)


def decomposition_score(illumination: Tensor, true_illumination: Tensor,
                        image: Tensor) -> Dict[str, float]:
    """Score one image's illumination against the truth.

    Args:
        illumination (Tensor): The learnt L, (C_L, H, W), C_L 1 or 3
            (channels are averaged).
        true_illumination (Tensor): The true illumination, (H', W'); it is
            resized to (H, W) (area interpolation) when the sizes differ.
        image (Tensor): The input I the decomposition was made of,
            (3, H, W), in [0, 1].

    Returns:
        dict: ``log_corr``, ``si_log_error``, ``smoothness`` and
        ``true_smoothness`` (see the module docstring), Python floats.
    """
    if illumination.dim() != 3 or image.dim() != 3:
        raise ValueError('illumination and image must be (C, H, W), got '
                         f'{tuple(illumination.shape)} and '
                         f'{tuple(image.shape)}')
    if illumination.shape[-2:] != image.shape[-2:]:
        raise ValueError('illumination and image sizes differ: '
                         f'{tuple(illumination.shape[-2:])} vs '
                         f'{tuple(image.shape[-2:])}')
    size = illumination.shape[-2:]
    pred = illumination.double().mean(0)
    truth = true_illumination.double().to(pred.device)
    if truth.shape != size:
        truth = F.interpolate(truth[None, None], size=size,
                              mode='area')[0, 0]
    log_pred = pred.clamp_min(LOG_FLOOR).log().flatten()
    log_true = truth.clamp_min(LOG_FLOOR).log().flatten()
    diff = log_pred - log_true
    si_error = (diff.pow(2).mean() - diff.mean().pow(2)).clamp_min(0).sqrt()
    centred_pred = log_pred - log_pred.mean()
    centred_true = log_true - log_true.mean()
    denom = centred_pred.norm() * centred_true.norm()
    corr = (centred_pred @ centred_true) / denom if denom > 0 else \
        torch.zeros((), dtype=torch.float64)
    grey = image.double().mean(0)
    image_energy = _gradient_energy(grey).clamp_min(1e-12)
    return dict(
        log_corr=float(corr),
        si_log_error=float(si_error),
        smoothness=float(_gradient_energy(pred) / image_energy),
        true_smoothness=float(_gradient_energy(truth) / image_energy))
