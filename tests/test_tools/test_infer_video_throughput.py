"""tools/analysis_tools/video_throughput.py on a tiny model and clip."""
import json

import pytest

from tool_loader import load_tool

from lowlight.testing import frame_count, make_detector


def test_video_throughput_measures_all_modes(tmp_path, capsys):
    config, checkpoint = make_detector(tmp_path)
    video = tmp_path / 'clip.mp4'
    main = load_tool('analysis_tools/video_throughput').main
    assert main([
        config, checkpoint, '--video',
        str(video), '--generate', '--size', '96', '64', '--seconds', '0.8',
        '--fps', '10', '--frames', '6', '--batch-sizes', '1', '3', '--repeat',
        '2', '--out',
        str(tmp_path / 'result.json')
    ]) == 0
    assert frame_count(video) == 8
    result = json.loads((tmp_path / 'result.json').read_text())
    assert set(result['model_fps_by_batch_size']) == {'1', '3'}
    assert result['best_batch_size'] in (1, 3)
    for key in ('model_fps', 'tool_fps', 'tool_save_video_fps', 'mmdet_fps',
                'mmdet_draw_write_ms_per_frame'):
        assert result[key] > 0, key
    assert result['ratio_tool_to_model'] == \
        result['tool_fps'] / result['model_fps']
    models = [r[f"model_b{r['tool_batch_size']}"] for r in result['rounds']]
    per_round = [
        r['tool']['fps'] / m['fps'] for r, m in zip(result['rounds'], models)
    ]
    assert result['ratio_tool_to_model_per_round'] == per_round
    assert result['ratio_tool_to_model_median'] == sum(per_round) / 2
    # the CPU bound per round: cores x model wall time / tool CPU time
    cores = result['machine']['usable_cores']
    assert cores >= 1
    bounds = [
        cores * 1000 / m['fps'] / r['tool']['cpu_ms_per_frame']
        for r, m in zip(result['rounds'], models)
    ]
    assert result['ratio_tool_to_model_cpu_bound_per_round'] == \
        pytest.approx(bounds)
    assert result['ratio_tool_to_model_cpu_bound_median'] == \
        pytest.approx(sum(bounds) / 2)
    assert result['video'] == dict(path=str(video), width=96, height=64)
    # two rounds; each figure is the best round
    assert len(result['rounds']) == 2
    assert result['tool_fps'] == max(r['tool']['fps']
                                     for r in result['rounds'])
    assert result['best']['mmdet']['cpu_ms_per_frame'] == min(
        r['mmdet']['cpu_ms_per_frame'] for r in result['rounds'])
    out = capsys.readouterr().out
    assert '(3) mmdet loop + visualizer + writer' in out
    assert 'save-video / mmdet' in out
    assert f'on {cores} cores, median' in out


def test_video_throughput_onnxruntime_profile_and_rss(tmp_path, capsys):
    """--backend onnxruntime: the tool exports the model itself; the
    profile splits a run into its stages, and the RSS check runs on a clip
    ten times longer."""
    config, checkpoint = make_detector(tmp_path)
    video = tmp_path / 'clip.mp4'
    main = load_tool('analysis_tools/video_throughput').main
    out = tmp_path / 'result.json'
    assert main([
        config, checkpoint, '--video',
        str(video), '--generate', '--size', '96', '64', '--seconds', '0.4',
        '--fps', '10', '--batch-sizes', '2', '--backend', 'onnxruntime',
        '--profile', '--rss-frames', '2', '--out',
        str(out)
    ]) == 0
    result = json.loads(out.read_text())
    assert result['backends'] == ['onnxruntime']
    entry = result['per_backend']['onnxruntime']
    for key in ('model_fps', 'tool_fps', 'tool_save_video_fps'):
        assert entry[key] > 0 and result[key] == entry[key], key
    assert result['mmdet_fps'] > 0  # mmdet's loop runs PyTorch
    profile = entry['profile']
    assert profile['frames'] == 4
    for stage in ('decode', 'preprocess', 'predict', 'predict/network',
                  'predict/predict_by_feat', 'draw', 'encode', 'jsonl'):
        assert profile['ms_per_frame'][stage] > 0, stage
    assert set(profile['wait_ms_per_frame']) == {
        'video-decode', 'main', 'video-write'
    }
    rss = entry['rss']
    assert rss['frames'] == [2, 20]
    assert rss['long']['peak_mb'] >= rss['long']['before_mb'] > 0
    assert 'not busy per thread' in capsys.readouterr().out


def test_video_throughput_unknown_backend(tmp_path):
    main = load_tool('analysis_tools/video_throughput').main
    with pytest.raises(SystemExit):
        main(['cfg.py', '--video', 'v.mp4', '--backend', 'openvino'])


@pytest.mark.parametrize('backend', ['pytorch', 'onnxruntime'])
def test_video_throughput_streams(tmp_path, capsys, backend):
    """--streams 2: the tool runs two streams and the model alone is also
    measured in two streams; the ratios against both are reported."""
    import torch
    torch.set_num_threads(2)  # the autouse fixture restores the count
    config, checkpoint = make_detector(tmp_path)
    video = tmp_path / 'clip.mp4'
    out = tmp_path / 'result.json'
    assert load_tool('analysis_tools/video_throughput').main([
        config, checkpoint, '--video',
        str(video), '--generate', '--size', '96', '64', '--seconds', '0.6',
        '--fps', '10', '--batch-sizes', '1', '2', '--repeat', '2',
        '--backend', backend, '--streams', '2', '--rss-frames', '2',
        '--out',
        str(out)
    ]) == 0
    result = json.loads(out.read_text())
    assert result['machine']['streams'] == 2
    entry = result['per_backend'][backend]
    p = '' if backend == 'pytorch' else 'onnxruntime/'
    for r in result['rounds']:
        assert {f'{p}model_b1_streams', f'{p}model_b2_streams'} <= set(r)
        # the tool's batch is the best of the model in streams that round
        assert r[f'{p}tool_batch_size'] == max(
            (1, 2), key=lambda b: r[f'{p}model_b{b}_streams']['fps'])
    per_round = [
        r[f'{p}tool']['fps'] /
        r[f"{p}model_b{r[f'{p}tool_batch_size']}_streams"]['fps']
        for r in result['rounds']
    ]
    assert entry['ratio_tool_to_model_streams_per_round'] == per_round
    assert entry['ratio_tool_to_model_streams_median'] == pytest.approx(
        sum(per_round) / 2)
    assert entry['ratio_model_streams_to_model'] == pytest.approx(
        entry['model_streams_fps'] / entry['model_fps'])
    assert entry['rss']['frames'] == [2, 20]
    assert '2 streams: model alone' in capsys.readouterr().out
