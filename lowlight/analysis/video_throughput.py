"""Video inference throughput, in one run on one video and model
(``tools/analysis_tools/video_throughput.py``).

1. ``model``: the model alone (``model.test_step``) on preloaded,
   preprocessed batches, at each batch size; the best is kept;
2. ``tool``: :class:`lowlight.apis.VideoInferencer` (``tools/infer_video.py``)
   with detections only (JSON Lines), and ``tool_save_video`` with
   ``save_video``, both at the round's best batch size;
3. ``mmdet``: the way mmdet's own ``demo/video_demo.py`` does it: per frame
   ``inference_detector``, ``DetLocalVisualizer.add_datasample`` and a
   ``cv2.VideoWriter``.

Every measurement is one pass over the frames; the measurements run in
turn, once per round (:class:`lowlight.analysis.timing.InterleavedTimer`),
so that load from other processes hits all of them alike. Reported: each
one's best round (fps) and its least CPU time per frame (all threads of
this process).
"""
import json
import os
import platform
import sys
import tempfile
import time
from typing import Optional, Sequence

import cv2
import mmcv
import torch
from mmdet.apis import inference_detector
from mmdet.registry import VISUALIZERS
from mmengine.dataset import pseudo_collate

from lowlight.apis import VideoInferencer
from lowlight.testing import make_video, read_frames
from lowlight.utils import atomic_dump_json
from .timing import InterleavedTimer

MEASUREMENT_NAMES = dict(
    tool='(2) tool, detections only',
    tool_save_video='(2) tool, --save-video',
    mmdet='(3) mmdet loop + visualizer + writer')


def generate_clip(path: str, size: Sequence[int], seconds: float,
                  fps: float) -> None:
    """Write a clip of moving shapes on a dark, noisy background."""
    make_video(path, int(round(seconds * fps)), tuple(size), fps, night=True)


def model_step(model: torch.nn.Module, packed: list, batch_size: int):
    """Warm-up and timed pass of ``model.test_step`` over ``packed`` items
    in batches of ``batch_size``."""
    batches = [
        pseudo_collate(packed[i:i + batch_size])
        for i in range(0, len(packed), batch_size)
    ]

    def warm_up():
        with torch.no_grad():
            model.test_step(batches[0])

    def step():
        with torch.no_grad():
            for batch in batches:
                model.test_step(batch)
        return dict(images=len(packed))

    return warm_up, step


def tool_step(inferencer: VideoInferencer, video: str, frames: Optional[int],
              save_video: bool):
    """A whole :meth:`VideoInferencer.run` on ``video``."""

    def step():
        with tempfile.TemporaryDirectory() as out_dir:
            summary = inferencer.run([video],
                                     out_dir,
                                     save_video=save_video,
                                     max_frames=frames,
                                     progress=False)
        if summary['failed']:
            raise RuntimeError(f'the tool failed: {summary["failed"]}')
        return dict(images=summary['frames'])

    return step


def mmdet_loop_step(inferencer: VideoInferencer, video: str,
                    frames: Optional[int]):
    """Opening of the video, and a timed pass the way mmdet's video demo
    goes: inference_detector + DetLocalVisualizer + cv2.VideoWriter, one
    frame at a time."""
    model = inferencer.model
    visualizer_cfg = dict(
        model.cfg.get('visualizer', dict(type='DetLocalVisualizer')),
        name=f'video_throughput_{os.getpid()}_{time.time_ns()}')
    visualizer = VISUALIZERS.build(visualizer_cfg)
    visualizer.dataset_meta = model.dataset_meta
    opened = {}

    def open_video():
        opened['reader'] = mmcv.VideoReader(video)

    def step():
        reader = opened.pop('reader')
        infer_s = draw_s = 0.0
        count = 0
        with tempfile.TemporaryDirectory() as out_dir:
            writer = cv2.VideoWriter(
                os.path.join(out_dir, 'mmdet.mp4'),
                cv2.VideoWriter_fourcc(*'mp4v'), reader.fps,
                (reader.width, reader.height))
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
            images=count,
            infer_ms_per_frame=1000 * infer_s / count,
            draw_write_ms_per_frame=1000 * draw_s / count)

    return open_video, step


def measure(inferencer: VideoInferencer,
            video: str,
            packed: list,
            batch_sizes: Sequence[int] = (1, 2, 4, 8),
            frames: Optional[int] = None,
            repeat: int = 1) -> list:
    """Every measurement once per round, ``repeat`` rounds; the tool uses
    its round's best batch size of the model alone.

    Returns:
        list[dict]: per round, measurement name -> ``fps``,
        ``cpu_ms_per_frame`` (and the mmdet loop's split), plus
        ``tool_batch_size``.
    """
    steps, prepare = {}, {}
    for b in batch_sizes:
        prepare[f'model_b{b}'], steps[f'model_b{b}'] = model_step(
            inferencer.model, packed, b)
    steps['tool'] = tool_step(inferencer, video, frames, False)
    steps['tool_save_video'] = tool_step(inferencer, video, frames, True)
    prepare['mmdet'], steps['mmdet'] = mmdet_loop_step(inferencer, video,
                                                       frames)

    def round_best_batch():
        return max(
            batch_sizes,
            key=lambda b: timer.calls[f'model_b{b}'][-1].rates()['fps'])

    def use_round_best_batch():
        inferencer.batch_size = round_best_batch()

    prepare['tool'] = use_round_best_batch
    timer = InterleavedTimer(steps, prepare=prepare)
    rounds = []
    for index in range(repeat):
        calls = timer.run_round()
        rounds.append(
            dict({
                name: c[0].rates()
                for name, c in calls.items()
            },
                 tool_batch_size=round_best_batch()))
        print(f'round {index + 1}: {json.dumps(rounds[-1])}', flush=True)
    return rounds


def video_throughput(config: str,
                     checkpoint: Optional[str],
                     video: str,
                     frames: Optional[int] = None,
                     batch_sizes: Sequence[int] = (1, 2, 4, 8),
                     repeat: int = 1,
                     threads: Optional[int] = None,
                     score_thr: float = 0.3,
                     device: str = 'cpu') -> dict:
    """Measure on the first ``frames`` frames of ``video`` (all when None);
    return the results (every round, the best of each measurement and the
    ratios of the targets)."""
    if threads is not None:
        torch.set_num_threads(threads)
    images = read_frames(video, frames)
    if not images:
        raise RuntimeError(f'no frame could be read from {video}')
    inferencer = VideoInferencer(
        config, checkpoint, device=device, score_thr=score_thr)
    height, width = images[0].shape[:2]
    print(f'{len(images)} frames of {width}x{height} from {video}; '
          f'torch threads: {torch.get_num_threads()}')
    packed = [inferencer.preprocess(f, i) for i, f in enumerate(images)]
    del images
    rounds = measure(inferencer, video, packed, batch_sizes, frames, repeat)
    keys = [f'model_b{b}' for b in batch_sizes] + list(MEASUREMENT_NAMES)
    best = {
        key:
        dict(
            max((r[key] for r in rounds), key=lambda m: m['fps']),
            cpu_ms_per_frame=min(r[key]['cpu_ms_per_frame'] for r in rounds))
        for key in keys
    }
    best_batch = max(batch_sizes, key=lambda b: best[f'model_b{b}']['fps'])
    model = best[f'model_b{best_batch}']
    tool, tool_video, mmdet = (best['tool'], best['tool_save_video'],
                               best['mmdet'])
    return dict(
        command=' '.join([sys.executable] + sys.argv),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            load_average=os.getloadavg(),
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
            device=device),
        video=dict(path=video, width=width, height=height),
        frames=len(packed),
        repeat=repeat,
        rounds=rounds,
        best=best,
        model_fps_by_batch_size={
            b: best[f'model_b{b}']['fps']
            for b in batch_sizes
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


def report(results: dict, out: Optional[str] = None) -> None:
    """Print the table and the ratios; write the results as JSON to
    ``out`` when given."""
    batch_sizes = list(results['model_fps_by_batch_size'])
    names = {f'model_b{b}': f'(1) model alone, batch {b}' for b in batch_sizes}
    names.update(MEASUREMENT_NAMES)
    best, mmdet = results['best'], results['best']['mmdet']
    print('| measurement | fps | ms/frame | CPU ms/frame |')
    print('|---|---|---|---|')
    for key, name in names.items():
        fps, cpu = best[key]['fps'], best[key]['cpu_ms_per_frame']
        print(f'| {name} | {fps:.2f} | {1000 / fps:.1f} | {cpu:.1f} |')
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
    if out:
        atomic_dump_json(results, out, indent=1)
        print(f'results written to {out}')
