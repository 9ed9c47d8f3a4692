"""lowlight.deployment: the detector exported to ONNX and run by ONNX
Runtime behind mmdet's detector interface."""
from .export import DEFAULT_OPSET, ExportError, RawOutputs, export_onnx
from .metadata import ExportMetadata, ModelFileError, model_fingerprint
from .onnxruntime_detector import (BACKENDS, OnnxRuntimeDetector,
                                   backend_model_cfg, check_backend_file)

__all__ = [
    'BACKENDS', 'DEFAULT_OPSET', 'ExportError', 'ExportMetadata',
    'ModelFileError', 'OnnxRuntimeDetector', 'RawOutputs', 'backend_model_cfg',
    'check_backend_file', 'export_onnx', 'model_fingerprint'
]
