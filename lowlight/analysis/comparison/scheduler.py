"""Scheduling the comparison: which runs are left (a run is finished when
its ``result.json`` exists, so the same call resumes), in what order,
``jobs`` at a time, with one status line of their progress; the summary is
rewritten after every finished run."""
import concurrent.futures
import os
import os.path as osp
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Set, Tuple

from lowlight.utils import atomic_dump_json
from . import runs
from .data import prepare_data
from .settings import ComparisonSettings
from .summary import overall_ap50, write_summary
from .variants import (ENHANCER_FROM, REFERENCES, REPO_ROOT, check_pretrained,
                       reference_names, run_order)

Run = Tuple[str, int]


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f'{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}'


class StatusLine:
    """One terminal line with the progress of every running run."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs = {}
        self._width = 0

    def set(self, run: str, text: Optional[str] = None) -> None:
        """Show ``text`` for ``run``; None removes the run from the line."""
        with self._lock:
            if text is None:
                self._runs.pop(run, None)
            else:
                self._runs[run] = text
            line = ' | '.join(f'{k}: {v}' for k, v in self._runs.items())
            print('\r' + line.ljust(self._width), end='', flush=True)
            self._width = len(line)

    def print(self, text: str) -> None:
        """Print a whole line above the status line."""
        with self._lock:
            print('\r' + text.ljust(self._width), flush=True)
            self._width = 0


def run_pending(todo: List[Run], finished: Set[Run], jobs: int,
                start_run: Callable, on_done: Callable,
                label_of: Callable[[str, int], str],
                needs_of: Callable[[str], Optional[str]]) -> List[tuple]:
    """Run the (name, seed) pairs of ``todo`` in order, ``jobs`` at a time,
    with one status line of every running run's progress.

    A run that needs another run of its seed (a variant that reuses another
    variant's enhancer, a reference row that tests a run's checkpoint)
    starts only once that run is in ``finished``, and is skipped if that
    run failed; later runs whose needs are met start in its place, so no
    slot waits while one could run.

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
        needs_of (callable): ``name -> name`` of the run of the same seed
            that must finish first, or None.

    Returns:
        list: ((name, seed), reason) for each failed or skipped run.
    """
    status = StatusLine()
    start, done_now, failed = time.time(), 0, []
    pending, running = list(todo), {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        while pending or running:
            for name, seed in list(pending):
                source = (needs_of(name), seed)
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
                ap50 = overall_ap50(result)
                status.print(
                    f'{label} done in '
                    f'{_hms(result["train_s"] + result["test_s"])}' +
                    (f': AP@0.5 {100 * ap50:.1f}' if ap50 is not None else ''))
    return failed


def run_comparison(settings: ComparisonSettings) -> Optional[Dict]:
    """Run (or resume) the whole comparison and write its summary.

    Every run (variant x seed, seed by seed) trains, selects on val and
    tests (:func:`runs.run_one`); under the pretrained protocol the
    reference rows (:func:`runs.run_reference`) join the same pool, each
    as soon as the run it needs has finished. Finished runs are kept and
    never redone; the summary is rewritten after each one.

    Returns:
        dict | None: The summary (:func:`summary.summarise`); None in a dry
        run, which prints the commands instead.

    Raises:
        SystemExit: naming missing configs, or, under the pretrained
            protocol, variants without pretrained weights.
        FileNotFoundError: naming a missing annotation file that is not
            the embedded night sample's.
        RuntimeError: naming the runs that failed, after the others ran.
    """
    missing = [
        c for c in settings.configs.values()
        if not osp.isfile(osp.join(REPO_ROOT, c))
    ]
    if missing:
        sys.exit('config(s) not found: ' + ', '.join(missing))
    if settings.protocol == 'pretrained':
        check_pretrained(settings.configs, settings.cfg_options)
    if not settings.dry_run:
        prepare_data(list(settings.configs.values()), settings.cfg_options)
    os.makedirs(settings.work_dir, exist_ok=True)
    work_dir = osp.abspath(settings.work_dir)
    names = list(settings.configs)
    order = run_order(names, settings.seeds)
    references = (
        reference_names(settings.configs)
        if settings.protocol == 'pretrained' else [])
    reference_order = [(name, seed) for seed in settings.seeds
                       for name in references]
    results, todo, finished = {}, [], set()
    for name, seed in order + reference_order:
        result = runs.load_result(work_dir, name, seed)
        if result is not None:
            results.setdefault(name, []).append(result)
            finished.add((name, seed))
        else:
            todo.append((name, seed))
    to_train = [run for run in todo if run in order]
    print(f'{len(order)} runs ({len(names)} variants x '
          f'{len(settings.seeds)} seeds, epochs: '
          f'{settings.epochs or "config"}); '
          f'{len(order) - len(to_train)} already finished, '
          f'{len(to_train)} to run, then {len(todo) - len(to_train)} '
          f'reference row(s). Work dir: {work_dir}')

    def run_args(name, seed):
        """``run_one``'s first arguments for a run."""
        options = list(settings.cfg_options)
        if name in ENHANCER_FROM:
            options.append(
                'model.enhancer.init_cfg.checkpoint=' +
                runs.enhancer_checkpoint(work_dir, ENHANCER_FROM[name], seed,
                                         settings.dry_run))
        return (sys.executable, settings.configs[name],
                runs.run_folder(work_dir, name,
                                seed), seed, settings.epochs, options)

    def label_of(name, seed):
        if name in REFERENCES:
            return f'reference {name} seed {seed}'
        return (f'[{order.index((name, seed)) + 1}/{len(order)}] {name} '
                f'seed {seed}')

    def needs_of(name):
        if name in REFERENCES:
            return REFERENCES[name][2]
        return ENHANCER_FROM.get(name)

    env = dict(os.environ)
    if settings.jobs > 1 and 'OMP_NUM_THREADS' not in env:
        env['OMP_NUM_THREADS'] = str(
            max(1, (os.cpu_count() or 1) // settings.jobs))

    def start_run(name, seed, on_progress, dry_run=False):
        if name in REFERENCES:
            return runs.run_reference(sys.executable, name, seed,
                                      settings.configs, work_dir,
                                      settings.cfg_options, on_progress, env,
                                      dry_run)
        return runs.run_one(*run_args(name, seed), on_progress, env, dry_run)

    if settings.dry_run:
        for name, seed in todo:
            print(label_of(name, seed))
            start_run(name, seed, print, dry_run=True)
        return None

    def on_done(name, seed, result):
        folder = runs.run_folder(work_dir, name, seed)
        os.makedirs(folder, exist_ok=True)
        atomic_dump_json(result, osp.join(folder, 'result.json'), indent=2)
        results.setdefault(name, []).append(result)
        write_summary(results, names + references, settings, work_dir)

    failed = run_pending(todo, finished, settings.jobs, start_run, on_done,
                         label_of, needs_of)
    summary, table = write_summary(results, names + references, settings,
                                   work_dir)
    print(table)
    print(f'Written: {osp.join(work_dir, "results.md")}')
    if failed:
        raise RuntimeError('failed runs (finished runs are kept; rerun to '
                           'retry): ' +
                           '; '.join(f'{n} seed {s}: {why.splitlines()[0]}'
                                     for (n, s), why in failed))
    return summary
