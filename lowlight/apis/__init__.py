"""lowlight.apis: building detectors from checkpoints, inference over videos
and image sequences."""
from .frame_sources import (FrameReadError, ImageSequenceSource,
                            VideoFileSource, open_source, to_bgr)
from .inference import init_low_light_detector
from .video_inferencer import VideoInferencer, infer_videos
from .video_inputs import (VideoInput, collect_inputs, parse_shard,
                           select_shard)
from .video_manifest import RunManifest, read_status
from .video_outputs import FrameResult, VideoOutputs, draw_detections

__all__ = [
    'FrameReadError', 'FrameResult', 'ImageSequenceSource', 'RunManifest',
    'VideoFileSource', 'VideoInferencer', 'VideoInput', 'VideoOutputs',
    'collect_inputs', 'draw_detections', 'infer_videos',
    'init_low_light_detector', 'open_source', 'parse_shard', 'read_status',
    'select_shard', 'to_bgr'
]
