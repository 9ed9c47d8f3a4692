"""One run of the comparison: train, select on val, test and score the
decomposition, each step a ``tools/`` command in a subprocess; or a
test-only run of a reference row.

A run's AP comes from the breakdown JSON (``lighting_eval_test.json``) that
:class:`~lowlight.evaluation.LightingAwareVOCMetric` writes into the test
work dir; its decomposition scores from the JSON that
``tools/analysis_tools/decomposition_stats.py`` writes. Console output is
only copied to the run's logs and read for the progress display.
"""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.registry import METRICS
from mmengine.config import Config

from lowlight.engine import load_checkpoint_safely
from lowlight.evaluation import LightingAwareVOCMetric
from lowlight.utils import atomic_path
from .variants import REFERENCES, REPO_ROOT, merged_config, schedule_options

# "Epoch(train)  [3][ 20/25]" in mmengine's log lines: progress only.
_PROGRESS = re.compile(
    r'Epoch\((train|val|test)\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]')


def run_folder(work_dir: str, name: str, seed: int) -> str:
    """The folder of the run of variant (or reference row) ``name`` with
    ``seed``; it is finished when it holds ``result.json``."""
    return osp.join(work_dir, name, f'seed{seed}')


def load_result(work_dir: str, name: str, seed: int) -> Optional[Dict]:
    """The result dict of a finished run, or None."""
    path = osp.join(run_folder(work_dir, name, seed), 'result.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_val_metrics(cfg: Config, train_dir: str) -> Dict[str, float]:
    """The metrics of the last validation of the training in
    ``train_dir`` (the checkpoint tested, unless a best one was saved); {}
    when it validated with no lighting breakdown."""
    try:
        return read_test_metrics(cfg, train_dir, 'val_evaluator')
    except (FileNotFoundError, ValueError):
        return {}


def run_logged(cmd: List[str],
               log_path: str,
               on_progress: Callable[[str], None],
               env: Optional[Dict[str, str]] = None) -> None:
    """Run ``cmd`` from the repository root, copying its output to
    ``log_path`` and passing its mmengine progress
    (``'train epoch 3 iter 20/50'``) to ``on_progress``.

    Raises:
        RuntimeError: if the command fails, with the end of its log.
    """
    env = dict(env or os.environ, PYTHONUNBUFFERED='1')
    with open(log_path, 'a') as log:
        log.write('$ ' + ' '.join(cmd) + '\n')
        log.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True)
        tail = []
        for line in proc.stdout:
            log.write(line)
            tail = (tail + [line])[-30:]
            match = _PROGRESS.search(line)
            if match:
                mode, epoch, it, total = match.groups()
                on_progress(f'{mode} epoch {epoch} iter {it}/{total}')
        proc.wait()
    if proc.returncode:
        raise RuntimeError(
            f'command failed (exit {proc.returncode}), see {log_path}:\n'
            f'  {" ".join(cmd)}\n' + ''.join(tail))


def select_checkpoint(train_dir: str) -> str:
    """The checkpoint to test: best on the val split if saved, else last.

    Raises:
        FileNotFoundError: when training left no checkpoint.
    """
    best = sorted(
        glob.glob(osp.join(train_dir, 'best_*.pth')), key=osp.getmtime)
    if best:
        return best[-1]
    last = osp.join(train_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            path = f.read().strip()
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'no checkpoint found in {train_dir}')


def lighting_eval_file(
        cfg: Config,
        test_dir: str,
        evaluator_key: str = 'test_evaluator') -> Tuple[str, str]:
    """Where the evaluator ``evaluator_key``'s :class:`LightingAwareVOCMetric`
    of ``cfg`` writes its breakdown when ``tools/test.py`` (or, for
    ``'val_evaluator'``, ``tools/train.py``) runs with ``--work-dir
    test_dir``, and the prefix of its metric keys.

    The file is ``out_dir/out_name`` as the metric is configured; an
    ``out_dir`` left at None is the work dir (``LowLightRunner`` hands it
    over); a relative one is taken from the repository root.

    Raises:
        ValueError: if the evaluator has no such metric.
    """
    evaluator = cfg.get(evaluator_key)
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    if not isinstance(evaluator, (list, tuple)):
        evaluator = [evaluator]
    for metric_cfg in evaluator:
        metric_type = (metric_cfg or {}).get('type')
        if isinstance(metric_type, str):
            metric_type = METRICS.get(metric_type)
        if isinstance(metric_type, type) and issubclass(
                metric_type, LightingAwareVOCMetric):
            metric = METRICS.build(metric_cfg)
            out_dir = test_dir if metric.out_dir is None else osp.join(
                REPO_ROOT, metric.out_dir)
            return osp.join(out_dir, metric.out_name), metric.prefix
    raise ValueError(f'the {evaluator_key} has no LightingAwareVOCMetric, '
                     'whose breakdown file gives the AP of a run')


def read_test_metrics(
        cfg: Config,
        test_dir: str,
        evaluator_key: str = 'test_evaluator') -> Dict[str, float]:
    """The metrics of the test run in ``test_dir`` (of the last validation
    of a training in it, with ``'val_evaluator'``), read from the breakdown
    file of its :class:`LightingAwareVOCMetric` (:func:`lighting_eval_file`)
    under the keys the evaluator reports them with (``voc/mAP``,
    ``voc/AP50_light_<Name>``, ...).

    Raises:
        FileNotFoundError: when the file does not exist.
    """
    path, prefix = lighting_eval_file(cfg, test_dir, evaluator_key)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no lighting breakdown {path}: the run in '
                                f'{test_dir} wrote none')
    with open(path) as f:
        metrics = json.load(f)['metrics']
    return {
        (f'{prefix}/{key}' if prefix else key): value
        for key, value in metrics.items()
    }


def test_command(python: str, config: str, checkpoint: str, test_dir: str,
                 options: Sequence[str]) -> List[str]:
    """The ``tools/test.py`` command line of a run."""
    return [
        python, 'tools/test.py', config, checkpoint, '--work-dir', test_dir,
        '--cfg-options', *options
    ]


def run_test(python: str,
             config: str,
             checkpoint: str,
             test_dir: str,
             options: Sequence[str],
             log_path: str,
             on_progress: Callable[[str], None],
             env: Optional[Dict[str, str]] = None) -> Dict[str, float]:
    """``tools/test.py`` of ``checkpoint`` into ``test_dir``; returns its
    metrics (:func:`read_test_metrics`). A breakdown file left by an
    earlier, interrupted test is removed first, so it is never read."""
    cfg = merged_config(config, options)
    stale, _ = lighting_eval_file(cfg, test_dir)
    if osp.isfile(stale):
        os.remove(stale)
    run_logged(
        test_command(python, config, checkpoint, test_dir, options), log_path,
        on_progress, env)
    return read_test_metrics(cfg, test_dir)


def run_one(python: str,
            config: str,
            run_dir: str,
            seed: int,
            epochs: Optional[int],
            cfg_options: Sequence[str],
            on_progress: Callable[[str], None],
            env: Optional[Dict[str, str]] = None,
            dry_run: bool = False) -> Optional[Dict]:
    """Train (resuming from the last checkpoint of an interrupted
    training), select on val, test; return the per-run result dict
    (None in a dry run, which prints the commands)."""
    train_dir = osp.join(run_dir, 'train')
    test_dir = osp.join(run_dir, 'test')
    options = [f'randomness.seed={seed}'] + list(cfg_options)
    train_options = list(options)
    if epochs:
        train_options += schedule_options(config, epochs)
    train_cmd = [
        python, 'tools/train.py', config, '--work-dir', train_dir,
        '--cfg-options', *train_options
    ]
    if osp.isfile(osp.join(train_dir, 'last_checkpoint')):
        train_cmd.append('--resume')
    if dry_run:
        print(' '.join(train_cmd))
        print(' '.join(
            test_command(python, config, '<checkpoint>', test_dir, options)))
        return None
    os.makedirs(run_dir, exist_ok=True)
    tic = time.time()
    run_logged(train_cmd, osp.join(run_dir, 'train.log'), on_progress, env)
    train_s = time.time() - tic
    checkpoint = select_checkpoint(train_dir)
    tic = time.time()
    metrics = run_test(python, config, checkpoint, test_dir, options,
                       osp.join(run_dir, 'test.log'), on_progress, env)
    test_s = time.time() - tic
    return dict(
        config=config,
        seed=seed,
        epochs=epochs,
        cfg_options=list(cfg_options),
        checkpoint=osp.relpath(checkpoint, run_dir),
        train_s=train_s,
        test_s=test_s,
        metrics=metrics,
        val_metrics=read_val_metrics(
            merged_config(config, train_options), train_dir),
        decomposition=score_decomposition(python, config, checkpoint, run_dir,
                                          options, env))


def score_decomposition(
        python: str,
        config: str,
        checkpoint: str,
        run_dir: str,
        options: Sequence[str],
        env: Optional[Dict[str, str]] = None) -> Optional[Dict]:
    """The decomposition score of a run's enhancer over the test split
    (``tools/analysis_tools/decomposition_stats.py``), or None for a
    variant without an enhancer.

    Returns:
        dict | None: the statistics of all test images, with
        :data:`~lowlight.evaluation.SCORE_NAMES` when the split has true
        illumination maps.
    """
    if merged_config(config, options).model.get('mode') == 'none':
        return None
    out = osp.join(run_dir, 'decomposition.json')
    run_logged([
        python, 'tools/analysis_tools/decomposition_stats.py', config,
        checkpoint, '--split', 'test', '--num-images', '0', '--out', out,
        '--cfg-options', *options
    ], osp.join(run_dir, 'decomposition.log'), lambda _: None, env)
    with open(out) as f:
        return json.load(f)['groups']['all']


def enhancer_checkpoint(work_dir: str,
                        source: str,
                        seed: int,
                        dry_run: bool = False) -> str:
    """The checkpoint tested in the finished run ``source``/``seed``.

    Raises:
        FileNotFoundError: when that run has not finished.
    """
    folder = run_folder(work_dir, source, seed)
    result = load_result(work_dir, source, seed)
    if result is None:
        if dry_run:
            return f'<checkpoint of {source} seed {seed}>'
        raise FileNotFoundError(
            f'{osp.join(folder, "result.json")} is missing: the {source} run '
            f'of seed {seed} must finish first (its enhancer is reused)')
    return osp.join(folder, result['checkpoint'])


def merge_enhancer(detector_checkpoint: str, enhancer_checkpoint_file: str,
                   out: str) -> str:
    """Write ``out``: the weights of ``detector_checkpoint`` with the
    ``enhancer.*`` tensors of ``enhancer_checkpoint_file`` (both loaded
    weights-only)."""
    detector = load_checkpoint_safely(detector_checkpoint)['state_dict']
    enhancer = load_checkpoint_safely(enhancer_checkpoint_file)['state_dict']
    state = {
        k: v
        for k, v in detector.items() if not k.startswith('enhancer.')
    }
    state.update({
        k: v
        for k, v in enhancer.items() if k.startswith('enhancer.')
    })
    with atomic_path(out, '.pth') as tmp:
        torch.save(dict(state_dict=state), tmp)
    return out


def run_reference(python: str,
                  name: str,
                  seed: int,
                  configs: Dict[str, str],
                  work_dir: str,
                  cfg_options: Sequence[str],
                  on_progress: Callable[[str], None],
                  env: Optional[Dict[str, str]] = None,
                  dry_run: bool = False) -> Optional[Dict]:
    """Test-only run of reference row ``name`` for ``seed``; returns its
    result dict (as :func:`run_one`; None in a dry run, which prints the
    command)."""
    _, tested, needs = REFERENCES[name]
    config = configs[tested]
    folder = run_folder(work_dir, name, seed)
    options = [f'randomness.seed={seed}'] + list(cfg_options)
    cfg = merged_config(config, cfg_options)
    if name == 'day_upper_bound':
        checkpoint = enhancer_checkpoint(work_dir, needs, seed, dry_run)
        day_root = osp.join(cfg.test_dataloader.dataset.data_root, 'day', '')
        options.append(f'test_dataloader.dataset.data_root={day_root}')
    elif name == 'zero_shot_preprocess':
        checkpoint = osp.join(folder, 'pretrained_with_enhancer.pth')
        if not dry_run:
            os.makedirs(folder, exist_ok=True)
            merge_enhancer(
                osp.join(REPO_ROOT, cfg.load_from),
                enhancer_checkpoint(work_dir, needs, seed), checkpoint)
    else:
        checkpoint = osp.join(REPO_ROOT, cfg.load_from)
    test_dir = osp.join(folder, 'test')
    if dry_run:
        print(' '.join(
            test_command(python, config, checkpoint, test_dir, options)))
        return None
    os.makedirs(folder, exist_ok=True)
    tic = time.time()
    metrics = run_test(python, config, checkpoint, test_dir, options,
                       osp.join(folder, 'test.log'), on_progress, env)
    return dict(
        config=config,
        seed=seed,
        epochs=0,
        cfg_options=list(cfg_options),
        checkpoint=osp.relpath(checkpoint, folder),
        train_s=0.0,
        test_s=time.time() - tic,
        metrics=metrics)
