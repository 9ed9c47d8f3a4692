"""Parameters and FLOPs of a detector, counted by :mod:`mmengine.analysis`.

One fused multiply-add counts as one FLOP (as in mmengine/fvcore). FLOPs are
those of the tensor-mode forward (``model._forward``: enhancer, backbone,
neck and head, without post-processing) on one image after the data
preprocessor. mmcv's (modulated) deformable convolution, DCNv2, is counted
as the convolution it computes; its bilinear sampling is not. Operators the
analyser cannot count are reported, never silently dropped.
"""
from functools import partial
from typing import Any, Callable, Optional

import numpy as np
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape

from lowlight.testing import demo_batch

# jit node names under which mmcv's deformable convolutions appear in a
# traced graph, with the position of the weight among the op's inputs.
DCN_WEIGHT_INDEX = {
    'prim::PythonOp.ModulatedDeformConv2dFunction': 3,
    'prim::PythonOp.DeformConv2dFunction': 2,
}


def dcn_flop_handle(weight_index, inputs, outputs):
    """FLOPs of mmcv's (modulated) deformable conv: those of the convolution
    it computes (output elements x input channels per group x kernel area);
    the bilinear sampling at the offsets is not counted."""
    _, cin_per_group, kh, kw = get_shape(inputs[weight_index])
    return int(np.prod(get_shape(outputs[0]))) * cin_per_group * kh * kw


def make_flop_analyzer(model, inputs) -> FlopAnalyzer:
    """An mmengine :class:`FlopAnalyzer` for ``model(inputs)`` that also
    counts mmcv's deformable convolutions and stays quiet about uncounted
    operators (:meth:`FlopAnalyzer.unsupported_ops` lists them)."""
    analyzer = FlopAnalyzer(model, inputs)
    for op, weight_index in DCN_WEIGHT_INDEX.items():
        analyzer.set_op_handle(op, partial(dcn_flop_handle, weight_index))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer


def detector_flop_analyzer(model, height: int, width: int,
                           fn: Callable[[FlopAnalyzer], Any]) -> Any:
    """``fn(analyzer)`` for the analyser of a detector's tensor-mode forward
    on one seeded random ``height`` x ``width`` image; the model's
    ``forward`` is the class's again afterwards."""
    data = model.data_preprocessor(demo_batch(height, width, 1), False)
    # Trace the tensor-mode forward; the data samples carry the metainfo.
    model.forward = partial(model.forward, data_samples=data['data_samples'])
    try:
        return fn(make_flop_analyzer(model, data['inputs']))
    finally:
        del model.forward  # back to the class's forward


def num_params(module: Optional[nn.Module]) -> int:
    """Parameters of ``module``; 0 for None."""
    return parameter_count(module)[''] if module is not None else 0


def flops_by_module(model, height: int, width: int) -> dict:
    """FLOPs of a detector per module name ('' for the whole) for one
    ``height`` x ``width`` image."""
    return detector_flop_analyzer(model, height, width,
                                  lambda a: dict(a.by_module()))


def count_complexity(model,
                     height: int,
                     width: int,
                     skip_flops: bool = False) -> dict:
    """Parameters and FLOPs of a detector for one image.

    FLOPs are those of the tensor-mode forward (``model._forward``: enhancer,
    backbone, neck and head, without post-processing) on one image of
    ``height`` x ``width`` after the data preprocessor.

    Returns:
        dict: ``params`` (int), ``flops`` (int or None) and
        ``unsupported_ops`` (dict op name -> number of uncounted calls).
    """
    result = dict(params=num_params(model), flops=None, unsupported_ops={})
    if not skip_flops:
        result.update(
            detector_flop_analyzer(
                model, height, width, lambda a: dict(
                    flops=int(a.total()),
                    unsupported_ops=dict(a.unsupported_ops()))))
    return result
