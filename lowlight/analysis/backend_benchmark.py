"""One detector on several inference backends, measured in the same run
(``tools/analysis_tools/benchmark.py CONFIG --backends pytorch
onnxruntime``).

The config (and checkpoint; random weights when none, seeded) is exported
to a temporary ONNX file with :func:`lowlight.deployment.export_onnx`, then
per backend two steps are timed, all of them interleaved
(:mod:`lowlight.analysis.timing`) so that every step sees the same load:

* ``network``: the tensor path alone on the preprocessed batch: PyTorch
  ``model._forward`` against ``session.run`` of the exported graph;
* ``detector``: ``model.test_step`` (data preprocessor, network, the head's
  ``predict_by_feat`` decoding + NMS, packing), for PyTorch and for
  :class:`~lowlight.deployment.OnnxRuntimeDetector`.

A third step, ``decode``, times the head's ``predict_by_feat`` alone on the
graph's outputs, so that the detector time splits into network, decoding
and the rest (preprocessor, padding, packing). Ratios are
``onnxruntime / pytorch`` of images per second.

``onnxruntime-int8`` is the exported file quantized by
:func:`lowlight.deployment.quantize_onnx` (calibrated on the config's
training images, or on a folder), run by the same detector class: its
ratios to PyTorch are ``ratios_int8``, to the float32 file
``int8_over_fp32``. What int8 costs in AP is not measured here (use
``tools/deployment/check_parity.py``).
"""
import os
import os.path as osp
import platform
import tempfile
from typing import Dict, Optional, Sequence

import torch

from lowlight.apis import init_low_light_detector
from lowlight.deployment import BACKENDS, export_onnx, quantize_onnx
from lowlight.deployment.metadata import config_num_classes
from lowlight.testing import demo_batch
from .timing import time_interleaved

#: ONNX Runtime's idle intra-op threads sleep instead of spinning, so that
#: they take no CPU from the step that runs next (PyTorch, decoding)
DEFAULT_SESSION_OPTIONS = {'session.intra_op.allow_spinning': '0'}
#: what --backends accepts: the runtimes, and the int8 file on ONNX Runtime
BENCHMARK_BACKENDS = BACKENDS + ('onnxruntime-int8', )
#: calibration images of the int8 file (its speed does not depend on them)
BENCHMARK_CALIBRATION_IMAGES = 16


def check_backends(backends: Sequence[str]) -> Optional[str]:
    """What is wrong with a list of backends, or None."""
    unknown = [b for b in backends if b not in BENCHMARK_BACKENDS]
    if unknown:
        return (f'unknown backend(s) {unknown}; choose from '
                f'{list(BENCHMARK_BACKENDS)}')
    if len(set(backends)) != len(backends) or not backends:
        return f'give each backend once, got {list(backends)}'
    return None


def export_model(model, config, checkpoint, folder, shape, batch_size,
            cfg_options) -> str:
    """The ONNX file of ``config``; random weights are saved first (with
    as many class names as the config's head has)."""
    if checkpoint is None:
        classes = list(model.dataset_meta['classes'])
        num_classes = config_num_classes(model.cfg.model)
        if num_classes is not None and num_classes != len(classes):
            classes = [f'class_{i}' for i in range(num_classes)]
        checkpoint = osp.join(folder, 'random_weights.pth')
        torch.save(
            dict(
                state_dict=model.state_dict(),
                meta=dict(dataset_meta=dict(classes=classes))), checkpoint)
    model_file = osp.join(folder, 'model.onnx')
    export_onnx(
        config,
        checkpoint,
        model_file,
        shape,
        batch_size=batch_size,
        dynamic_batch=batch_size > 1,
        cfg_options=cfg_options)
    return model_file


def _network_step(backend: str, model, data_batch: dict):
    """The tensor path alone on the preprocessed ``data_batch``."""
    with torch.no_grad():
        inputs = model.data_preprocessor(data_batch, False)['inputs']
    if backend == 'pytorch':

        def step():
            with torch.no_grad():
                model._forward(inputs)
    else:
        feed = {model.input_name: inputs.float().numpy()}

        def step():
            model.session.run(None, feed)

    return step, inputs


def _decode_step(model, inputs, data_batch: dict):
    """The head's predict_by_feat on the graph's outputs (as
    OnnxRuntimeDetector.predict calls it)."""
    outputs = model._forward(inputs)
    metas = [s.metainfo for s in data_batch['data_samples']]

    def step():
        # predict_by_feat changes its inputs in place (sigmoid_)
        copies = [[t.clone() for t in group] for group in outputs]
        with torch.no_grad():
            model.head.predict_by_feat(
                *copies, batch_img_metas=metas, rescale=True)

    return step


def _detector_step(model, data_batch: dict):

    def step():
        with torch.no_grad():
            model.test_step(data_batch)

    return step


def benchmark_backends(config: str,
                       checkpoint: Optional[str] = None,
                       backends: Sequence[str] = BACKENDS,
                       shape: Sequence[int] = (256, 256),
                       batch_size: int = 1,
                       threads: Optional[int] = 2,
                       backend_threads: Optional[int] = 2,
                       session_options: Optional[Dict] = None,
                       cfg_options: Optional[Dict] = None,
                       calib_dir: Optional[str] = None,
                       **timing) -> dict:
    """Measure one detector on ``backends`` in one run; return the results.

    Args:
        config (str): the model config.
        checkpoint (str, optional): its ``.pth`` checkpoint (random, seeded
            weights when None).
        backends (Sequence[str]): names from :data:`BENCHMARK_BACKENDS`.
        shape (Sequence[int]): (H, W) of the input (a multiple of the
            preprocessor's pad divisor: the exported graph's input).
        batch_size (int): images per call (the graph has a dynamic batch
            when > 1).
        threads (int, optional): torch threads (None: torch's choice).
        backend_threads (int, optional): intra-op threads of the runtime
            session (None: the runtime's choice).
        session_options (dict, optional): further ONNX Runtime
            ``SessionOptions`` (see
            :meth:`OnnxRuntimeDetector.configure_session`); default
            :data:`DEFAULT_SESSION_OPTIONS`.
        cfg_options (dict, optional): config overrides.
        calib_dir (str, optional): calibration images of
            ``onnxruntime-int8``; None: the config's training split.
        **timing: ``warmup``, ``min_iters``, ``round_size``, ``rel_tol``,
            ``max_time`` of :func:`~lowlight.analysis.timing.
            time_interleaved`.

    Returns:
        dict: the machine and settings, ``steps`` (``<backend>/network``,
        ``<backend>/detector``, ``onnxruntime/decode``: timing summaries),
        per backend ``images_per_s``, ``latency_ms`` and ``latency_p90_ms``
        of network and detector, the ONNX Runtime detector's split
        (``breakdown_ms``), ``ratios`` (onnxruntime / pytorch), and with
        ``onnxruntime-int8`` ``ratios_int8`` and ``int8_over_fp32``.

    Raises:
        ValueError: an unknown or repeated backend.
    """
    error = check_backends(backends)
    if error:
        raise ValueError(error)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    pytorch = init_low_light_detector(config, checkpoint, 'cpu', cfg_options)
    data_batch = demo_batch(*shape, batch_size)
    steps = {}
    if session_options is None:
        session_options = DEFAULT_SESSION_OPTIONS
    with tempfile.TemporaryDirectory() as folder:
        models = dict(pytorch=pytorch)
        files = {}
        if {'onnxruntime', 'onnxruntime-int8'} & set(backends):
            files['onnxruntime'] = export_model(pytorch, config, checkpoint,
                                                folder, shape, batch_size,
                                                cfg_options)
        if 'onnxruntime-int8' in backends:
            files['onnxruntime-int8'] = osp.join(folder, 'model_int8.onnx')
            quantize_onnx(
                config,
                files['onnxruntime'],
                files['onnxruntime-int8'],
                calib_dir=calib_dir,
                num_images=BENCHMARK_CALIBRATION_IMAGES,
                cfg_options=cfg_options)
        for backend in backends:
            if backend != 'pytorch':
                models[backend] = init_low_light_detector(
                    config,
                    files[backend],
                    cfg_options=cfg_options,
                    backend='onnxruntime')
                models[backend].configure_session(backend_threads,
                                                  **session_options)
        for backend in backends:
            model = models[backend]
            steps[f'{backend}/network'], inputs = _network_step(
                backend, model, data_batch)
            steps[f'{backend}/detector'] = _detector_step(model, data_batch)
            if backend == 'onnxruntime':
                steps['onnxruntime/decode'] = _decode_step(
                    model, inputs, data_batch)
        measured = time_interleaved(steps, batch_size, **timing)
    results = dict(
        config=config,
        checkpoint=checkpoint,
        weights='checkpoint' if checkpoint else 'random (seed 0)',
        shape=list(shape),
        batch_size=batch_size,
        processor=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(),
        load_average=os.getloadavg(),
        torch_version=torch.__version__,
        torch_threads=torch.get_num_threads(),
        backend_threads=backend_threads,
        session_options=session_options,
        steps=measured,
        backends={})
    for backend in backends:
        results['backends'][backend] = {
            what: dict(
                images_per_s=measured[f'{backend}/{what}']['images_per_s'],
                latency_ms=measured[f'{backend}/{what}']['per_image_ms'],
                latency_p90_ms=measured[f'{backend}/{what}']
                ['p90_per_image_ms'])
            for what in ('network', 'detector')
        }
    if 'onnxruntime' in backends:
        ms = {
            what: measured[f'onnxruntime/{what}']['per_image_ms']
            for what in ('network', 'decode', 'detector')
        }
        results['breakdown_ms'] = dict(
            ms, rest=ms['detector'] - ms['network'] - ms['decode'])
    for key, (faster, slower) in _RATIOS.items():
        if {faster, slower} <= set(backends):
            results[key] = {
                what: results['backends'][faster][what]['images_per_s'] /
                results['backends'][slower][what]['images_per_s']
                for what in ('network', 'detector')
            }
    return results


#: result key -> (backend, the backend it is compared with) of the ratios
_RATIOS = dict(
    ratios=('onnxruntime', 'pytorch'),
    ratios_int8=('onnxruntime-int8', 'pytorch'),
    int8_over_fp32=('onnxruntime-int8', 'onnxruntime'))


def format_backends(results: dict) -> str:
    """The results as a Markdown table and the ratios."""
    lines = [
        f'{results["config"]} @ {results["shape"][0]}x{results["shape"][1]}'
        f', batch {results["batch_size"]}, weights {results["weights"]}, '
        f'torch threads {results["torch_threads"]}, runtime threads '
        f'{results["backend_threads"]}',
        '| backend | step | images/s | latency p50 (ms) | p90 (ms) |',
        '|---|---|---:|---:|---:|'
    ]
    for backend, entry in results['backends'].items():
        for what, m in entry.items():
            lines.append(f'| {backend} | {what} | {m["images_per_s"]:.2f} | '
                         f'{m["latency_ms"]:.1f} | '
                         f'{m["latency_p90_ms"]:.1f} |')
    if 'breakdown_ms' in results:
        b = results['breakdown_ms']
        lines.append(f'onnxruntime detector per image: network '
                     f'{b["network"]:.1f} ms, predict_by_feat '
                     f'{b["decode"]:.1f} ms, rest {b["rest"]:.1f} ms')
    for key, (faster, slower) in _RATIOS.items():
        for what, ratio in results.get(key, {}).items():
            lines.append(f'{faster} / {slower} images/s, {what}: {ratio:.2f}')
    unstable = [n for n, s in results['steps'].items() if not s['stable']]
    if unstable:
        lines.append('medians not stable within --rel-tol (--max-time '
                     'reached)')
    return '\n'.join(lines)
