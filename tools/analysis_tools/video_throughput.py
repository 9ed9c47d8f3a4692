"""Measure video inference throughput, in one run on one video and model.

1. ``model``: the model alone (``model.test_step``) on preloaded,
   preprocessed batches, at each ``--batch-sizes``; the best is kept;
2. ``tool``: :class:`lowlight.apis.VideoInferencer` (``tools/infer_video.py``)
   with detections only (JSON Lines), and ``tool_video`` with
   ``--save-video``, both at the best batch size;
3. ``mmdet``: the way mmdet's own ``demo/video_demo.py`` does it: per frame
   ``inference_detector``, ``DetLocalVisualizer.add_datasample`` and a
   ``cv2.VideoWriter``.

Example::

    python tools/analysis_tools/video_throughput.py CONFIG [CHECKPOINT] \\
        --video data/throughput.mp4 --generate --out work_dirs/throughput.json

With ``--repeat R`` all measurements run R times in turn and the best round
of each is reported (on a machine shared with other jobs).
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import mmcv
import numpy as np
import torch
from mmengine.dataset import pseudo_collate

import lowlight  # noqa: F401  (registers the lowlight modules)
from lowlight.apis import VideoInferencer
from mmdet.apis import inference_detector
from mmdet.registry import VISUALIZERS


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
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args(argv)


def generate_clip(path: str, size, seconds: float, fps: float) -> None:
    """Write a clip of moving shapes on a dark, noisy background."""
    width, height = size
    rng = np.random.RandomState(0)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'cannot write {path}')
    shapes = [(rng.randint(0, width), rng.randint(0, height),
               rng.randint(20, 120), rng.randint(20, 120),
               tuple(int(c) for c in rng.randint(60, 255, 3)),
               rng.uniform(-8, 8), rng.uniform(-5, 5)) for _ in range(8)]
    for i in range(int(round(seconds * fps))):
        frame = rng.randint(0, 40, (height, width, 3)).astype(np.uint8)
        for x, y, w, h, color, vx, vy in shapes:
            cx, cy = int(x + vx * i) % width, int(y + vy * i) % height
            cv2.rectangle(frame, (cx, cy), (cx + w, cy + h), color, -1)
        writer.write(frame)
    writer.release()


def read_frames(path: str, limit) -> list:
    cap = cv2.VideoCapture(path)
    frames = []
    while limit is None or len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise RuntimeError(f'no frame could be read from {path}')
    return frames


def time_model(model: torch.nn.Module, packed: list, batch_size: int) -> float:
    """Frames per second of ``model.test_step`` on preprocessed batches."""
    batches = [
        pseudo_collate(packed[i:i + batch_size])
        for i in range(0, len(packed), batch_size)
    ]
    with torch.no_grad():
        model.test_step(batches[0])  # warm-up
        start = time.perf_counter()
        for batch in batches:
            model.test_step(batch)
        elapsed = time.perf_counter() - start
    return len(packed) / elapsed


def time_tool(inferencer: VideoInferencer, video: str, frames: int,
              save_video: bool) -> float:
    """Frames per second of a whole :meth:`VideoInferencer.run`."""
    with tempfile.TemporaryDirectory() as out_dir:
        start = time.perf_counter()
        summary = inferencer.run([video],
                                 out_dir,
                                 save_video=save_video,
                                 max_frames=frames,
                                 progress=False)
        elapsed = time.perf_counter() - start
    if summary['failed']:
        raise RuntimeError(f'the tool failed: {summary["failed"]}')
    return summary['frames'] / elapsed


def time_mmdet_loop(inferencer: VideoInferencer, video: str,
                    frames: int) -> dict:
    """mmdet's video demo: inference_detector + DetLocalVisualizer +
    cv2.VideoWriter, one frame at a time."""
    model = inferencer.model
    visualizer_cfg = dict(
        model.cfg.get('visualizer', dict(type='DetLocalVisualizer')),
        name=f'video_throughput_{os.getpid()}_{time.time_ns()}')
    visualizer = VISUALIZERS.build(visualizer_cfg)
    visualizer.dataset_meta = model.dataset_meta
    reader = mmcv.VideoReader(video)
    infer_s = draw_s = 0.0
    count = 0
    with tempfile.TemporaryDirectory() as out_dir:
        writer = cv2.VideoWriter(
            os.path.join(out_dir,
                         'mmdet.mp4'), cv2.VideoWriter_fourcc(*'mp4v'),
            reader.fps, (reader.width, reader.height))
        start = time.perf_counter()
        for frame in reader:
            if count == frames:
                break
            t0 = time.perf_counter()
            result = inference_detector(
                model, frame, test_pipeline=inferencer.pipeline)
            t1 = time.perf_counter()
            visualizer.add_datasample(
                name='video',
                image=frame,
                data_sample=result,
                draw_gt=False,
                show=False,
                pred_score_thr=inferencer.score_thr)
            writer.write(visualizer.get_image())
            draw_s += time.perf_counter() - t1
            infer_s += t1 - t0
            count += 1
        elapsed = time.perf_counter() - start
        writer.release()
    return dict(
        fps=count / elapsed,
        infer_ms_per_frame=1000 * infer_s / count,
        draw_write_ms_per_frame=1000 * draw_s / count)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.generate:
        generate_clip(args.video, args.size, args.seconds, args.fps)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    frames = read_frames(args.video, args.frames)
    inferencer = VideoInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        score_thr=args.score_thr)
    height, width = frames[0].shape[:2]
    print(f'{len(frames)} frames of {width}x{height} from {args.video}; '
          f'torch threads: {torch.get_num_threads()}')

    packed = [inferencer.preprocess(f, i) for i, f in enumerate(frames)]
    del frames
    # Every measurement once per round, in turn, keeping each one's best
    # round: load from other processes then hits all of them alike.
    rounds = []
    for index in range(args.repeat):
        by_batch = {
            b: time_model(inferencer.model, packed, b)
            for b in args.batch_sizes
        }
        inferencer.batch_size = max(by_batch, key=by_batch.get)
        rounds.append(
            dict(
                model_fps_by_batch_size=by_batch,
                tool_batch_size=inferencer.batch_size,
                tool_fps=time_tool(inferencer, args.video, args.frames, False),
                tool_save_video_fps=time_tool(inferencer, args.video,
                                              args.frames, True),
                mmdet=time_mmdet_loop(inferencer, args.video, args.frames)))
        print(f'round {index + 1}: {json.dumps(rounds[-1])}', flush=True)
    model_fps = {
        b: max(r['model_fps_by_batch_size'][b] for r in rounds)
        for b in args.batch_sizes
    }
    best = max(model_fps, key=model_fps.get)
    tool_fps = max(r['tool_fps'] for r in rounds)
    tool_video_fps = max(r['tool_save_video_fps'] for r in rounds)
    mmdet = max((r['mmdet'] for r in rounds), key=lambda m: m['fps'])

    results = dict(
        command=' '.join([sys.executable] + sys.argv),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
            device=args.device),
        video=dict(path=args.video, width=width, height=height),
        repeat=args.repeat,
        rounds=rounds,
        model_fps_by_batch_size=model_fps,
        best_batch_size=best,
        model_fps=model_fps[best],
        tool_fps=tool_fps,
        tool_save_video_fps=tool_video_fps,
        mmdet_fps=mmdet['fps'],
        mmdet_infer_ms_per_frame=mmdet['infer_ms_per_frame'],
        mmdet_draw_write_ms_per_frame=mmdet['draw_write_ms_per_frame'],
        ratio_tool_to_model=tool_fps / model_fps[best],
        ratio_tool_video_to_model=tool_video_fps / model_fps[best],
        ratio_tool_video_to_mmdet=tool_video_fps / mmdet['fps'])

    print('| measurement | fps | ms/frame |')
    print('|---|---|---|')
    for b, fps in model_fps.items():
        print(f'| (1) model alone, batch {b} | {fps:.2f} | {1000 / fps:.1f} |')
    for name, fps in (('(2) tool, detections only',
                       tool_fps), ('(2) tool, --save-video', tool_video_fps),
                      ('(3) mmdet loop + visualizer + writer', mmdet['fps'])):
        print(f'| {name} | {fps:.2f} | {1000 / fps:.1f} |')
    print(f"mmdet loop: inference {mmdet['infer_ms_per_frame']:.1f} ms, "
          f"drawing + writing {mmdet['draw_write_ms_per_frame']:.1f} ms "
          'per frame')
    print(f"ratios: detections-only / model = "
          f"{results['ratio_tool_to_model']:.2f} (target >= 0.9); "
          f"save-video / mmdet = {results['ratio_tool_video_to_mmdet']:.2f} "
          f"(target >= 2); save-video / model = "
          f"{results['ratio_tool_video_to_model']:.2f}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=1)
        print(f'results written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
