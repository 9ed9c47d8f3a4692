"""Network throughput of one detector on a GPU, at several batch sizes, for
PyTorch and the exported file on ONNX Runtime, in one run.

Backends (:data:`GPU_BACKENDS`):

* ``pytorch-fp32``: the model's ``_forward``;
* ``pytorch-fp16``: the same under ``torch.autocast`` (float16), PyTorch's
  way of running a model in half precision;
* ``onnxruntime-fp32``: the exported file on the CUDA execution provider;
* ``onnxruntime-fp16``: its float16 copy
  (:func:`lowlight.deployment.convert_to_float16`) on the same provider;
* ``tensorrt-fp16``: the float32 file on the TensorRT execution provider
  with its float16 mode (CUDA provider as fallback); run only where the
  provider and TensorRT's libraries load, else reported as not run.

Each step is the tensor path alone (enhancer, backbone, necks, the head's
raw outputs) on a preprocessed input that already lies on the device:
ONNX Runtime gets it, and writes its outputs, through an I/O binding on
the device, so no host copy is timed; decoding and NMS are not part of
it. Per batch size the steps are interleaved
(:func:`~lowlight.analysis.timing.time_interleaved`, the device
synchronised before each clock read). Each step's raw outputs on that
batch are compared with ``pytorch-fp32`` (largest absolute difference).
"""
import ctypes
import os.path as osp
import platform
import tempfile
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch

from lowlight.apis import init_low_light_detector
from lowlight.deployment import convert_to_float16
from lowlight.testing import demo_batch
from .backend_benchmark import export_model
from .timing import time_interleaved

GPU_BACKENDS = ('pytorch-fp32', 'pytorch-fp16', 'onnxruntime-fp32',
                'onnxruntime-fp16', 'tensorrt-fp16')
#: the backends a CPU run accepts (a dry run of the same code path)
CPU_BACKENDS = ('pytorch-fp32', 'onnxruntime-fp32')
#: what the ratios are taken against
REFERENCE = 'pytorch-fp16'
_TENSORRT_LIBRARY = 'libnvinfer.so.10'


def check_gpu_backends(backends: Sequence[str], device: str) -> None:
    """Raise ValueError naming an unknown, repeated or, on ``device``,
    unsupported backend."""
    allowed = GPU_BACKENDS if device.startswith('cuda') else CPU_BACKENDS
    wrong = [b for b in backends if b not in allowed]
    if wrong or not backends or len(set(backends)) != len(backends):
        raise ValueError(f'backends {list(backends)} on {device}: give each '
                         f'once, from {list(allowed)}')


def _tensorrt_missing() -> Optional[str]:
    """Why the TensorRT provider cannot run here, or None."""
    import onnxruntime as ort
    if 'TensorrtExecutionProvider' not in ort.get_available_providers():
        return 'this onnxruntime has no TensorrtExecutionProvider'
    try:
        ctypes.CDLL(_TENSORRT_LIBRARY)
    except OSError as error:
        return f'TensorRT is not installed ({error})'
    return None


def _providers(backend: str, device: str) -> List:
    if not device.startswith('cuda'):
        return ['CPUExecutionProvider']
    index = torch.device(device).index or 0
    cuda = ('CUDAExecutionProvider', {'device_id': index})
    if backend == 'tensorrt-fp16':
        return [('TensorrtExecutionProvider', {
            'device_id': index,
            'trt_fp16_enable': True
        }), cuda]
    return [cuda]


class _BoundSession:
    """An ONNX Runtime session run through an I/O binding: on one
    device-resident input (:meth:`bind`), outputs left on the device."""

    def __init__(self, model_file: str, providers: List):
        import onnxruntime as ort
        self.session = ort.InferenceSession(model_file, providers=providers)
        self.binding = None

    def bind(self, inputs: torch.Tensor) -> '_BoundSession':
        self.inputs = inputs.contiguous()  # kept alive while bound
        kind = 'cuda' if inputs.is_cuda else 'cpu'
        index = self.inputs.device.index or 0
        self.binding = self.session.io_binding()
        self.binding.bind_input(self.session.get_inputs()[0].name, kind,
                                index, np.float32, tuple(self.inputs.shape),
                                self.inputs.data_ptr())
        for output in self.session.get_outputs():
            self.binding.bind_output(output.name, kind, index)
        return self

    def __call__(self) -> None:
        self.session.run_with_iobinding(self.binding)

    def outputs(self) -> List[np.ndarray]:
        self()
        return self.binding.copy_outputs_to_cpu()


def _flat(outputs) -> List[np.ndarray]:
    """The head's raw outputs as flat float32 arrays, in graph order."""
    if isinstance(outputs, torch.Tensor):
        return [outputs.detach().float().cpu().numpy()]
    if isinstance(outputs, np.ndarray):
        return [outputs.astype(np.float32)]
    return [array for item in outputs for array in _flat(item)]


def benchmark_gpu(config: str,
                  checkpoint: Optional[str] = None,
                  shape: Sequence[int] = (256, 256),
                  batch_sizes: Sequence[int] = (1, 8, 32),
                  backends: Sequence[str] = GPU_BACKENDS,
                  device: str = 'cuda',
                  cfg_options: Optional[dict] = None,
                  **timing) -> dict:
    """Measure the network of ``config`` on ``backends`` at each batch size.

    Args:
        config (str): the model config.
        checkpoint (str, optional): its ``.pth`` (random, seeded weights
            when None).
        shape (Sequence[int]): (H, W) of the input, a multiple of the
            preprocessor's pad divisor.
        batch_sizes (Sequence[int]): images per call, one timing each.
        backends (Sequence[str]): names from :data:`GPU_BACKENDS` (on a CPU
            ``device``, from :data:`CPU_BACKENDS`: a dry run).
        device (str): ``'cuda'``, ``'cuda:N'`` or ``'cpu'``.
        cfg_options (dict, optional): config overrides.
        **timing: ``warmup``, ``min_iters``, ``round_size``, ``rel_tol``,
            ``max_time`` of :func:`time_interleaved`.

    Returns:
        dict: ``results[batch][backend]`` (``images_per_s``, ``latency_ms``
        and ``latency_p90_ms`` per call, ``max_abs_diff`` to
        ``pytorch-fp32``), ``ratios[batch][backend]`` (images/s over
        :data:`REFERENCE`'s, when it ran), ``not_run`` (backend: reason),
        the device, versions and settings.

    Raises:
        ValueError: a bad backend list; RuntimeError: no CUDA device.
    """
    import onnxruntime as ort
    check_gpu_backends(backends, device)
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError(f'device {device}: torch sees no CUDA GPU')
    on_gpu = device.startswith('cuda')
    sync = torch.cuda.synchronize if on_gpu else None
    not_run = {}
    if 'tensorrt-fp16' in backends:
        reason = _tensorrt_missing()
        if reason:
            not_run['tensorrt-fp16'] = reason
    wanted = [b for b in backends if b not in not_run]
    torch.manual_seed(0)
    model = init_low_light_detector(config, checkpoint, 'cpu', cfg_options)
    results, ratios = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        if any(not b.startswith('pytorch') for b in wanted):
            files['fp32'] = export_model(model, config, checkpoint, folder,
                                         shape, 2, cfg_options)
        if 'onnxruntime-fp16' in wanted:
            files['fp16'] = osp.join(folder, 'model_fp16.onnx')
            convert_to_float16(files['fp32'], files['fp16'])
        model = model.to(device)
        sessions = _sessions(wanted, files, device, not_run)
        if on_gpu:
            torch.backends.cudnn.benchmark = True
        for batch_size in batch_sizes:
            with torch.no_grad():
                inputs = model.data_preprocessor(
                    demo_batch(*shape, batch_size), False)['inputs']
            with torch.no_grad():
                reference = _flat(model._forward(inputs))
            steps, diffs = _steps(wanted, model, sessions, inputs,
                                  reference, not_run)
            if not steps:
                continue
            measured = time_interleaved(steps, batch_size, sync=sync,
                                        **timing)
            results[batch_size] = {
                name: dict(
                    images_per_s=measured[name]['images_per_s'],
                    latency_ms=1000 * measured[name]['median_s'],
                    latency_p90_ms=1000 * measured[name]['p90_s'],
                    stable=measured[name]['stable'],
                    max_abs_diff=diffs[name])
                for name in steps
            }
            if REFERENCE in results[batch_size]:
                base = results[batch_size][REFERENCE]['images_per_s']
                ratios[batch_size] = {
                    name: entry['images_per_s'] / base
                    for name, entry in results[batch_size].items()
                }
    return dict(
        config=config,
        checkpoint=checkpoint,
        weights='checkpoint' if checkpoint else 'random (seed 0)',
        shape=list(shape),
        device=device,
        device_name=(torch.cuda.get_device_name(device)
                     if on_gpu else platform.processor()
                     or platform.machine()),
        torch_version=torch.__version__,
        cuda_version=torch.version.cuda,
        onnxruntime_version=ort.__version__,
        batch_sizes=list(batch_sizes),
        results=results,
        ratios=ratios,
        reference=REFERENCE,
        not_run=not_run)


def _sessions(backends, files, device, not_run) -> dict:
    """backend -> :class:`_BoundSession` of each ONNX Runtime backend; one
    whose provider did not load is moved to ``not_run`` (ONNX Runtime falls
    back to other providers with a warning: that is not what was asked)."""
    sessions = {}
    for backend in backends:
        if backend.startswith('pytorch'):
            continue
        providers = _providers(backend, device)
        precision = 'fp16' if backend == 'onnxruntime-fp16' else 'fp32'
        wanted = providers[0][0] if isinstance(providers[0],
                                               tuple) else providers[0]
        try:
            session = _BoundSession(files[precision], providers)
        except Exception as error:  # ONNX Runtime raises its own types
            not_run[backend] = f'{type(error).__name__}: {error}'
            continue
        loaded = session.session.get_providers()
        if loaded[0] != wanted:
            not_run[backend] = (f'{wanted} did not load; ONNX Runtime fell '
                                f'back to {loaded}')
            continue
        sessions[backend] = session
    return sessions


def _steps(backends, model, sessions, inputs, reference, not_run) -> tuple:
    """backend -> timed call on ``inputs``, and backend -> largest absolute
    difference of its raw outputs to ``reference`` (flat arrays of PyTorch
    fp32). A backend whose first call fails is moved to ``not_run`` with
    the reason; the others still run."""
    steps, diffs = {}, {}
    for backend in backends:
        if backend in not_run:
            continue
        try:
            if backend.startswith('pytorch'):
                outputs = _torch_forward(model, inputs,
                                         backend == 'pytorch-fp16')

                def step(forward=outputs) -> None:
                    forward()
            else:
                step = sessions[backend].bind(inputs)
                outputs = step.outputs
            diffs[backend] = max(
                float(np.abs(a - b).max())
                for a, b in zip(reference, _flat(outputs())))
        except Exception as error:  # a provider or kernel failure
            not_run[backend] = f'{type(error).__name__}: {error}'
            continue
        steps[backend] = step
    return steps, diffs


def _torch_forward(model, inputs, half: bool) -> Callable:
    """A call of the model's ``_forward`` (under float16 autocast if
    ``half``) returning its raw outputs."""

    def forward():
        with torch.no_grad(), torch.autocast(
                inputs.device.type, dtype=torch.float16, enabled=half):
            return model._forward(inputs)

    return forward


def format_gpu(results: dict) -> str:
    """The results as a Markdown table (images/s, latency, ratio to the
    reference, largest raw difference)."""
    lines = [
        f'{results["config"]} @ {results["shape"][0]}x{results["shape"][1]}'
        f' on {results["device_name"]} (torch {results["torch_version"]}, '
        f'CUDA {results["cuda_version"]}, onnxruntime '
        f'{results["onnxruntime_version"]}), weights {results["weights"]}',
        f'| batch | backend | images/s | latency p50 (ms) | p90 (ms) | '
        f'x {results["reference"]} | max raw diff |',
        '|---:|---|---:|---:|---:|---:|---:|'
    ]
    for batch, entries in results['results'].items():
        for name, m in entries.items():
            ratio = results['ratios'].get(batch, {}).get(name)
            lines.append(
                f'| {batch} | {name} | {m["images_per_s"]:.1f} | '
                f'{m["latency_ms"]:.2f} | {m["latency_p90_ms"]:.2f} | '
                f'{"-" if ratio is None else f"{ratio:.2f}"} | '
                f'{m["max_abs_diff"]:.2g} |')
    for name, reason in results['not_run'].items():
        lines.append(f'not run: {name}: {reason}')
    return '\n'.join(lines)
