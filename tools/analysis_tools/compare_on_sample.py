"""Train and evaluate T2, its baselines and its ablations on the embedded
night sample, with the same data and schedule, over several seeds.

Variants (``--variants`` picks a subset, ``--variant NAME=CONFIG`` points a
variant at another config):

1. ``plain``: the detector alone;
2. ``preprocess``: the detector behind a frozen enhancer used as plain
   pre-processing (no illumination guidance, no aggregation);
3. ``t2``: T2, i.e. decomposition + illumination guidance + aggregation;
4. ``t2_no_guidance``: T2 without illumination guidance;
5. ``t2_no_aggregation``: T2 without semantic aggregation.

The embedded night sample (``data/night_sample``) is generated and
converted first when its annotation files are missing; any other missing
annotation file is an error naming it. Every run (variant x seed) calls
``tools/train.py`` and then
``tools/test.py`` in a subprocess, with ``--cfg-options randomness.seed=S``
plus any ``--cfg-options`` given here. A schedule length (``--epochs``)
shortens the whole schedule: the epochs, a validation interval equal to the
schedule, and the end of every epoch-based LR scheduler that ended with it
(a cosine decay over 8 epochs cut at 3 would never decay). ``--jobs N`` runs
N runs at a time, each with ``OMP_NUM_THREADS`` = cores / N unless set
(for machines where one small run cannot use every core). Runs go seed by
seed, so an interrupted comparison has whole seeds. Model selection uses the val split only: the
checkpoint tested is the best one on the val split when the config saves
one (``save_best``), else the last one; the test split is evaluated once
per run, at the end. A run is finished when its ``result.json`` exists;
finished runs are never redone, and an interrupted training resumes from
its last checkpoint. The summary (mean and sample standard deviation of
AP@0.5 overall and per lighting type) is printed and written to
``results.md`` and ``results.json`` in the work dir, after every finished
run (so a partial comparison still has a table).

Protocols (``--protocol``): ``pretrained`` (the default, the setting of
every published low-light detector) fine-tunes every variant from the
configs' ``load_from``, the plain detector pretrained on the day corpus
(``configs/pretrain/``); ``scratch`` trains every variant from random
weights (``load_from=None``). Each protocol has its own work dir. The pretrained protocol adds three
reference rows, test-only runs made after the variants of a seed:
``zero_shot`` (the pretrained detector on the night test split, no
fine-tuning), ``zero_shot_preprocess`` (the same behind the enhancer that T2
learned with that seed) and ``day_upper_bound`` (the fine-tuned plain
detector on the day twins of the test images: how much of the gap is the
darkness).

Examples::

    # first look: one seed, short schedule
    python tools/analysis_tools/compare_on_sample.py --quick --jobs 2
    # the full comparison: 3 seeds, the configs' schedule (measured times:
    # configs/t2/README.md)
    python tools/analysis_tools/compare_on_sample.py --jobs 2
"""
import argparse
import concurrent.futures
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import threading
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction

from lowlight.datasets.annotation_files import \
    annotation_files as dataset_annotation_files
from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import generate_night_sample
from lowlight.engine import load_checkpoint_safely
from lowlight.evaluation import SCORE_NAMES
from lowlight.utils import atomic_dump_json, atomic_path, atomic_write_text

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_SAMPLE = 'yolov3_mobilenetv2_1xb8-256-8e_night-sample.py'
# name -> (description, config relative to the repository root), in table
# order. All inherit the T2 sample config: same data, schedule and detector.
VARIANTS = {
    'plain': ('plain detector', f'configs/t2/ablations/plain_{_SAMPLE}'),
    'preprocess': ('frozen enhancer as pre-processing',
                   f'configs/t2/ablations/preprocess_{_SAMPLE}'),
    't2': ('T2 (decomposition + guidance + aggregation)',
           f'configs/t2/t2_{_SAMPLE}'),
    't2_no_guidance': ('T2 without illumination guidance',
                       f'configs/t2/ablations/t2-noguide_{_SAMPLE}'),
    't2_no_aggregation': ('T2 without semantic aggregation',
                          f'configs/t2/ablations/t2-noagg_{_SAMPLE}'),
}
# The pre-processing baseline's frozen enhancer is the one T2 learned with
# the same seed, so T2 runs first.
ENHANCER_FROM = {'preprocess': 't2'}
QUICK_EPOCHS = 3
PROTOCOLS = ('pretrained', 'scratch')
# Reference rows of the pretrained protocol: name -> (description, variant
# whose config is tested, variant whose run of the seed it needs).
REFERENCES = {
    'zero_shot': ('pretrained detector, no fine-tuning', 'plain', None),
    'zero_shot_preprocess': ('pretrained detector behind the T2 enhancer, '
                             'no fine-tuning', 'preprocess', 't2'),
    'day_upper_bound': ('fine-tuned plain detector on the day twins',
                        'plain', 'plain'),
}
# Where the configs read the embedded night sample; generated when missing.
NIGHT_SAMPLE_ROOT = osp.join(REPO_ROOT, 'data', 'night_sample')
# "Epoch(train)  [3][ 20/25]" in mmengine's log lines.
_PROGRESS = re.compile(
    r'Epoch\((train|val|test)\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Compare T2, its baselines and ablations on the '
        'embedded night sample (train + test, several seeds, resumable).')
    parser.add_argument(
        '--variants',
        nargs='+',
        choices=list(VARIANTS),
        default=list(VARIANTS),
        help='variants to run (default: all)')
    parser.add_argument(
        '--variant',
        action='append',
        default=[],
        metavar='NAME=CONFIG',
        help='use CONFIG for variant NAME (repeatable)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        help='seeds (default: 0 1 2; 0 with --quick)')
    parser.add_argument(
        '--epochs',
        type=int,
        help='training epochs (default: the configs\' schedule; '
        f'{QUICK_EPOCHS} with --quick)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help=f'one seed and {QUICK_EPOCHS} epochs: a first look')
    parser.add_argument(
        '--protocol',
        choices=PROTOCOLS,
        default='pretrained',
        help="'pretrained': fine-tune every variant from the configs' "
        "load_from (default); 'scratch': from random weights")
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs at a time (default 1); each gets cores / jobs threads')
    parser.add_argument(
        '--work-dir',
        help='where runs and the summary go (default: '
        'work_dirs/compare_on_sample[_quick])')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='passed to every train.py and test.py call')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print the commands without running them')
    args = parser.parse_args(argv)
    configs = {name: cfg for name, (_, cfg) in VARIANTS.items()}
    for item in args.variant:
        name, sep, config = item.partition('=')
        if not sep or name not in VARIANTS:
            parser.error(f'--variant {item!r}: expected NAME=CONFIG with '
                         f'NAME in {", ".join(VARIANTS)}')
        configs[name] = config
    args.configs = {name: configs[name] for name in args.variants}
    for name, source in ENHANCER_FROM.items():
        if name in args.configs and source not in args.configs:
            parser.error(f'variant {name} reuses the enhancer of variant '
                         f'{source}: add {source} to --variants')
    if args.jobs < 1:
        parser.error('--jobs must be >= 1')
    if args.seeds is None:
        args.seeds = [0] if args.quick else [0, 1, 2]
    if args.epochs is None and args.quick:
        args.epochs = QUICK_EPOCHS
    if args.work_dir is None:
        args.work_dir = osp.join(
            'work_dirs', f'compare_on_sample_{args.protocol}' +
            ('_quick' if args.quick else ''))
    if args.protocol == 'scratch':
        args.cfg_options = ['load_from=None'] + list(args.cfg_options)
    return args


def _hms(seconds):
    seconds = int(seconds)
    return f'{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}'


def _merged_config(config, cfg_options):
    """``config`` (relative to the repository root) after ``cfg_options``
    (``KEY=VALUE`` strings)."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    if cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--options', nargs='+', action=DictAction)
        cfg.merge_from_dict(
            parser.parse_args(['--options', *cfg_options]).options)
    return cfg


def annotation_files(config, cfg_options):
    """Absolute paths of the annotation files that ``config``'s train, val
    and test datasets read, after ``cfg_options`` (``KEY=VALUE`` strings);
    relative paths are taken from the repository root, as the runs do."""
    return [
        path for _, path in dataset_annotation_files(
            _merged_config(config, cfg_options), root=REPO_ROOT)
    ]


def prepare_data(configs, cfg_options, sample_root=NIGHT_SAMPLE_ROOT):
    """Make sure every annotation file the runs read exists: generate and
    convert the embedded night sample in ``sample_root`` when its files are
    the missing ones (as ``tools/run_main_job.sh`` does), so that a fresh
    clone needs no other step.

    Raises:
        FileNotFoundError: naming the config and the file, when a file
            outside ``sample_root`` is missing, or still missing after the
            generation.
    """
    absent = [(config, path) for config in configs
              for path in annotation_files(config, cfg_options)
              if not osp.isfile(path)]
    if absent and all(
            path.startswith(osp.join(osp.abspath(sample_root), ''))
            for _, path in absent):
        print(f'{absent[0][1]} is missing: generating the embedded night '
              f'sample in {sample_root} and converting it')
        generate_night_sample(sample_root, workers=os.cpu_count() or 1)
        convert_exdark(sample_root, sample_root)
        absent = [(config, path) for config, path in absent
                  if not osp.isfile(path)]
    if absent:
        raise FileNotFoundError('annotation file(s) not found: ' +
                                '; '.join(f'{path} (read by {config})'
                                          for config, path in absent))


def run_logged(cmd, log_path, on_progress, env=None):
    """Run ``cmd``, copying its output to ``log_path`` and passing its
    mmengine progress (``'train epoch 3 iter 20/50'``) to ``on_progress``.

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


class StatusLine:
    """One terminal line with the progress of every running run."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs = {}
        self._width = 0

    def set(self, run, text=None):
        """Show ``text`` for ``run``; None removes the run from the line."""
        with self._lock:
            if text is None:
                self._runs.pop(run, None)
            else:
                self._runs[run] = text
            line = ' | '.join(f'{k}: {v}' for k, v in self._runs.items())
            print('\r' + line.ljust(self._width), end='', flush=True)
            self._width = len(line)

    def print(self, text):
        """Print a whole line above the status line."""
        with self._lock:
            print('\r' + text.ljust(self._width), flush=True)
            self._width = 0


def schedule_options(config, epochs):
    """``--cfg-options`` that set a config's schedule to ``epochs``: the
    epoch count, a validation interval equal to the whole schedule, and the
    end of every epoch-based LR scheduler that ended with the schedule."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    options = [f'train_cfg.max_epochs={epochs}']
    old = cfg.get('train_cfg', {}).get('max_epochs')
    if old is None:
        return options
    if cfg.train_cfg.get('val_interval') == old:
        options.append(f'train_cfg.val_interval={epochs}')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = {'param_scheduler': schedulers}
    else:
        schedulers = {
            f'param_scheduler.{i}': sched
            for i, sched in enumerate(schedulers)
        }
    for key, sched in schedulers.items():
        if sched.get('by_epoch', True) and sched.get('end') == old:
            options.append(f'{key}.end={epochs}')
    return options


def select_checkpoint(train_dir):
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


def read_test_metrics(test_dir):
    """Metrics of the newest ``tools/test.py`` run in ``test_dir``: the JSON
    that mmengine's LoggerHook writes as ``<timestamp>/<timestamp>.json``.

    Raises:
        FileNotFoundError: when no such file exists.
    """
    found = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    found = [
        p for p in found
        if osp.basename(osp.dirname(p)) + '.json' == osp.basename(p)
    ]
    if not found:
        raise FileNotFoundError(f'no test metrics JSON in {test_dir}')
    with open(found[-1]) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def run_one(python,
            config,
            run_dir,
            seed,
            epochs,
            cfg_options,
            on_progress,
            env=None,
            dry_run=False):
    """Train, select on val, test; return the per-run result dict."""
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
        print(' '.join([
            python, 'tools/test.py', config, '<checkpoint>', '--work-dir',
            test_dir, '--cfg-options', *options
        ]))
        return None
    os.makedirs(run_dir, exist_ok=True)
    tic = time.time()
    run_logged(train_cmd, osp.join(run_dir, 'train.log'), on_progress, env)
    train_s = time.time() - tic
    checkpoint = select_checkpoint(train_dir)
    tic = time.time()
    run_logged([
        python, 'tools/test.py', config, checkpoint, '--work-dir', test_dir,
        '--cfg-options', *options
    ], osp.join(run_dir, 'test.log'), on_progress, env)
    test_s = time.time() - tic
    return dict(
        config=config,
        seed=seed,
        epochs=epochs,
        cfg_options=list(cfg_options),
        checkpoint=osp.relpath(checkpoint, run_dir),
        train_s=train_s,
        test_s=test_s,
        metrics=read_test_metrics(test_dir),
        decomposition=score_decomposition(python, config, checkpoint,
                                          run_dir, options, env))


def score_decomposition(python, config, checkpoint, run_dir, options,
                        env=None):
    """The decomposition score of a run's enhancer over the test split
    (``tools/analysis_tools/decomposition_stats.py``), or None for a
    variant without an enhancer.

    Returns:
        dict | None: the statistics of all test images, with
        :data:`SCORE_NAMES` when the split has true illumination maps.
    """
    if _merged_config(config, options).model.get('mode') == 'none':
        return None
    out = osp.join(run_dir, 'decomposition.json')
    run_logged([
        python, 'tools/analysis_tools/decomposition_stats.py', config,
        checkpoint, '--split', 'test', '--num-images', '0', '--out', out,
        '--cfg-options', *options
    ], osp.join(run_dir, 'decomposition.log'), lambda _: None, env)
    with open(out) as f:
        return json.load(f)['groups']['all']


def ap50_keys(metrics):
    """The overall AP@0.5 key and the per-lighting-type AP@0.5 keys of a
    ``LightingAwareVOCMetric`` result (``voc/mAP``,
    ``voc/AP50_light_<Name>``).

    Returns:
        tuple[str | None, dict]: overall key, lighting name -> key.
    """
    overall = [k for k in metrics if re.search(r'(^|/)mAP$', k)]
    lighting = {}
    for key in metrics:
        match = re.search(r'(?:^|/)AP50_light_(\w+)$', key)
        if match:
            lighting[match.group(1)] = key
    return (overall[0] if overall else None), lighting


def summarise(results, names, descriptions):
    """Mean and sample standard deviation of AP@0.5 per variant.

    Args:
        results (dict): variant -> list of per-run result dicts.
        names (list[str]): variants in table order.
        descriptions (dict): variant -> description.

    Returns:
        tuple[dict, str]: the summary and its markdown table.
    """
    summary, lighting_names = {}, []
    for name in names:
        runs = results.get(name, [])
        values = {}
        for run in runs:
            overall, lighting = ap50_keys(run['metrics'])
            if overall is not None:
                values.setdefault('overall',
                                  []).append(run['metrics'][overall])
            for light, key in lighting.items():
                values.setdefault(light, []).append(run['metrics'][key])
                if light not in lighting_names:
                    lighting_names.append(light)
        summary[name] = {
            col:
            dict(
                mean=float(np.mean(v)),
                sd=float(np.std(v, ddof=1)) if len(v) > 1 else None,
                n=len(v),
                values=v)
            for col, v in values.items()
        }
        summary[name]['seeds'] = [run['seed'] for run in runs]
        scored = [run['decomposition'] for run in runs
                  if 'log_corr' in (run.get('decomposition') or {})]
        if scored:
            summary[name]['decomposition'] = {
                score: float(np.mean([d[score] for d in scored]))
                for score in SCORE_NAMES
            }

    def cell(stats):
        if stats is None:
            return ''
        text = f'{100 * stats["mean"]:.1f}'
        if stats['sd'] is not None:
            text += f' ± {100 * stats["sd"]:.1f}'
        return text

    def scores(row):
        decomposition = row.get('decomposition')
        if decomposition is None:
            return ['', '']
        return [f'{decomposition["log_corr"]:+.2f}',
                f'{decomposition["smoothness"]:.2f}']

    cols = ['overall'] + lighting_names
    lines = [
        '| variant | seeds | ' +
        ' | '.join(['AP@0.5 overall'] +
                   [f'AP@0.5 {c}' for c in lighting_names]) +
        ' | corr(log L, log L*) | smoothness of L |',
        '|' + '---|' * (len(cols) + 4)
    ]
    for name in names:
        row = summary[name]
        lines.append(f'| {descriptions[name]} (`{name}`) | '
                     f'{len(row["seeds"])} | ' +
                     ' | '.join([cell(row.get(c)) for c in cols] +
                                scores(row)) + ' |')
    note = ('\nAP@0.5 in percent (VOC, area mode) on the night sample test '
            'split: mean ± sample standard deviation over the seeds. '
            'Decomposition scores (mean over the seeds, test split, '
            '`lowlight.evaluation.decomposition_score`): correlation of '
            'log L with the renderer\'s true log illumination (1 = follows '
            'the light) and gradient energy of L relative to the image '
            '(0 = flat, > 1 = an edge map).\n')
    return summary, '\n'.join(lines) + '\n' + note


def enhancer_checkpoint(work_dir, source, seed, dry_run=False):
    """The checkpoint tested in the finished run ``source``/``seed``.

    Raises:
        FileNotFoundError: when that run has not finished.
    """
    run_dir = osp.join(work_dir, source, f'seed{seed}')
    result_file = osp.join(run_dir, 'result.json')
    if not osp.isfile(result_file):
        if dry_run:
            return f'<checkpoint of {source} seed {seed}>'
        raise FileNotFoundError(
            f'{result_file} is missing: the {source} run of seed {seed} must '
            'finish first (its enhancer is reused)')
    with open(result_file) as f:
        return osp.join(run_dir, json.load(f)['checkpoint'])


def reference_names(configs):
    """The reference rows whose configs and prerequisite runs are among
    ``configs``' variants, in table order."""
    return [
        name for name, (_, tested, needs) in REFERENCES.items()
        if tested in configs and (needs is None or needs in configs)
    ]


def merge_enhancer(detector_checkpoint, enhancer_checkpoint_file, out):
    """Write ``out``: the weights of ``detector_checkpoint`` with the
    ``enhancer.*`` tensors of ``enhancer_checkpoint_file`` (both loaded
    weights-only)."""
    detector = load_checkpoint_safely(detector_checkpoint)['state_dict']
    enhancer = load_checkpoint_safely(enhancer_checkpoint_file)['state_dict']
    state = {k: v for k, v in detector.items() if not k.startswith(
        'enhancer.')}
    state.update({k: v for k, v in enhancer.items()
                  if k.startswith('enhancer.')})
    with atomic_path(out, '.pth') as tmp:
        torch.save(dict(state_dict=state), tmp)
    return out


def run_reference(python, name, seed, configs, work_dir, cfg_options,
                  on_progress, env=None, dry_run=False):
    """Test-only run of reference row ``name`` for ``seed``; returns its
    result dict (as :func:`run_one`)."""
    _, tested, needs = REFERENCES[name]
    config = configs[tested]
    run_dir = osp.join(work_dir, name, f'seed{seed}')
    options = [f'randomness.seed={seed}'] + list(cfg_options)
    cfg = _merged_config(config, cfg_options)
    if name == 'day_upper_bound':
        checkpoint = enhancer_checkpoint(work_dir, needs, seed, dry_run)
        day_root = osp.join(cfg.test_dataloader.dataset.data_root, 'day', '')
        options.append(f'test_dataloader.dataset.data_root={day_root}')
    elif name == 'zero_shot_preprocess':
        checkpoint = osp.join(run_dir, 'pretrained_with_enhancer.pth')
        if not dry_run:
            os.makedirs(run_dir, exist_ok=True)
            merge_enhancer(
                osp.join(REPO_ROOT, cfg.load_from),
                enhancer_checkpoint(work_dir, needs, seed), checkpoint)
    else:
        checkpoint = osp.join(REPO_ROOT, cfg.load_from)
    cmd = [
        python, 'tools/test.py', config, checkpoint, '--work-dir',
        osp.join(run_dir, 'test'), '--cfg-options', *options
    ]
    if dry_run:
        print(' '.join(cmd))
        return None
    os.makedirs(run_dir, exist_ok=True)
    tic = time.time()
    run_logged(cmd, osp.join(run_dir, 'test.log'), on_progress, env)
    return dict(config=config, seed=seed, epochs=0,
                cfg_options=list(cfg_options),
                checkpoint=osp.relpath(checkpoint, run_dir), train_s=0.0,
                test_s=time.time() - tic,
                metrics=read_test_metrics(osp.join(run_dir, 'test')))


def check_pretrained(configs, cfg_options):
    """Exit naming every variant whose config (after ``cfg_options``) has no
    ``load_from`` or whose ``load_from`` file is missing: under the
    pretrained protocol no variant may start from random weights."""
    problems = []
    for name, config in configs.items():
        load_from = _merged_config(config, cfg_options).get('load_from')
        if not load_from:
            problems.append(f'{name} ({config}) has no load_from')
        elif not osp.isfile(osp.join(REPO_ROOT, load_from)):
            problems.append(f'{name}: load_from {load_from} not found')
    if problems:
        sys.exit('--protocol pretrained: ' + '; '.join(problems) +
                 ' (use --protocol scratch to train from random weights)')


def run_order(names, seeds):
    """Runs seed by seed; within a seed, variants that reuse another
    variant's enhancer come last."""
    order = ([n for n in names if n not in ENHANCER_FROM] +
             [n for n in names if n in ENHANCER_FROM])
    return [(name, seed) for seed in seeds for name in order]


def per_seed_ap50(results):
    """``{variant: {seed: AP@0.5 in percent}}`` of the finished runs."""
    table = {}
    for name, runs in results.items():
        for run in runs:
            overall, _ = ap50_keys(run['metrics'])
            if overall is not None:
                table.setdefault(name, {})[str(run['seed'])] = (
                    100 * run['metrics'][overall])
    return table


def per_seed_decomposition(results):
    """``{variant: {seed: {score: value}}}`` of the finished runs whose
    decomposition was scored against the true illumination."""
    table = {}
    for name, runs in results.items():
        for run in runs:
            scored = run.get('decomposition') or {}
            if 'log_corr' in scored:
                table.setdefault(name, {})[str(run['seed'])] = {
                    score: scored[score]
                    for score in SCORE_NAMES
                }
    return table


def write_summary(results, names, args, argv, work_dir):
    """Summarise the finished runs into ``results.md`` and
    ``results.json``; return the summary and its table."""
    results = {
        name: sorted(runs, key=lambda run: run['seed'])
        for name, runs in results.items()
    }
    descriptions = {n: VARIANTS[n][0] for n in VARIANTS}
    descriptions.update({n: REFERENCES[n][0] for n in REFERENCES})
    summary, table = summarise(results, names, descriptions)
    command = 'python tools/analysis_tools/compare_on_sample.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    atomic_dump_json(
        dict(
            command=command,
            protocol=args.protocol,
            epochs=args.epochs,
            seeds=args.seeds,
            configs=args.configs,
            ap50=per_seed_ap50(results),
            decomposition=per_seed_decomposition(results),
            summary=summary),
        osp.join(work_dir, 'results.json'),
        indent=2)
    atomic_write_text(
        osp.join(work_dir, 'results.md'),
        f'Command: `{command.strip()}`\n\n{table}')
    return summary, table


def run_pending(todo, finished, jobs, start_run, on_done, label_of):
    """Run the (name, seed) pairs of ``todo`` in order, ``jobs`` at a time,
    with one status line of every running run's progress.

    A variant that reuses another variant's enhancer starts only once that
    run of its seed is in ``finished``, and is skipped if that run failed.

    Args:
        todo (list[tuple]): (name, seed) pairs to run.
        finished (set): (name, seed) pairs already done; runs that succeed
            are added.
        jobs (int): most runs at a time.
        start_run (callable): ``(name, seed, on_progress) -> result``; runs
            in a worker thread and raises when the run fails.
        on_done (callable): ``(name, seed, result)``, called in this thread
            after each successful run.
        label_of (callable): ``(name, seed) -> str`` for the status line.

    Returns:
        list: ((name, seed), reason) for each failed or skipped run.
    """
    status = StatusLine()
    start, done_now, failed = time.time(), 0, []
    pending, running = list(todo), {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        while pending or running:
            for name, seed in list(pending):
                source = (ENHANCER_FROM.get(name), seed)
                if len(running) == jobs:
                    break
                if source[0] is not None and source not in finished:
                    if any(f[0] == source for f in failed):
                        pending.remove((name, seed))
                        failed.append(((name, seed), f'needs {source[0]} '
                                       f'seed {seed}, which failed'))
                    continue
                pending.remove((name, seed))
                label = label_of(name, seed)
                eta = ('' if not done_now else ', ETA ' + _hms(
                    (time.time() - start) / done_now *
                    (len(pending) + len(running) + 1)))
                status.print(f'{label} (elapsed '
                             f'{_hms(time.time() - start)}{eta})')
                running[pool.submit(
                    start_run,
                    name,
                    seed,
                    lambda text, label=label: status.set(label, text))] = (
                        name, seed)
            if not running:
                break  # what is left waits for runs that failed
            done, _ = concurrent.futures.wait(
                running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                name, seed = running.pop(future)
                label = label_of(name, seed)
                status.set(label, None)
                try:
                    result = future.result()
                except Exception as e:
                    failed.append(((name, seed), str(e)))
                    status.print(f'{label} FAILED: {e}')
                    continue
                on_done(name, seed, result)
                finished.add((name, seed))
                done_now += 1
                overall, _ = ap50_keys(result['metrics'])
                status.print(
                    f'{label} done in '
                    f'{_hms(result["train_s"] + result["test_s"])}' +
                    (f': AP@0.5 {100 * result["metrics"][overall]:.1f}'
                     if overall else ''))
    return failed


def run_references(references, args, work_dir, results, finished, env,
                   on_done):
    """Run the missing reference rows, seed by seed, after the variants.

    Returns:
        list: ((name, seed), reason) for each failed or skipped row.
    """
    failed = []
    for seed in args.seeds:
        for name in references:
            result_file = osp.join(work_dir, name, f'seed{seed}',
                                   'result.json')
            if osp.isfile(result_file):
                with open(result_file) as f:
                    results.setdefault(name, []).append(json.load(f))
                continue
            needs = REFERENCES[name][2]
            if needs is not None and (needs, seed) not in finished:
                failed.append(((name, seed), f'needs the {needs} run'))
                continue
            print(f'reference {name} seed {seed}', flush=True)
            try:
                result = run_reference(sys.executable, name, seed,
                                       args.configs, work_dir,
                                       args.cfg_options, lambda _: None, env)
            except Exception as err:  # report, go on with the other rows
                failed.append(((name, seed), str(err)))
                print(f'reference {name} seed {seed} FAILED: {err}')
                continue
            on_done(name, seed, result)
    return failed


def main(argv=None):
    args = parse_args(argv)
    missing = [
        c for c in args.configs.values()
        if not osp.isfile(osp.join(REPO_ROOT, c))
    ]
    if missing:
        sys.exit('config(s) not found: ' + ', '.join(missing))
    if args.protocol == 'pretrained':
        check_pretrained(args.configs, args.cfg_options)
    if not args.dry_run:
        prepare_data(list(args.configs.values()), args.cfg_options)
    os.makedirs(args.work_dir, exist_ok=True)
    work_dir = osp.abspath(args.work_dir)
    names = list(args.configs)
    runs = run_order(names, args.seeds)
    results, todo, finished = {}, [], set()
    for name, seed in runs:
        result_file = osp.join(work_dir, name, f'seed{seed}', 'result.json')
        if osp.isfile(result_file):
            with open(result_file) as f:
                results.setdefault(name, []).append(json.load(f))
            finished.add((name, seed))
        else:
            todo.append((name, seed))
    print(f'{len(runs)} runs ({len(names)} variants x {len(args.seeds)} '
          f'seeds, epochs: {args.epochs or "config"}); '
          f'{len(runs) - len(todo)} already finished, {len(todo)} to run. '
          f'Work dir: {work_dir}')

    def run_args(name, seed):
        """``run_one``'s first arguments for a run."""
        options = list(args.cfg_options)
        if name in ENHANCER_FROM:
            options.append('model.enhancer.init_cfg.checkpoint=' +
                           enhancer_checkpoint(work_dir, ENHANCER_FROM[name],
                                               seed, args.dry_run))
        return (sys.executable, args.configs[name],
                osp.join(work_dir, name,
                         f'seed{seed}'), seed, args.epochs, options)

    def label_of(name, seed):
        return f'[{runs.index((name, seed)) + 1}/{len(runs)}] {name} seed {seed}'

    references = (reference_names(args.configs)
                  if args.protocol == 'pretrained' else [])
    if args.dry_run:
        for name, seed in todo:
            print(label_of(name, seed))
            run_one(*run_args(name, seed), print, dry_run=True)
        for seed in args.seeds:
            for name in references:
                print(f'reference {name} seed {seed}')
                run_reference(sys.executable, name, seed, args.configs,
                              work_dir, args.cfg_options, print,
                              dry_run=True)
        return None

    env = dict(os.environ)
    if args.jobs > 1 and 'OMP_NUM_THREADS' not in env:
        env['OMP_NUM_THREADS'] = str(
            max(1, (os.cpu_count() or 1) // args.jobs))

    def start_run(name, seed, on_progress):
        return run_one(*run_args(name, seed), on_progress, env)

    def on_done(name, seed, result):
        run_dir = osp.join(work_dir, name, f'seed{seed}')
        os.makedirs(run_dir, exist_ok=True)
        atomic_dump_json(result, osp.join(run_dir, 'result.json'), indent=2)
        results.setdefault(name, []).append(result)
        write_summary(results, names + references, args, argv, work_dir)

    failed = run_pending(todo, finished, args.jobs, start_run, on_done,
                         label_of)
    if references:
        failed += run_references(references, args, work_dir, results,
                                 finished, env, on_done)
    summary, table = write_summary(results, names + references, args, argv,
                                   work_dir)
    print(table)
    print(f'Written: {osp.join(work_dir, "results.md")}')
    if failed:
        raise RuntimeError('failed runs (finished runs are kept; rerun to '
                           'retry): ' +
                           '; '.join(f'{n} seed {s}: {why.splitlines()[0]}'
                                     for (n, s), why in failed))
    return summary


if __name__ == '__main__':
    main()
