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
from lowlight.engine import exit_on_checkpoint_error
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


class _Clock:
    """Wall time and process CPU time (all threads) of a block."""

    def __enter__(self) -> '_Clock':
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rates(self, frames: int) -> dict:
        return dict(
            fps=frames / self.wall, cpu_ms_per_frame=1000 * self.cpu / frames)


def time_model(model: torch.nn.Module, packed: list, batch_size: int) -> dict:
    """``model.test_step`` on preprocessed batches: fps, CPU ms/frame."""
    batches = [
        pseudo_collate(packed[i:i + batch_size])
        for i in range(0, len(packed), batch_size)
    ]
    with torch.no_grad():
        model.test_step(batches[0])  # warm-up
        with _Clock() as clock:
            for batch in batches:
                model.test_step(batch)
    return clock.rates(len(packed))


def time_tool(inferencer: VideoInferencer, video: str, frames: int,
              save_video: bool) -> dict:
    """A whole :meth:`VideoInferencer.run`: fps, CPU ms/frame."""
    with tempfile.TemporaryDirectory() as out_dir:
        with _Clock() as clock:
            summary = inferencer.run([video],
                                     out_dir,
                                     save_video=save_video,
                                     max_frames=frames,
                                     progress=False)
    if summary['failed']:
        raise RuntimeError(f'the tool failed: {summary["failed"]}')
    return clock.rates(summary['frames'])


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
    with tempfile.TemporaryDirectory() as out_dir, _Clock() as clock:
        writer = cv2.VideoWriter(
            os.path.join(out_dir,
                         'mmdet.mp4'), cv2.VideoWriter_fourcc(*'mp4v'),
            reader.fps, (reader.width, reader.height))
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
        writer.release()
    return dict(
        clock.rates(count),
        infer_ms_per_frame=1000 * infer_s / count,
        draw_write_ms_per_frame=1000 * draw_s / count)


def measure_round(inferencer: VideoInferencer, packed: list, args) -> dict:
    """Every measurement once; the tool uses this round's best batch."""
    measured = {
        f'model_b{b}': time_model(inferencer.model, packed, b)
        for b in args.batch_sizes
    }
    best = max(args.batch_sizes, key=lambda b: measured[f'model_b{b}']['fps'])
    inferencer.batch_size = best
    measured['tool'] = time_tool(inferencer, args.video, args.frames, False)
    measured['tool_save_video'] = time_tool(inferencer, args.video,
                                            args.frames, True)
    measured['mmdet'] = time_mmdet_loop(inferencer, args.video, args.frames)
    return dict(measured, tool_batch_size=best)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.generate:
        generate_clip(args.video, args.size, args.seconds, args.fps)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    frames = read_frames(args.video, args.frames)
    with exit_on_checkpoint_error():
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

    # Every measurement once per round, in turn: load from other processes
    # then hits all of them alike. Reported: each one's best round (fps)
    # and its least CPU time per frame (all threads of this process).
    rounds = []
    for index in range(args.repeat):
        rounds.append(measure_round(inferencer, packed, args))
        print(f'round {index + 1}: {json.dumps(rounds[-1])}', flush=True)
    keys = [f'model_b{b}'
            for b in args.batch_sizes] + ['tool', 'tool_save_video', 'mmdet']
    best = {
        key:
        dict(
            max((r[key] for r in rounds), key=lambda m: m['fps']),
            cpu_ms_per_frame=min(r[key]['cpu_ms_per_frame'] for r in rounds))
        for key in keys
    }
    best_batch = max(
        args.batch_sizes, key=lambda b: best[f'model_b{b}']['fps'])
    model = best[f'model_b{best_batch}']
    tool, tool_video, mmdet = (best['tool'], best['tool_save_video'],
                               best['mmdet'])
    results = dict(
        command=' '.join([sys.executable] + sys.argv),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            load_average=os.getloadavg(),
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
            device=args.device),
        video=dict(path=args.video, width=width, height=height),
        frames=len(packed),
        repeat=args.repeat,
        rounds=rounds,
        best=best,
        model_fps_by_batch_size={
            b: best[f'model_b{b}']['fps']
            for b in args.batch_sizes
        },
        best_batch_size=best_batch,
        model_fps=model['fps'],
        tool_fps=tool['fps'],
        tool_save_video_fps=tool_video['fps'],
        mmdet_fps=mmdet['fps'],
        mmdet_infer_ms_per_frame=mmdet['infer_ms_per_frame'],
        mmdet_draw_write_ms_per_frame=mmdet['draw_write_ms_per_frame'],
        ratio_tool_to_model=tool['fps'] / model['fps'],
        ratio_tool_video_to_model=tool_video['fps'] / model['fps'],
        ratio_tool_video_to_mmdet=tool_video['fps'] / mmdet['fps'],
        cpu_ratio_model_to_tool=model['cpu_ms_per_frame'] /
        tool['cpu_ms_per_frame'],
        cpu_ratio_mmdet_to_tool_video=mmdet['cpu_ms_per_frame'] /
        tool_video['cpu_ms_per_frame'])

    names = {
        f'model_b{b}': f'(1) model alone, batch {b}'
        for b in args.batch_sizes
    }
    names.update(
        tool='(2) tool, detections only',
        tool_save_video='(2) tool, --save-video',
        mmdet='(3) mmdet loop + visualizer + writer')
    print('| measurement | fps | ms/frame | CPU ms/frame |')
    print('|---|---|---|---|')
    for key in keys:
        fps, cpu = best[key]['fps'], best[key]['cpu_ms_per_frame']
        print(f'| {names[key]} | {fps:.2f} | {1000 / fps:.1f} | {cpu:.1f} |')
    print(f"mmdet loop: inference {mmdet['infer_ms_per_frame']:.1f} ms, "
          f"drawing + writing {mmdet['draw_write_ms_per_frame']:.1f} ms "
          'per frame')
    print(f"fps ratios: detections-only / model = "
          f"{results['ratio_tool_to_model']:.2f} (target >= 0.9); "
          f"save-video / mmdet = {results['ratio_tool_video_to_mmdet']:.2f} "
          f"(target >= 2); save-video / model = "
          f"{results['ratio_tool_video_to_model']:.2f}")
    print(f"CPU-time ratios: model / detections-only = "
          f"{results['cpu_ratio_model_to_tool']:.2f}; mmdet / save-video = "
          f"{results['cpu_ratio_mmdet_to_tool_video']:.2f}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=1)
        print(f'results written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
