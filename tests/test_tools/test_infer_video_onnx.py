"""tools/infer_video.py --backend onnxruntime: the exported tiny YOLOv3 runs
the whole video pipeline (JSON Lines, --save-video, resume, a corrupt input
skipped) with PyTorch's detections; bad model files and a missing
execution provider stop the run with one message naming them."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from mmdet.structures.bbox import bbox_overlaps
from tool_loader import REPO, load_tool
import torch

from lowlight.testing import (make_detector, make_video, manifest_statuses,
                              read_frames, read_jsonl)

# 96x64 frames resized to fit 64x64 become 64x43, padded to 64x64: the
# exported graph must pad them as PyTorch's batch does
FRAMES, SIZE = 6, (96, 64)


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """(config, checkpoint, exported .onnx) of the tiny 3-class YOLOv3."""
    folder = tmp_path_factory.mktemp('onnx_video')
    config, checkpoint = make_detector(folder, scale=64, max_per_img=5)
    model_file = str(folder / 'tiny.onnx')
    assert load_tool('deployment/export_onnx').main(
        [config, checkpoint, '--out', model_file, '--shape', '43', '64']) == 0
    return config, checkpoint, model_file


def _infer(config, model_file, inputs, out_dir, *extra, backend='onnxruntime'):
    """Exit code of tools/infer_video.py run in this process."""
    return load_tool('infer_video').main([
        config, model_file, *inputs, '--out-dir',
        str(out_dir), '--score-thr', '0', '--batch-size', '2', '--no-progress',
        '--backend', backend, *extra
    ])


def _assert_same_detections(reference, other):
    """Per frame: the same labels in order, IoU > 0.99, scores within
    1e-4."""
    assert [r['frame'] for r in reference] == [o['frame'] for o in other]
    for ref, oth in zip(reference, other):
        a, b = ref['detections'], oth['detections']
        assert len(a) == len(b) > 0
        assert [d['label'] for d in a] == [d['label'] for d in b]
        ious = bbox_overlaps(
            torch.tensor([d['bbox'] for d in a]),
            torch.tensor([d['bbox'] for d in b]),
            is_aligned=True)
        assert bool((ious > 0.99).all()), ious
        np.testing.assert_allclose([d['score'] for d in a],
                                   [d['score'] for d in b],
                                   atol=1e-4)


def test_the_session_runs_with_the_decode_gate_closed(models, tmp_path):
    """Every session.run of a video run happens with FrameDetector.gate
    closed (the decode worker then waits), and the gate is open after."""
    from lowlight.apis import VideoInferencer
    config, _, model_file = models
    inferencer = VideoInferencer(
        config, model_file, score_thr=0.0, backend='onnxruntime')
    session, seen = inferencer.model.session, []

    class RecordingSession:

        def __getattr__(self, name):
            return getattr(session, name)

        def run(self, *args, **kwargs):
            seen.append(inferencer.gate.wait_open(timeout=0))
            return session.run(*args, **kwargs)

    inferencer.model.session = RecordingSession()
    clip = make_video(tmp_path / 'clip.mp4', FRAMES, SIZE)
    inferencer.batch_size = 2
    summary = inferencer.run([str(clip)], tmp_path / 'out', progress=False)
    assert summary['frames'] == FRAMES
    assert len(seen) >= FRAMES // 2 and not any(seen)
    assert inferencer.gate.wait_open(timeout=0)


def test_two_streams_share_the_session_on_one_thread_each(models, tmp_path):
    """--streams 2: the session is rebuilt on torch threads / 2 intra-op
    threads, the decode gate stays open, and the detections are those of
    one stream."""
    from lowlight.apis import VideoInferencer
    config, _, model_file = models
    torch.set_num_threads(2)  # the autouse fixture restores the count
    inferencer = VideoInferencer(
        config, model_file, score_thr=0.0, backend='onnxruntime', streams=2)
    options = inferencer.model.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert 'run_context' not in vars(inferencer.model)  # gate open
    clip = make_video(tmp_path / 'in' / 'clip.mp4', FRAMES, SIZE)
    for name, extra in (('one', ()), ('two', ('--streams', '2'))):
        assert _infer(config, model_file, [str(clip)], tmp_path / name,
                      *extra) == 0
    _assert_same_detections(
        read_jsonl(tmp_path / 'one' / 'clip.mp4' / 'detections.jsonl'),
        read_jsonl(tmp_path / 'two' / 'clip.mp4' / 'detections.jsonl'))


def test_onnxruntime_matches_pytorch_saves_video_and_resumes(models, tmp_path):
    config, checkpoint, model_file = models
    clip = make_video(tmp_path / 'in' / 'clip.mp4', FRAMES, SIZE)
    assert _infer(
        config, checkpoint, [str(clip)], tmp_path / 'pt',
        backend='pytorch') == 0
    out = tmp_path / 'ort'
    assert _infer(config, model_file, [str(clip)], out, '--save-video',
                  '--providers', 'CPUExecutionProvider') == 0
    jsonl = out / 'clip.mp4' / 'detections.jsonl'
    _assert_same_detections(
        read_jsonl(tmp_path / 'pt' / 'clip.mp4' / 'detections.jsonl'),
        read_jsonl(jsonl))
    annotated = read_frames(out / 'clip.mp4' / 'annotated.mp4')
    assert len(annotated) == FRAMES
    assert annotated[0].shape == (SIZE[1], SIZE[0], 3)
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest_statuses(manifest) == {'clip.mp4': 'done'}

    before = jsonl.stat().st_mtime_ns
    assert _infer(config, model_file, [str(clip)], out, '--save-video') == 0
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest_statuses(manifest) == {'clip.mp4': 'skipped'}
    assert jsonl.stat().st_mtime_ns == before


def test_corrupt_video_is_skipped_others_finish(models, tmp_path, capsys):
    config, _, model_file = models
    make_video(tmp_path / 'in' / 'a.mp4', 3, SIZE)
    (tmp_path / 'in' / 'bad.mp4').write_bytes(b'\x00garbage' * 100)
    make_video(tmp_path / 'in' / 'c.mp4', 3, SIZE)
    out = tmp_path / 'out'
    assert _infer(config, model_file, [str(tmp_path / 'in')], out) == 1
    assert 'bad.mp4' in capsys.readouterr().err
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest_statuses(manifest) == {
        'in/a.mp4': 'done',
        'in/bad.mp4': 'failed',
        'in/c.mp4': 'done'
    }
    for name in ('a.mp4', 'c.mp4'):
        assert len(read_jsonl(out / 'in' / name / 'detections.jsonl')) == 3


def test_bad_model_files_stop_with_one_message(models, tmp_path, capsys):
    config, checkpoint, model_file = models
    clip = str(make_video(tmp_path / 'clip.mp4', 2, SIZE))
    truncated = tmp_path / 'truncated.onnx'
    truncated.write_bytes(open(model_file, 'rb').read()[:4000])
    cases = [
        ([config, str(truncated)], 'onnxruntime', 'truncated.onnx'),
        ([
            config, model_file, '--cfg-options',
            'model.bbox_head.num_classes=2'
        ], 'onnxruntime', 'exported for 3 classes'),
        ([config, model_file], 'pytorch', 'tiny.onnx is an exported ONNX'),
        ([config, checkpoint], 'onnxruntime', 'tiny_yolov3.pth is not an'),
        ([config, model_file, '--providers', 'NoSuchExecutionProvider'],
         'onnxruntime', "['NoSuchExecutionProvider'] not available"),
        ([config, checkpoint, '--providers', 'CPUExecutionProvider'],
         'pytorch', 'execution providers are an onnxruntime setting'),
    ]
    for i, (model_args, backend, message) in enumerate(cases):
        out = tmp_path / f'out{i}'
        code = load_tool('infer_video').main([
            *model_args[:2], clip, '--out-dir',
            str(out), '--no-progress', '--backend', backend, *model_args[2:]
        ])
        err = capsys.readouterr().err
        assert code == 2, err
        assert message in err and 'Traceback' not in err
        assert err.strip().count('\n') == 0, err  # one line
        assert not (out / 'manifest.json').exists()

    # as a process: the exit status and nothing but the message
    done = subprocess.run([
        sys.executable,
        os.path.join(REPO, 'tools', 'infer_video.py'), config,
        str(truncated), clip, '--out-dir',
        str(tmp_path / 'proc'), '--backend', 'onnxruntime', '--no-progress'
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO,
                          env=dict(os.environ, OMP_NUM_THREADS='1'),
                          timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(
        f'error: {truncated} is not a readable ONNX model')
    assert 'Traceback' not in done.stderr
