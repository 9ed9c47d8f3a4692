"""Measure video inference throughput, in one run on one video and model:
the model alone, ``tools/infer_video.py``'s inferencer (detections only and
with ``--save-video``) and mmdet's own per-frame video loop. What is timed:
:mod:`lowlight.analysis.video_throughput`.

Example::

    python tools/analysis_tools/video_throughput.py CONFIG [CHECKPOINT] \\
        --video data/throughput.mp4 --generate --out work_dirs/throughput.json

With ``--repeat R`` all measurements run R times in turn and the best round
of each is reported (on a machine shared with other jobs).
"""
import argparse
import sys

import lowlight  # noqa: F401  (registers the lowlight modules)
from lowlight.analysis.backend_benchmark import check_backends
from lowlight.analysis.video_throughput import (generate_clip, report,
                                                video_throughput)
from lowlight.engine import exit_on_checkpoint_error


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Video throughput')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--video', required=True, help='video to measure on')
    parser.add_argument(
        '--generate',
        action='store_true',
        help='first write a synthetic clip (moving shapes) to --video')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=[768, 576],
        help='width and height of the generated clip')
    parser.add_argument(
        '--seconds', type=float, default=10.0, help='generated clip length')
    parser.add_argument(
        '--fps', type=float, default=25.0, help='generated clip frame rate')
    parser.add_argument(
        '--frames',
        type=int,
        default=None,
        help='measure on the first N frames only')
    parser.add_argument(
        '--batch-sizes',
        type=int,
        nargs='+',
        default=[1, 2, 4, 8],
        help='batch sizes tried for the model alone')
    parser.add_argument(
        '--repeat',
        type=int,
        default=1,
        help='rounds of all measurements; the best of each is reported')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch intra-op threads (default: torch\'s choice)')
    parser.add_argument(
        '--backends',
        '--backend',
        nargs='+',
        default=['pytorch'],
        help='pytorch and/or onnxruntime (exported to a temporary file); '
        'mmdet\'s loop always runs PyTorch (default: pytorch)')
    parser.add_argument(
        '--backend-threads',
        type=int,
        default=2,
        help='ONNX Runtime intra-op threads (default: 2)')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='add one run of the tool (--save-video) per backend split '
        'into decode, preprocess, model, JSON, draw, encode and waits')
    parser.add_argument(
        '--rss-frames',
        type=int,
        default=None,
        metavar='N',
        help='add the peak RSS of the tool (--save-video) on N and 10 N '
        'frames of a generated clip')
    parser.add_argument(
        '--streams',
        type=int,
        default=1,
        help='batches the tool predicts side by side (infer_video.py '
        '--streams); above 1 the model alone is measured in as many '
        'streams too')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the results as JSON here')
    args = parser.parse_args(argv)
    error = check_backends(args.backends)
    if error:
        parser.error(error)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.generate:
        generate_clip(args.video, args.size, args.seconds, args.fps)
    with exit_on_checkpoint_error():
        results = video_throughput(args.config, args.checkpoint, args.video,
                                   args.frames, args.batch_sizes, args.repeat,
                                   args.threads, args.score_thr, args.device,
                                   args.backends, args.backend_threads,
                                   args.profile, args.rss_frames,
                                   args.streams)
    report(results, args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
