"""lowlight.analysis.timing: the interleaved timer of the analysis tools."""
import pytest

from lowlight.analysis import timing


def _fake_clock(monkeypatch):
    """A clock that only moves when a step says so."""
    clock = [0.]
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: clock[0])
    return clock


def test_interleaved_timing_stops_when_stable(monkeypatch):
    clock = _fake_clock(monkeypatch)
    calls = []

    def step(name, cost):

        def run():
            calls.append(name)
            clock[0] += cost

        return run

    res = timing.time_interleaved(
        dict(A=step('A', 0.5), B=step('B', 1.0)),
        batch_size=2,
        warmup=2,
        min_iters=6,
        round_size=3,
        rel_tol=0.01,
        max_time=100)
    assert calls[:4] == ['A', 'B', 'A', 'B']
    assert calls == ['A', 'B'] * (len(calls) // 2)
    assert res['A']['stable'] and res['A']['iterations'] == 6
    assert res['A']['median_s'] == 0.5 and res['B']['median_s'] == 1.0
    assert res['A']['per_image_ms'] == 250.
    assert res['B']['images_per_s'] == 2.


def test_interleaved_timing_gives_up_after_max_time(monkeypatch):
    clock = _fake_clock(monkeypatch)
    cost = [1.]

    def slower_each_time():
        cost[0] *= 1.2
        clock[0] += cost[0]

    res = timing.time_interleaved(
        dict(A=slower_each_time),
        batch_size=1,
        warmup=0,
        min_iters=2,
        round_size=2,
        rel_tol=0.01,
        max_time=50)
    assert not res['A']['stable']
    assert res['A']['iterations'] < 20


def test_summary_median_p90_and_images_per_second():
    summary = timing.summarize([1., 2., 3., 4., 10.], batch_size=4)
    assert summary['iterations'] == 5
    assert summary['median_s'] == 3.
    assert summary['p90_s'] == pytest.approx(7.6)
    assert summary['mean_s'] == 4.
    assert summary['per_image_ms'] == 750.
    assert summary['p90_per_image_ms'] == pytest.approx(1900.)
    assert summary['images_per_s'] == pytest.approx(4 / 3)


def test_rounds_prepare_untimed_and_images_from_the_step(monkeypatch):
    clock = _fake_clock(monkeypatch)
    order = []

    def prepare_a():
        order.append('prepare A')
        clock[0] += 100.  # not part of A's time

    def step_a():
        order.append('A')
        clock[0] += 2.
        return dict(images=8, split=0.25)

    def step_b():
        order.append('B')
        clock[0] += 1.

    timer = timing.InterleavedTimer(
        dict(A=step_a, B=step_b), batch_size=2, prepare=dict(A=prepare_a))
    timer.warm_up(1)
    assert order == ['prepare A', 'A', 'B']
    assert timer.calls == dict(A=[], B=[])
    for _ in range(2):
        done = timer.run_round()
        assert [len(c) for c in done.values()] == [1, 1]
    assert order[3:] == ['prepare A', 'A', 'B'] * 2
    a, b = timer.calls['A'], timer.calls['B']
    assert [c.wall_s for c in a] == [2., 2.] and b[0].wall_s == 1.
    assert a[0].images == 8 and a[0].info == dict(split=0.25)
    assert b[0].images == 2 and b[0].info == {}
    rates = a[0].rates()
    assert rates['fps'] == 4. and rates['split'] == 0.25
    assert rates['cpu_ms_per_frame'] == pytest.approx(1000 * a[0].cpu_s / 8)
    assert timer.median('B') == 1.
    assert timer.summary('A')['images_per_s'] == 1.  # batch_size / median
