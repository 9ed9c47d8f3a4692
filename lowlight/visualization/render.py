"""Run a detector with a decomposition on a batch and draw one panel per
image. Shared by ``tools/analysis_tools/vis_decomposition.py`` and
:class:`DecompositionVisualizationHook`."""
from typing import List, Optional

import numpy as np
import torch
from torch import nn

from .panel import draw_decomposition_panel


def _to_hwc(tensor: torch.Tensor, height: int, width: int) -> np.ndarray:
    """(C, H', W') tensor -> (height, width, C) float array, padding cut."""
    return tensor[:, :height, :width].permute(1, 2, 0).float().cpu().numpy()


@torch.no_grad()
def render_decomposition_panels(model: nn.Module,
                                data_batch: dict,
                                dataset_meta: Optional[dict] = None,
                                score_thr: float = 0.3) -> List[np.ndarray]:
    """Predict a batch with its decomposition, and draw a panel per image.

    The model must be a detector whose data preprocessor yields RGB images
    in [0, 1] and whose ``predict(..., with_decomposition=True)`` attaches
    ``pred_decomposition`` (as ``LowLightDetector``, one enhancer pass). Panels are drawn at the network input size
    (the test pipeline's resize, without the batch padding); detections are
    mapped from original image coordinates to that size.

    Args:
        model (nn.Module): the detector, in eval mode.
        data_batch (dict): ``inputs`` (list of (3, H, W) uint8 tensors) and
            ``data_samples`` (list of DetDataSample), as a dataloader gives.
        dataset_meta (dict, optional): ``classes`` and ``palette`` for the
            labels; defaults to ``model.dataset_meta`` when present.
        score_thr (float): minimum score of a drawn detection.

    Returns:
        list[np.ndarray]: one (H + 24, 4 * W + 52, 3) uint8 RGB panel per
        image.
    """
    if not callable(getattr(model, 'decompose', None)):
        raise TypeError(f'{type(model).__name__} has no decompose() method; '
                        'decomposition panels need a LowLightDetector')
    meta = dataset_meta or getattr(model, 'dataset_meta', None) or {}
    data = model.data_preprocessor(data_batch, False)
    inputs, samples = data['inputs'], data['data_samples']
    results = model.predict(inputs, samples, with_decomposition=True)
    panels = []
    for i, result in enumerate(results):
        height, width = result.img_shape[:2]
        image = np.round(
            np.clip(_to_hwc(inputs[i], height, width), 0, 1) * 255)
        pred = result.pred_instances
        w_scale, h_scale = result.get('scale_factor', (1., 1.))
        bboxes = pred.bboxes.float().cpu().numpy() * np.array(
            [w_scale, h_scale, w_scale, h_scale], dtype=np.float32)
        maps = result.pred_decomposition
        panels.append(
            draw_decomposition_panel(
                image.astype(np.uint8),
                _to_hwc(maps.illumination, height, width),
                _to_hwc(maps.reflectance, height, width),
                bboxes,
                pred.labels.cpu().numpy(),
                pred.scores.float().cpu().numpy(),
                class_names=meta.get('classes'),
                palette=meta.get('palette'),
                score_thr=score_thr))
    return panels
