"""BoundedPipeline: order, bounds, stop, and errors raised in any stage."""
import contextlib
import itertools
import threading
import time

import pytest

from lowlight.apis.video import BoundedPipeline, PipelineError


def _threads_alive(prefix):
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def test_items_pass_in_order_through_named_threads():
    seen, entered = [], []

    @contextlib.contextmanager
    def context():
        entered.append(threading.current_thread().name)
        yield

    def transform(item):
        assert threading.current_thread() is threading.main_thread()
        return item * 10

    def consume(item):
        seen.append((item, threading.current_thread().name))

    BoundedPipeline(
        lambda: iter(range(20)),
        transform,
        consume,
        queue_size=2,
        name='t1',
        stage_names=('read', 'write'),
        worker_context=context).run()
    assert seen == [(10 * i, 't1-write') for i in range(20)]
    assert sorted(entered) == ['t1-read', 't1-write']
    assert not _threads_alive('t1-')


def test_items_in_flight_are_bounded():
    produced, consumed = [0], [0]
    in_flight = []

    def produce():
        for i in range(60):
            produced[0] += 1
            in_flight.append(produced[0] - consumed[0])
            yield i

    def consume(item):
        time.sleep(0.001)
        consumed[0] += 1

    BoundedPipeline(produce, lambda x: x, consume, queue_size=1).run()
    assert consumed[0] == 60
    # producer's item + 1 queued + transform's + 1 queued + consumer's
    assert max(in_flight) <= 2 * 1 + 3, max(in_flight)


def test_an_error_in_the_producer_stops_the_others_and_reaches_the_caller():
    consumed = []

    def produce():
        yield from range(3)
        raise MemoryError('decoder out of memory')

    def consume(item):
        consumed.append(item)

    with pytest.raises(
            PipelineError, match='t2-produce worker thread '
            'failed: MemoryError') as error:
        BoundedPipeline(produce, lambda x: x, consume, name='t2').run()
    assert isinstance(error.value.__cause__, MemoryError)
    assert len(consumed) <= 3
    assert not _threads_alive('t2-')


def test_an_error_in_the_consumer_stops_an_endless_producer():
    produced = []

    def produce():
        for i in itertools.count():
            produced.append(i)
            yield i

    def consume(item):
        if item == 5:
            raise OSError('disk full')

    with pytest.raises(PipelineError, match='t3-consume') as error:
        BoundedPipeline(
            produce, lambda x: x, consume, queue_size=2, name='t3').run()
    assert isinstance(error.value.__cause__, OSError)
    assert len(produced) < 5 + 2 * 2 + 4  # it stopped, bounded
    assert not _threads_alive('t3-')


def test_an_error_in_the_transform_is_raised_as_it_is_after_the_workers():
    consumed = []

    def transform(item):
        if item == 4:
            raise KeyboardInterrupt
        return item

    with pytest.raises(KeyboardInterrupt):
        BoundedPipeline(
            lambda: itertools.count(), transform, consumed.append,
            name='t4').run()
    assert not _threads_alive('t4-')
    assert consumed == list(range(len(consumed))) and len(consumed) <= 4


def test_stop_from_a_stage_ends_the_run_without_an_error():
    consumed = []
    pipeline = None

    def consume(item):
        consumed.append(item)
        if item == 7:
            pipeline.stop()

    pipeline = BoundedPipeline(
        lambda: itertools.count(), lambda x: x, consume, name='t5')
    pipeline.run()
    assert pipeline.stopped
    assert consumed == list(range(8))
    assert not _threads_alive('t5-')


def test_queue_size_must_be_positive():
    with pytest.raises(ValueError, match='queue_size'):
        BoundedPipeline(lambda: [], lambda x: x, print, queue_size=0)


def test_transform_threads_map_side_by_side_and_keep_the_order():
    """Two transform threads overlap (each waits for the other once) and the
    consumer still takes the items in order, inside the per-call context."""
    barrier = threading.Barrier(2, timeout=5)
    contexts, seen = [], []

    @contextlib.contextmanager
    def context():
        contexts.append(threading.current_thread().name)
        yield

    def transform(item):
        assert threading.current_thread() is not threading.main_thread()
        if item < 2:
            barrier.wait()  # only returns if the first two run together
        time.sleep(0.002 * (item % 3))  # later items finish out of order
        return item * 10

    BoundedPipeline(
        lambda: iter(range(12)),
        transform,
        seen.append,
        queue_size=2,
        name='t7',
        transform_threads=2,
        transform_context=context).run()
    assert seen == [10 * i for i in range(12)]
    assert len(contexts) == 12
    assert {n.rpartition('_')[0] for n in contexts} == {'t7-transform'}
    assert len(set(contexts)) == 2
    assert not _threads_alive('t7-')


def test_an_error_in_a_transform_thread_is_raised_as_it_is():
    consumed = []

    def transform(item):
        if item == 4:
            raise ValueError('bad batch')
        return item

    with pytest.raises(ValueError, match='bad batch'):
        BoundedPipeline(
            lambda: itertools.count(),
            transform,
            consumed.append,
            name='t8',
            transform_threads=2).run()
    assert consumed == list(range(4))
    assert not _threads_alive('t8-')


def test_transform_threads_must_be_positive():
    with pytest.raises(ValueError, match='transform_threads'):
        BoundedPipeline(lambda: [], lambda x: x, print, transform_threads=0)
