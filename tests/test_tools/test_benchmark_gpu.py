"""tools/analysis_tools/benchmark_gpu.py: its CPU dry run times PyTorch and
the exported file through an I/O binding at each batch size and checks
their outputs agree; GPU-only backends and devices are refused on CPU.
(The GPU run itself is not part of the default tests.)"""
import pytest
import torch

from lowlight.analysis.gpu_benchmark import benchmark_gpu
from lowlight.testing import make_detector
from tool_loader import load_tool

benchmark_gpu_tool = load_tool('analysis_tools/benchmark_gpu')


def test_cpu_dry_run_at_two_batch_sizes(tmp_path):
    config, checkpoint = make_detector(tmp_path)
    out = tmp_path / 'gpu.json'
    results = benchmark_gpu_tool.main([
        config, '--checkpoint', checkpoint, '--device', 'cpu', '--shape',
        '64', '64', '--batch-sizes', '1', '3', '--backends', 'pytorch-fp32',
        'onnxruntime-fp32', '--max-time', '0.5', '--out',
        str(out)
    ])
    assert out.exists()
    assert set(results['results']) == {1, 3}
    for batch, entries in results['results'].items():
        assert set(entries) == {'pytorch-fp32', 'onnxruntime-fp32'}
        for entry in entries.values():
            assert entry['images_per_s'] == pytest.approx(
                batch / (entry['latency_ms'] / 1000))
            assert entry['latency_p90_ms'] >= entry['latency_ms'] * 0.999
        assert entries['pytorch-fp32']['max_abs_diff'] == 0
        assert 0 < entries['onnxruntime-fp32']['max_abs_diff'] < 1e-4
    assert results['ratios'] == {}  # pytorch-fp16 (the reference) not run
    assert results['weights'] == 'checkpoint'


def test_gpu_only_settings_are_refused_on_cpu(tmp_path, capsys):
    config, _ = make_detector(tmp_path)
    with pytest.raises(SystemExit):
        benchmark_gpu_tool.parse_args(
            [config, '--device', 'cpu', '--backends', 'pytorch-fp16'])
    assert "from ['pytorch-fp32', 'onnxruntime-fp32']" in \
        capsys.readouterr().err
    with pytest.raises(ValueError, match='give each once'):
        benchmark_gpu(
            config,
            device='cpu',
            backends=['pytorch-fp32', 'pytorch-fp32'])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            benchmark_gpu_tool.parse_args([config])
        assert 'torch sees no CUDA GPU' in capsys.readouterr().err
