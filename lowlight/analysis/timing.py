"""One timer for every speed measurement of ``tools/analysis_tools``.

:class:`InterleavedTimer` runs several named steps in turn (A, B, A, B, ...)
so that all of them see the same machine load, and records the wall time
and the process CPU time (all threads) of every call. It either runs a fixed
number of rounds (``video_throughput.py``, ``t2_complexity.py``) or runs
until every median is stable (``benchmark.py``, :func:`time_interleaved`).
"""
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np


@dataclass
class Call:
    """One timed call of a step.

    Attributes:
        wall_s (float): wall-clock seconds.
        cpu_s (float): CPU seconds of this process, all threads.
        images (int): images (frames) the call processed.
        info (dict): what else the step returned.
    """
    wall_s: float
    cpu_s: float
    images: int
    info: dict = field(default_factory=dict)

    def rates(self) -> dict:
        """Frames per second, CPU milliseconds per frame, then ``info``."""
        return dict(
            fps=self.images / self.wall_s,
            cpu_ms_per_frame=1000 * self.cpu_s / self.images,
            **self.info)


def summarize(times: List[float], batch_size: int) -> dict:
    """Median, 90th percentile and mean seconds per call of a step, per
    image and as images per second."""
    times = np.asarray(times)
    median = float(np.median(times))
    p90 = float(np.percentile(times, 90))
    return dict(
        iterations=int(times.size),
        median_s=median,
        p90_s=p90,
        mean_s=float(times.mean()),
        per_image_ms=1000. * median / batch_size,
        p90_per_image_ms=1000. * p90 / batch_size,
        images_per_s=batch_size / median)


class InterleavedTimer:
    """Time named steps interleaved.

    Args:
        steps (dict[str, callable]): name -> function making one call. It
            may return a dict: its ``images`` entry (the images it
            processed, default ``batch_size``) and anything else, kept in
            :attr:`Call.info`.
        batch_size (int): images per call unless a step says otherwise.
        prepare (dict[str, callable], optional): name -> function called
            before each timed call of that step, untimed (a warm-up, a
            mode switch).
        sync (callable, optional): called before reading the clock (e.g.
            ``torch.cuda.synchronize`` on GPU).

    Attributes:
        calls (dict[str, list[Call]]): every timed call, per step.
    """

    def __init__(self,
                 steps: Dict[str, Callable],
                 batch_size: int = 1,
                 prepare: Optional[Dict[str, Callable]] = None,
                 sync: Optional[Callable] = None):
        self.steps = steps
        self.batch_size = batch_size
        self.prepare = prepare or {}
        self.sync = sync or (lambda: None)
        self.calls = {name: [] for name in steps}
        self.stable = False

    def warm_up(self, rounds: int) -> None:
        """Call every step ``rounds`` times in turn, untimed."""
        for _ in range(rounds):
            for name, step in self.steps.items():
                self.prepare.get(name, lambda: None)()
                step()
        self.sync()

    def _call(self, name: str) -> Call:
        self.prepare.get(name, lambda: None)()
        wall, cpu = time.perf_counter(), time.process_time()
        returned = self.steps[name]()
        self.sync()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        info = dict(returned or {})
        images = info.pop('images', self.batch_size)
        call = Call(wall, cpu, images, info)
        self.calls[name].append(call)
        return call

    def run_round(self, calls: int = 1) -> Dict[str, List[Call]]:
        """``calls`` timed calls of every step, interleaved; return them."""
        done = {name: [] for name in self.steps}
        for _ in range(calls):
            for name in self.steps:
                done[name].append(self._call(name))
        return done

    def run_until_stable(self,
                         min_iters: int = 10,
                         round_size: int = 5,
                         rel_tol: float = 0.01,
                         max_time: float = 300.) -> bool:
        """Rounds of ``round_size`` calls per step until every median moved
        by at most ``rel_tol`` (relative) in the last round, after at least
        ``min_iters`` calls per step, or until ``max_time`` seconds of
        timing have passed. Returns whether the medians were stable."""
        previous = None
        start = time.perf_counter()
        while True:
            self.run_round(round_size)
            medians = {name: self.median(name) for name in self.steps}
            enough = min(len(c) for c in self.calls.values()) >= min_iters
            self.stable = enough and previous is not None and all(
                abs(medians[n] - previous[n]) <= rel_tol * previous[n]
                for n in self.steps)
            previous = medians
            if self.stable or (enough
                               and time.perf_counter() - start > max_time):
                return self.stable

    def median(self, name: str) -> float:
        """Median wall seconds per call of step ``name``."""
        return float(np.median([c.wall_s for c in self.calls[name]]))

    def summary(self, name: str) -> dict:
        """:func:`summarize` of step ``name``, plus ``stable``."""
        return dict(
            summarize([c.wall_s for c in self.calls[name]], self.batch_size),
            stable=self.stable)


def time_interleaved(steps: Dict[str, Callable],
                     batch_size: int,
                     warmup: int = 3,
                     min_iters: int = 10,
                     round_size: int = 5,
                     rel_tol: float = 0.01,
                     max_time: float = 300.,
                     sync: Optional[Callable] = None) -> Dict[str, dict]:
    """Time several callables interleaved until their medians are stable.

    Args:
        steps (dict[str, callable]): name -> function running one batch.
        batch_size (int): images per call, for the per-image figures.
        warmup (int): untimed calls per function first.
        min_iters (int): minimum timed calls per function.
        round_size (int): calls per function between stability checks.
        rel_tol (float): stop once no median moved more than this fraction
            in the last round.
        max_time (float): seconds of timing after which to stop anyway.
        sync (callable, optional): called before reading the clock (e.g.
            ``torch.cuda.synchronize`` on GPU).

    Returns:
        dict: name -> summary (median, p90, mean, per image, images/s,
        iterations), plus ``stable`` (bool) per name.
    """
    timer = InterleavedTimer(steps, batch_size, sync=sync)
    timer.warm_up(warmup)
    timer.run_until_stable(min_iters, round_size, rel_tol, max_time)
    return {name: timer.summary(name) for name in steps}
