"""lowlight.apis.video: detection over videos and image sequences.

``sources`` (file types, frame readers), ``inputs`` (finding inputs,
shards), ``detector`` (test pipeline, batched predict), ``compute_gate``
(decoding off the model's thread team), ``pipeline`` (the
bounded three-stage pipeline), ``outputs`` (JSON Lines, videos),
``manifest`` (status files, run manifest), ``progress`` (the progress
callback), ``run`` (options, planning, resume, the stages) and
``inferencer`` (:class:`VideoInferencer`, :func:`infer_videos`).
"""
from .compute_gate import ComputeGate
from .detector import FrameDetector
from .inferencer import VideoInferencer, default_device, infer_videos
from .inputs import VideoInput, collect_inputs, parse_shard, select_shard
from .manifest import RunManifest, read_status
from .outputs import FrameResult, VideoOutputs
from .pipeline import BoundedPipeline, PipelineError
from .progress import ProgressCallback, RunProgress, TextProgress
from .run import RunOptions, VideoRun
from .sources import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, FrameReadError,
                      ImageSequenceSource, VideoFileSource, is_image_file,
                      is_video_file, open_source, to_bgr)

__all__ = [
    'BoundedPipeline', 'ComputeGate', 'FrameDetector', 'FrameReadError',
    'FrameResult',
    'IMAGE_EXTENSIONS', 'ImageSequenceSource', 'PipelineError',
    'ProgressCallback', 'RunManifest', 'RunOptions', 'RunProgress',
    'TextProgress', 'VIDEO_EXTENSIONS', 'VideoFileSource', 'VideoInferencer',
    'VideoInput', 'VideoOutputs', 'VideoRun', 'collect_inputs',
    'default_device', 'infer_videos', 'is_image_file', 'is_video_file',
    'open_source', 'parse_shard', 'read_status', 'select_shard', 'to_bgr'
]
