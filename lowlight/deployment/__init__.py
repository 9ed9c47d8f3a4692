"""lowlight.deployment: the detector exported to ONNX and run by ONNX
Runtime behind mmdet's detector interface."""
from .export import DEFAULT_OPSET, ExportError, RawOutputs, export_onnx
from .float16 import convert_to_float16
from .metadata import ExportMetadata, ModelFileError, model_fingerprint
from .onnxruntime_detector import (BACKENDS, OnnxRuntimeDetector,
                                   backend_model_cfg, check_backend_file,
                                   read_model_metadata)
from .quantize import CALIBRATION_METHODS, QuantizationError, quantize_onnx

__all__ = [
    'BACKENDS', 'CALIBRATION_METHODS', 'DEFAULT_OPSET', 'ExportError',
    'ExportMetadata', 'ModelFileError', 'OnnxRuntimeDetector',
    'QuantizationError', 'RawOutputs', 'backend_model_cfg',
    'check_backend_file', 'convert_to_float16', 'export_onnx',
    'model_fingerprint', 'quantize_onnx', 'read_model_metadata'
]
