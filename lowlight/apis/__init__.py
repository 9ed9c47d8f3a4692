"""lowlight.apis: building detectors from checkpoints, inference over videos
and image sequences (:mod:`lowlight.apis.video`)."""
from ..visualization import draw_detections
from .inference import init_low_light_detector
from .video import (FrameReadError, FrameResult, ImageSequenceSource,
                    RunManifest, VideoFileSource, VideoInferencer, VideoInput,
                    VideoOutputs, collect_inputs, infer_videos, open_source,
                    parse_shard, read_status, select_shard, to_bgr)

__all__ = [
    'FrameReadError', 'FrameResult', 'ImageSequenceSource', 'RunManifest',
    'VideoFileSource', 'VideoInferencer', 'VideoInput', 'VideoOutputs',
    'collect_inputs', 'draw_detections', 'infer_videos',
    'init_low_light_detector', 'open_source', 'parse_shard', 'read_status',
    'select_shard', 'to_bgr'
]
