"""Non-reference loss terms shared by the enhancers."""
import torch.nn.functional as F
from torch import Tensor


def exposure_loss(img: Tensor, level: float, patch: int) -> Tensor:
    """Well-exposedness term of Zero-DCE (Guo et al., CVPR 2020).

    Args:
        img (Tensor): (N, 3, H, W) image in [0, 1].
        level (float): target mean brightness of each patch.
        patch (int): patch size (shrunk to the image size if larger).

    Returns:
        Tensor: scalar, mean of ``(avgpool(mean_c img) - level)^2``.
    """
    patch = min(patch, *img.shape[-2:])
    local = F.avg_pool2d(img.mean(dim=1, keepdim=True), patch)
    return ((local - level)**2).mean()
