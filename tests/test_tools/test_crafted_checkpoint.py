"""Every tool that reads a checkpoint refuses a crafted one the same way.

The checkpoint's unpickling would create a marker file. Each entry point
must leave the marker absent, fail, and end with one message that names the
file, what it references and the safe way out, never with a traceback or
torch's advice to load with ``weights_only=False``.
"""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from tiny_loader_options import tiny_loader_options
from tool_loader import load_tool

from lowlight.testing import write_crafted_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'configs', 't2',
                  't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')
TOOLS = osp.join(REPO, 'tools')


@pytest.fixture
def crafted(tmp_path):
    """A crafted checkpoint, the marker it would create, and an image."""
    marker = tmp_path / 'pwned'
    evil = write_crafted_checkpoint(tmp_path / 'evil.pth', marker)
    frames = tmp_path / 'frames'
    frames.mkdir()
    image = str(frames / '000.png')
    cv2.imwrite(image, np.full((48, 64, 3), 40, np.uint8))
    return evil, marker, image


def tool_args(name, evil, image, data_root, tmp_path):
    """The command line of tool ``name`` on checkpoint ``evil``."""
    options = ['--cfg-options'] + tiny_loader_options(data_root, 64)
    work_dir = ['--work-dir', str(tmp_path / 'work')]
    return {
        'test.py': [SAMPLE, evil] + work_dir + options,
        'train.py --resume': [SAMPLE, '--resume', evil] + work_dir + options,
        'train.py load_from':
        [SAMPLE] + work_dir + options + [f'load_from={evil}'],
        'infer_video.py': [
            SAMPLE, evil,
            osp.dirname(image), '--out-dir',
            str(tmp_path / 'video'), '--no-progress'
        ],
        'analysis_tools/benchmark.py': [
            SAMPLE, '--checkpoint', evil, '--device', 'cpu', '--skip-flops',
            '--shape', '64', '64'
        ],
        'analysis_tools/vis_decomposition.py':
        [SAMPLE, evil, image, '--out-dir',
         str(tmp_path / 'vis')],
        'analysis_tools/decomposition_stats.py': [SAMPLE, evil] + options,
        'deployment/export_onnx.py': [
            SAMPLE, evil, '--out',
            str(tmp_path / 'export' / 'model.onnx'), '--shape', '64', '64'
        ],
        'deployment/check_parity.py':
        [SAMPLE, evil, str(tmp_path / 'model.onnx')] + options,
        'analysis_tools/video_throughput.py': [
            SAMPLE, evil, '--video',
            str(tmp_path / 'clip.mp4'), '--generate', '--size', '64', '48',
            '--seconds', '0.3', '--fps', '10'
        ],
    }[name]


def assert_one_safe_message(message, evil):
    assert evil in message
    assert 'io.open' in message  # what the checkpoint references
    assert 're-save its tensors' in message  # the safe way out
    assert 'Traceback' not in message
    assert 'weights_only=False' not in message
    assert 'set to `False`' not in message


@pytest.mark.parametrize('name', [
    'test.py', 'train.py --resume', 'train.py load_from', 'infer_video.py',
    'analysis_tools/benchmark.py', 'analysis_tools/vis_decomposition.py',
    'analysis_tools/decomposition_stats.py',
    'analysis_tools/video_throughput.py', 'deployment/export_onnx.py',
    'deployment/check_parity.py'
])
def test_tool_refuses_crafted_checkpoint(name, crafted, tiny_night_sample,
                                         tmp_path, capsys):
    evil, marker, image = crafted
    main = load_tool(name.split()[0][:-len('.py')]).main
    argv = tool_args(name, evil, image, tiny_night_sample, tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    assert not marker.exists()
    err = capsys.readouterr().err
    if isinstance(code, str):  # SystemExit(message): Python prints it
        assert code.startswith('error: Refusing to load checkpoint')
        message = code
    else:
        assert code not in (0, None)
        message = err
    assert_one_safe_message(message, evil)
    assert 'Traceback' not in err
    if name == 'deployment/export_onnx.py':  # nothing written, no temp file
        assert not (tmp_path / 'export').exists() or not os.listdir(
            tmp_path / 'export')


def test_tool_process_ends_with_one_message(crafted, tiny_night_sample,
                                            tmp_path):
    evil, marker, image = crafted
    argv = tool_args('test.py', evil, image, tiny_night_sample, tmp_path)
    done = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'test.py')] + argv,
        capture_output=True,
        text=True,
        cwd=REPO)
    assert done.returncode == 1
    assert not marker.exists()
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith('error: Refusing to load checkpoint')
    assert_one_safe_message(done.stderr, evil)
