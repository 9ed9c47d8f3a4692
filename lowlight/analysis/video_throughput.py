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

With several backends (``'pytorch'``, ``'onnxruntime'``: the config
exported to a temporary ONNX file), (1) and (2) run for each of them; (3)
always runs the PyTorch model (mmdet's loop has no other backend).
With ``streams`` N > 1, the tool predicts N batches side by side
(``VideoInferencer(streams=N)``, torch or ONNX Runtime threads / N each),
and the model alone is measured that way too (``model_b<B>_streams``: N
threads, each a share of the batches), beside the one-stream model alone
that stays the reference of ``ratio_tool_to_model``.
Optionally, one run of the one-stream tool per backend split into its
stages and the peak RSS (of the tool as measured) on a ten times longer
clip (:mod:`lowlight.analysis.
video_profile`).

Every measurement is one pass over the frames; the measurements run in
turn, once per round (:class:`lowlight.analysis.timing.InterleavedTimer`),
so that load from other processes hits all of them alike. Reported: each
one's best round (fps) and its least CPU time per frame (all threads of
this process), and the detections-only / model ratio within each round
(the two measured minutes apart at most, so drift of the machine between
rounds cancels) with its median. And what the CPU allows: the tool does the
model's work plus decoding and the test pipeline, so on ``C`` cores its
wall time per frame is at least its CPU time per frame over ``C``, and the
detections-only / model ratio cannot exceed ``C * model ms/frame / tool
CPU ms/frame`` (within each round, with its median:
``ratio_tool_to_model_cpu_bound_median``): a target above it needs less
CPU time per frame (cheaper decoding, threads that spin less while they
wait: spinning counts as CPU time), not better overlap of decoding and the
model.
"""
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from typing import Dict, Optional, Sequence

import cv2
import mmcv
import torch
from mmdet.apis import inference_detector
from mmdet.registry import VISUALIZERS
from mmengine.dataset import pseudo_collate

from lowlight.apis import VideoInferencer
from lowlight.apis.video.detector import torch_threads
from lowlight.testing import make_video, read_frames
from lowlight.utils import atomic_dump_json
from .backend_benchmark import (DEFAULT_SESSION_OPTIONS, check_backends,
                                export_model)
from .timing import InterleavedTimer
from .video_profile import peak_rss_run, profile_run

MEASUREMENT_NAMES = dict(
    tool='(2) tool, detections only',
    tool_save_video='(2) tool, --save-video',
    mmdet='(3) mmdet loop + visualizer + writer')  # mmdet: PyTorch only


def generate_clip(path: str, size: Sequence[int], seconds: float,
                  fps: float) -> None:
    """Write a clip of moving shapes on a dark, noisy background."""
    make_video(path, int(round(seconds * fps)), tuple(size), fps, night=True)


def _batches(packed: list, batch_size: int) -> list:
    """``packed`` items collated in batches of ``batch_size``."""
    return [
        pseudo_collate(packed[i:i + batch_size])
        for i in range(0, len(packed), batch_size)
    ]


def model_step(model: torch.nn.Module, packed: list, batch_size: int):
    """Warm-up and timed pass of ``model.test_step`` over ``packed`` items
    in batches of ``batch_size``."""
    batches = _batches(packed, batch_size)

    def warm_up():
        with torch.no_grad():
            model.test_step(batches[0])

    def step():
        with torch.no_grad():
            for batch in batches:
                model.test_step(batch)
        return dict(images=len(packed))

    return warm_up, step


def streams_model_step(model: torch.nn.Module, packed: list, batch_size: int,
                       streams: int, threads_per_stream: int):
    """As :func:`model_step`, with the batches shared round-robin by
    ``streams`` threads on ``threads_per_stream`` torch threads each."""
    batches = _batches(packed, batch_size)

    def run(share):
        with torch_threads(threads_per_stream), torch.no_grad():
            for batch in share:
                model.test_step(batch)

    def warm_up():
        run(batches[:1])

    def step():
        workers = [
            threading.Thread(target=run, args=(batches[i::streams], ))
            for i in range(streams)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
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


def _prefix(backend: str) -> str:
    """Step-name prefix of a backend (none for PyTorch)."""
    return '' if backend == 'pytorch' else f'{backend}/'


def measure(inferencers: Dict[str, VideoInferencer],
            video: str,
            packed: list,
            batch_sizes: Sequence[int] = (1, 2, 4, 8),
            frames: Optional[int] = None,
            repeat: int = 1,
            reference: Optional[VideoInferencer] = None,
            tools: Optional[Dict[str, VideoInferencer]] = None) -> list:
    """Every measurement once per round, ``repeat`` rounds; the tool uses
    its round's best batch size of the model alone (per backend; of the
    model alone in streams when the tool has several).

    Args:
        inferencers (dict[str, VideoInferencer]): backend -> inferencer;
            its model, tool and tool --save-video are measured (names
            prefixed ``<backend>/`` except for PyTorch).
        reference (VideoInferencer, optional): the PyTorch inferencer whose
            model runs mmdet's loop (default: ``inferencers['pytorch']``).
        tools (dict[str, VideoInferencer], optional): backend -> the
            inferencer the tool measurements run (default: those of
            ``inferencers``); one with ``streams`` > 1 adds the model alone
            in as many streams (``<prefix>model_b<B>_streams``).

    Returns:
        list[dict]: per round, measurement name -> ``fps``,
        ``cpu_ms_per_frame`` (and the mmdet loop's split), plus
        ``<prefix>tool_batch_size``.
    """
    tools = tools or inferencers
    steps, prepare, tool_model = {}, {}, {}
    for backend, inferencer in inferencers.items():
        p, tool = _prefix(backend), tools[backend]
        tool_model[p] = f'{p}model_b{{}}'
        for b in batch_sizes:
            prepare[f'{p}model_b{b}'], steps[f'{p}model_b{b}'] = model_step(
                inferencer.model, packed, b)
            if tool.streams > 1:
                tool_model[p] = f'{p}model_b{{}}_streams'
                name = tool_model[p].format(b)
                prepare[name], steps[name] = streams_model_step(
                    tool.model, packed, b, tool.streams,
                    tool.threads_per_stream)
        steps[f'{p}tool'] = tool_step(tool, video, frames, False)
        steps[f'{p}tool_save_video'] = tool_step(tool, video, frames, True)
        prepare[f'{p}tool'] = (
            lambda p=p, tool=tool: setattr(tool, 'batch_size',
                                           round_best_batch(p)))
    prepare['mmdet'], steps['mmdet'] = mmdet_loop_step(
        reference or inferencers['pytorch'], video, frames)

    def round_best_batch(p):
        return max(
            batch_sizes,
            key=lambda b: timer.calls[tool_model[p].format(b)][-1].rates()[
                'fps'])

    timer = InterleavedTimer(steps, prepare=prepare)
    rounds = []
    for index in range(repeat):
        calls = timer.run_round()
        rounds.append({name: c[0].rates() for name, c in calls.items()})
        for backend in inferencers:
            p = _prefix(backend)
            rounds[-1][f'{p}tool_batch_size'] = round_best_batch(p)
        print(f'round {index + 1}: {json.dumps(rounds[-1])}', flush=True)
    return rounds


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _best_in_round(round_: dict, name: str,
                   batch_sizes: Sequence[int]) -> dict:
    """The fastest of the measurements ``name.format(b)`` in one round."""
    return max((round_[name.format(b)] for b in batch_sizes),
               key=lambda m: m['fps'])


def _backend_results(rounds: list, batch_sizes: Sequence[int],
                     backend: str, streams: int = 1) -> dict:
    """Best round of each measurement of one backend, its ratios, and the
    detections-only / model ratio within each round (tool against the
    one-stream model at its best batch size in that round, and with
    ``streams`` > 1 also against the model in streams at the tool's batch
    size) with their median."""
    p = _prefix(backend)
    keys = [f'{p}model_b{b}' for b in batch_sizes] + [
        f'{p}tool', f'{p}tool_save_video', 'mmdet'
    ]
    if streams > 1:
        keys += [f'{p}model_b{b}_streams' for b in batch_sizes]
    best = {
        key:
        dict(
            max((r[key] for r in rounds), key=lambda m: m['fps']),
            cpu_ms_per_frame=min(r[key]['cpu_ms_per_frame'] for r in rounds))
        for key in keys
    }
    best_batch = max(batch_sizes, key=lambda b: best[f'{p}model_b{b}']['fps'])
    model = best[f'{p}model_b{best_batch}']
    tool, tool_video = best[f'{p}tool'], best[f'{p}tool_save_video']
    mmdet = best['mmdet']
    round_models = [
        _best_in_round(r, f'{p}model_b{{}}', batch_sizes) for r in rounds
    ]
    per_round = [
        r[f'{p}tool']['fps'] / m['fps'] for r, m in zip(rounds, round_models)
    ]
    cores = usable_cores()
    # above 1 when the machine got faster between the two measurements
    bound_per_round = [
        cores * 1000 / m['fps'] / r[f'{p}tool']['cpu_ms_per_frame']
        for r, m in zip(rounds, round_models)
    ]
    results = dict(
        best=best,
        model_fps_by_batch_size={
            b: best[f'{p}model_b{b}']['fps']
            for b in batch_sizes
        },
        best_batch_size=best_batch,
        model_fps=model['fps'],
        tool_fps=tool['fps'],
        tool_save_video_fps=tool_video['fps'],
        ratio_tool_to_model=tool['fps'] / model['fps'],
        ratio_tool_to_model_per_round=per_round,
        ratio_tool_to_model_median=statistics.median(per_round),
        ratio_tool_to_model_cpu_bound_per_round=bound_per_round,
        ratio_tool_to_model_cpu_bound_median=statistics.median(
            bound_per_round),
        ratio_tool_video_to_model=tool_video['fps'] / model['fps'],
        ratio_tool_video_to_mmdet=tool_video['fps'] / mmdet['fps'],
        cpu_ratio_model_to_tool=model['cpu_ms_per_frame'] /
        tool['cpu_ms_per_frame'],
        cpu_ratio_mmdet_to_tool_video=mmdet['cpu_ms_per_frame'] /
        tool_video['cpu_ms_per_frame'])
    if streams > 1:
        results.update(_streams_results(rounds, batch_sizes, p, best, model))
    return results


def _streams_results(rounds: list, batch_sizes: Sequence[int], p: str,
                     best: dict, model: dict) -> dict:
    """The model alone in streams: its best batch size and rate, against
    the one-stream model, and the tool against it within each round (at
    the tool's batch size of that round)."""
    name = p + 'model_b{}_streams'
    best_batch = max(batch_sizes, key=lambda b: best[name.format(b)]['fps'])
    streams_fps = best[name.format(best_batch)]['fps']
    per_round = [
        r[f'{p}tool']['fps'] /
        r[name.format(r[f'{p}tool_batch_size'])]['fps'] for r in rounds
    ]
    return dict(
        model_streams_fps_by_batch_size={
            b: best[name.format(b)]['fps']
            for b in batch_sizes
        },
        best_streams_batch_size=best_batch,
        model_streams_fps=streams_fps,
        ratio_model_streams_to_model=streams_fps / model['fps'],
        ratio_tool_to_model_streams_per_round=per_round,
        ratio_tool_to_model_streams_median=statistics.median(per_round))


def _export_onnx(config: str, checkpoint: Optional[str], packed: list,
                 folder: str, reference: VideoInferencer) -> str:
    """Export ``config`` to ``folder`` at the padded size of the
    preprocessed frames, with a dynamic batch; return the file."""
    divisor = getattr(reference.model.data_preprocessor, 'pad_size_divisor',
                      1)
    height, width = (-(-int(v) // divisor) * divisor
                     for v in packed[0]['inputs'].shape[-2:])
    return export_model(reference.model, config, checkpoint, folder,
                        (height, width), 2, None)


def _onnx_inferencer(config: str, model_file: str, score_thr: float,
                     threads: Optional[int],
                     streams: int = 1) -> VideoInferencer:
    """An ONNX Runtime inferencer of an exported file, its session on
    ``threads`` intra-op threads shared by ``streams``."""
    inferencer = VideoInferencer(
        config,
        model_file,
        score_thr=score_thr,
        backend='onnxruntime',
        streams=streams)
    per_stream = max(1, threads // streams) if threads else None
    if streams > 1 and per_stream is None:
        per_stream = inferencer.threads_per_stream
    inferencer.model.configure_session(per_stream, **DEFAULT_SESSION_OPTIONS)
    return inferencer


def video_throughput(config: str,
                     checkpoint: Optional[str],
                     video: str,
                     frames: Optional[int] = None,
                     batch_sizes: Sequence[int] = (1, 2, 4, 8),
                     repeat: int = 1,
                     threads: Optional[int] = None,
                     score_thr: float = 0.3,
                     device: str = 'cpu',
                     backends: Sequence[str] = ('pytorch', ),
                     backend_threads: Optional[int] = 2,
                     profile: bool = False,
                     rss_frames: Optional[int] = None,
                     streams: int = 1) -> dict:
    """Measure on the first ``frames`` frames of ``video`` (all when None);
    return the results (every round, the best of each measurement and the
    ratios of the targets, per backend; the top-level figures are those of
    the first backend).

    Args:
        backends (Sequence[str]): ``'pytorch'`` and/or ``'onnxruntime'``
            (exported to a temporary file at the preprocessed frame size,
            ``backend_threads`` intra-op threads). mmdet's loop always runs
            the PyTorch model.
        profile (bool): add one timed run per backend of the tool with
            ``--save-video`` split into its stages
            (:func:`~lowlight.analysis.video_profile.profile_run`).
        rss_frames (int, optional): add the peak RSS of the tool with
            ``--save-video`` on ``rss_frames`` and on ``10 * rss_frames``
            frames of a generated clip of the video's size, per backend.
        streams (int): batches the tool predicts side by side; above 1 the
            model alone is measured in as many streams too.
    """
    error = check_backends(backends)
    if error:
        raise ValueError(error)
    if threads is not None:
        torch.set_num_threads(threads)
    images = read_frames(video, frames)
    if not images:
        raise RuntimeError(f'no frame could be read from {video}')
    pytorch = VideoInferencer(
        config, checkpoint, device=device, score_thr=score_thr)
    height, width = images[0].shape[:2]
    print(f'{len(images)} frames of {width}x{height} from {video}; '
          f'torch threads: {torch.get_num_threads()}')
    packed = [pytorch.preprocess(f, i) for i, f in enumerate(images)]
    del images
    with tempfile.TemporaryDirectory() as folder:
        inferencers, tools = {}, {}
        for backend in backends:
            if backend == 'pytorch':
                inferencers[backend] = pytorch
                tools[backend] = pytorch if streams == 1 else VideoInferencer(
                    config,
                    checkpoint,
                    device=device,
                    score_thr=score_thr,
                    streams=streams)
                continue
            model_file = _export_onnx(config, checkpoint, packed, folder,
                                      pytorch)
            inferencers[backend] = _onnx_inferencer(config, model_file,
                                                    score_thr,
                                                    backend_threads)
            tools[backend] = inferencers[backend] if streams == 1 else \
                _onnx_inferencer(config, model_file, score_thr,
                                 backend_threads, streams)
        rounds = measure(inferencers, video, packed, batch_sizes, frames,
                         repeat, pytorch, tools)
        per_backend = {
            backend: _backend_results(rounds, batch_sizes, backend, streams)
            for backend in backends
        }
        for backend, inferencer in inferencers.items():
            entry, tool = per_backend[backend], tools[backend]
            inferencer.batch_size = entry['best_batch_size']
            tool.batch_size = entry.get('best_streams_batch_size',
                                        entry['best_batch_size'])
            if profile:
                entry['profile'] = profile_run(inferencer, video, frames)
            if rss_frames:
                entry['rss'] = rss_growth(tool, folder, (width, height),
                                          rss_frames)
    first = per_backend[backends[0]]
    mmdet = first['best']['mmdet']
    return dict(
        command=' '.join([sys.executable] + sys.argv),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            usable_cores=usable_cores(),
            load_average=os.getloadavg(),
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
            backend_threads=backend_threads,
            streams=streams,
            device=device),
        video=dict(path=video, width=width, height=height),
        frames=len(packed),
        repeat=repeat,
        rounds=rounds,
        backends=list(backends),
        per_backend=per_backend,
        **{k: v
           for k, v in first.items() if k not in ('profile', 'rss')},
        mmdet_fps=mmdet['fps'],
        mmdet_infer_ms_per_frame=mmdet['infer_ms_per_frame'],
        mmdet_draw_write_ms_per_frame=mmdet['draw_write_ms_per_frame'])


def rss_growth(inferencer: VideoInferencer, folder: str, size: Sequence[int],
               frames: int) -> dict:
    """Peak RSS of the tool with ``--save-video`` on ``frames`` and on ten
    times as many frames of a generated clip of ``size`` (W, H)."""
    clip = os.path.join(folder, f'rss_{size[0]}x{size[1]}_{frames * 10}.mp4')
    if not os.path.exists(clip):
        make_video(clip, frames * 10, tuple(size), 25.0, night=True)
    runs = {}
    for count in (frames, frames * 10):
        runs[count] = peak_rss_run(
            tool_step(inferencer, clip, count, True))
    short, long = runs[frames], runs[frames * 10]
    return dict(
        frames=[frames, frames * 10],
        short=short,
        long=long,
        peak_ratio_long_to_short=long['peak_mb'] / short['peak_mb'])


def _print_row(backend: str, name: str, m: dict) -> None:
    print(f"| {backend} | {name} | {m['fps']:.2f} | {1000 / m['fps']:.1f} "
          f"| {m['cpu_ms_per_frame']:.1f} |")


def _print_profile(profile: dict) -> None:
    stages = ', '.join(f'{k} {v:.1f}'
                       for k, v in profile['ms_per_frame'].items())
    waits = ', '.join(f'{k} {v:.1f}'
                      for k, v in profile['wait_ms_per_frame'].items())
    print(f"  profile (--save-video, batch {profile['batch_size']}, "
          f"{profile['wall_ms_per_frame']:.1f} ms/frame wall): {stages} "
          f'ms/frame; not busy per thread: {waits} ms/frame')


def report(results: dict, out: Optional[str] = None) -> None:
    """Print the table and the ratios per backend; write the results as
    JSON to ``out`` when given."""
    print('| backend | measurement | fps | ms/frame | CPU ms/frame |')
    print('|---|---|---|---|---|')
    for backend, entry in results['per_backend'].items():
        p = _prefix(backend)
        names = {
            f'{p}model_b{b}': f'(1) model alone, batch {b}'
            for b in entry['model_fps_by_batch_size']
        }
        names.update({
            f'{p}model_b{b}_streams':
            f'(1) model alone, batch {b}, {results["machine"]["streams"]} '
            'streams'
            for b in entry.get('model_streams_fps_by_batch_size', ())
        })
        names.update({p + k: v
                      for k, v in MEASUREMENT_NAMES.items() if k != 'mmdet'})
        for key, name in names.items():
            _print_row(backend, name, entry['best'][key])
    mmdet = results['best']['mmdet']
    _print_row('pytorch', MEASUREMENT_NAMES['mmdet'], mmdet)
    print(f"mmdet loop (PyTorch): inference {mmdet['infer_ms_per_frame']:.1f}"
          f" ms, drawing + writing {mmdet['draw_write_ms_per_frame']:.1f} ms "
          'per frame')
    for backend, entry in results['per_backend'].items():
        print(f"{backend}: detections-only / model = "
              f"{entry['ratio_tool_to_model']:.2f} (best rounds; per round "
              + ', '.join(f'{r:.2f}'
                          for r in entry['ratio_tool_to_model_per_round']) +
              f", median {entry['ratio_tool_to_model_median']:.2f}; the "
              f"tool's CPU time allows at most "
              + ', '.join(f'{r:.2f}' for r in
                          entry['ratio_tool_to_model_cpu_bound_per_round'])
              + f" on {results['machine']['usable_cores']} cores, median "
              f"{entry['ratio_tool_to_model_cpu_bound_median']:.2f}); "
              f"save-video / mmdet loop "
              f"= {entry['ratio_tool_video_to_mmdet']:.2f}; save-video / "
              f"model = {entry['ratio_tool_video_to_model']:.2f}; CPU "
              f"model / detections-only = "
              f"{entry['cpu_ratio_model_to_tool']:.2f}")
        if 'model_streams_fps' in entry:
            print(f"  {results['machine']['streams']} streams: model alone "
                  f"{entry['ratio_model_streams_to_model']:.2f} x one "
                  'stream; detections-only / model in streams per round '
                  + ', '.join(
                      f'{r:.2f}'
                      for r in entry['ratio_tool_to_model_streams_per_round'])
                  + f", median "
                  f"{entry['ratio_tool_to_model_streams_median']:.2f}")
        if 'profile' in entry:
            _print_profile(entry['profile'])
        if 'rss' in entry:
            rss = entry['rss']
            print(f"  peak RSS, --save-video, {rss['frames'][0]} / "
                  f"{rss['frames'][1]} frames: {rss['short']['peak_mb']:.0f}"
                  f" / {rss['long']['peak_mb']:.0f} MB (ratio "
                  f"{rss['peak_ratio_long_to_short']:.3f})")
    if out:
        atomic_dump_json(results, out, indent=1)
        print(f'results written to {out}')
