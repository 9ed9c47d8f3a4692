"""tools/infer_video.py end to end: exit codes, and resume after SIGKILL."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tool_loader import load_tool

from lowlight.testing import make_detector, make_video, read_jsonl

REPO = Path(__file__).parents[2]
TOOL = REPO / 'tools' / 'infer_video.py'

# Runs the tool in a fresh process and kills that process with SIGKILL once
# KILL_AFTER frames have been written (in the middle of the second video).
KILLER = """
import os, runpy, signal, sys
from lowlight.apis.video import outputs
write, written = outputs.VideoOutputs.write, []
def write_then_die(self, result):
    write(self, result)
    written.append(1)
    if len(written) == KILL_AFTER:
        self._jsonl.flush()
        os.kill(os.getpid(), signal.SIGKILL)
outputs.VideoOutputs.write = write_then_die
sys.argv = [TOOL] + ARGS
runpy.run_path(TOOL, run_name='__main__')
"""


@pytest.fixture(scope='module')
def detector(tmp_path_factory):
    return make_detector(tmp_path_factory.mktemp('model'))


# tiny models run far faster on one thread on a shared 2-core machine
ENV = dict(os.environ, OMP_NUM_THREADS='1')


def _run(command):
    return subprocess.run(
        command,
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600)


def _tool(args):
    return _run([sys.executable, str(TOOL)] + args)


def test_cli_exit_code_and_manifest(detector, tmp_path):
    make_video(tmp_path / 'in' / 'good.mp4', num_frames=4)
    (tmp_path / 'in' / 'bad.mp4').write_bytes(b'\x00garbage' * 100)
    out = tmp_path / 'out'
    result = _tool([
        *detector,
        str(tmp_path / 'in'), '--out-dir',
        str(out), '--score-thr', '0', '--no-progress'
    ])
    assert result.returncode == 1, result.stderr
    assert 'bad.mp4' in result.stderr
    assert 'cannot open the video' in result.stderr
    manifest = json.loads((out / 'manifest.json').read_text())
    assert {
        e['output']: e['status']
        for e in manifest['inputs']
    } == {
        'in/bad.mp4': 'failed',
        'in/good.mp4': 'done'
    }
    assert len(read_jsonl(out / 'in' / 'good.mp4' / 'detections.jsonl')) == 4


def test_cli_bad_arguments_exit_code_2(detector, tmp_path, capsys):
    main = load_tool('infer_video').main
    out = str(tmp_path / 'out')
    assert main([*detector, str(tmp_path / 'missing'), '--out-dir', out]) == 2
    assert 'input not found' in capsys.readouterr().err
    make_video(tmp_path / 'a.mp4', num_frames=2)
    args = [*detector, str(tmp_path / 'a.mp4'), '--out-dir', out]
    assert main(args + ['--shard', '2/2']) == 2
    assert 'index is 0-based' in capsys.readouterr().err
    assert main(args + ['--stride', '0', '--no-progress']) == 2
    assert main(args + ['--max-frames', '1', '--no-progress']) == 0


def test_resume_after_sigkill_matches_uninterrupted_run(detector, tmp_path):
    from lowlight.apis import infer_videos

    for name in ('a', 'b', 'c'):
        make_video(tmp_path / 'in' / f'{name}.mp4', num_frames=8)
    args = [
        *detector,
        str(tmp_path / 'in'), '--score-thr', '0', '--save-video',
        '--batch-size', '2', '--no-progress'
    ]
    killed = tmp_path / 'killed'
    script = KILLER.replace('KILL_AFTER', '12').replace(
        'TOOL', repr(str(TOOL))).replace(
            'ARGS', repr(args + ['--out-dir', str(killed)]))
    result = _run([sys.executable, '-c', script])
    assert result.returncode == -signal.SIGKILL, result.stderr

    # a.mp4 finished; b.mp4 was cut after 4 frames: only temporary names
    assert (killed / 'in' / 'a.mp4' / 'status.json').exists()
    b_dir = killed / 'in' / 'b.mp4'
    assert not (b_dir / 'detections.jsonl').exists()
    assert not (b_dir / 'annotated.mp4').exists()
    assert len((b_dir / 'detections.part.jsonl').read_text().splitlines()) \
        == 4
    manifest = json.loads((killed / 'manifest.json').read_text())
    assert [e['status']
            for e in manifest['inputs']] == ['done', 'pending', 'pending']

    common = dict(
        device='cpu',
        batch_size=2,
        score_thr=0.0,
        save_video=True,
        progress=False)
    summary = infer_videos(detector[0], detector[1], [str(tmp_path / 'in')],
                           killed, **common)
    assert summary['skipped'] == 1 and summary['done'] == 2
    assert not list(killed.rglob('*.part.*'))
    reference = tmp_path / 'reference'
    infer_videos(detector[0], detector[1], [str(tmp_path / 'in')], reference,
                 **common)
    for name in ('a', 'b', 'c'):
        rel = Path('in') / f'{name}.mp4'
        assert (killed / rel / 'detections.jsonl').read_bytes() == \
            (reference / rel / 'detections.jsonl').read_bytes()
        assert (killed / rel / 'annotated.mp4').stat().st_size == \
            (reference / rel / 'annotated.mp4').stat().st_size
