"""tools/dist_train.sh and dist_test.sh: two CPU processes (gloo)."""
import os
import os.path as osp
import re
import socket
import subprocess
import sys

from tiny_loader_options import tiny_loader_options

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'configs', 't2',
                  't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run(script, args):
    env = dict(
        os.environ,
        PORT=str(free_port()),
        PYTHON=sys.executable,
        OMP_NUM_THREADS='1')
    return subprocess.run(
        ['bash', osp.join(REPO, 'tools', script)] + args,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=400)


def tiny_options(data_root):
    return [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1'
    ] + tiny_loader_options(data_root, 96)


def test_two_cpu_processes_train_and_test(tiny_night_sample, tmp_path):
    work_dir = tmp_path / 'work'
    result = run('dist_train.sh',
                 [SAMPLE, '2', '--work-dir',
                  str(work_dir), '--cfg-options'] +
                 tiny_options(tiny_night_sample))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]  # torchrun: both ranks ok
    assert (work_dir / 'epoch_1.pth').exists()
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log
    # 4 images, 2 ranks x batch 2: one iteration per epoch, not two
    assert re.search(r'Epoch\(train\) \[1\]\[1/1\]', log)
    assert 'Epoch(val) [1][1/1]' in log  # 2 val images over 2 ranks

    result = run('dist_test.sh', [
        SAMPLE,
        str(work_dir / 'epoch_1.pth'), '2', '--work-dir',
        str(tmp_path / 'test'), '--cfg-options'
    ] + tiny_options(tiny_night_sample))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert 'Epoch(test) [1/1]' in output


def test_usage_errors():
    result = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh')],
        capture_output=True,
        text=True)
    assert result.returncode == 2 and 'usage:' in result.stderr
