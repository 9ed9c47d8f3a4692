"""A float16 copy of an exported model file, for GPU execution providers.

The mmdet detector's backbone, neck and head (weights and arithmetic) go to
float16 with ONNX Runtime's converter; the graph's input and outputs stay
float32, and so does the arithmetic of the enhancer, the input correction
and the side input of a ``LowLightDetector`` (logarithms, powers and
divisions of a dark image, whose small values float16 rounds badly; their
weights are stored in float16 and cast up), as PyTorch's autocast keeps
such operations in float32. It is meant for GPU providers.
"""
from dataclasses import replace

from ..utils.file_io import atomic_path
from .quantize import body_nodes, float32_metadata


def convert_to_float16(model_file: str, out_file: str):
    """Write a float16 copy of an exported float32 model file.

    Args:
        model_file (str): the float32 ``.onnx`` file of
            :func:`lowlight.deployment.export_onnx`.
        out_file (str): the float16 file; written under a temporary name
            and renamed.

    Returns:
        ExportMetadata: what the copy records (``precision='fp16'``).

    Raises:
        ModelFileError: a missing, truncated or foreign file.
        QuantizationError: the file is not float32, or has no module
            scopes.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    metadata = float32_metadata(model_file, 'convert')
    proto = onnx.load_model(model_file)
    body, _ = body_nodes(proto, with_outputs=True)
    body = set(body)
    kept = [node.name for node in proto.graph.node if node.name not in body]
    half = convert_float_to_float16(
        proto, keep_io_types=True, node_block_list=kept)
    result = replace(metadata, precision='fp16')
    result.write_to(half)
    with atomic_path(out_file, suffix='.onnx') as tmp:
        onnx.save_model(half, tmp)
    return result
