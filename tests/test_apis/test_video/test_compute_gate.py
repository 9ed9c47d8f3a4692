"""ComputeGate: open unless the model's thread team runs; a waiter is
released when the block ends, on error too."""
import threading
import time

import pytest

from lowlight.apis.video import ComputeGate


def test_gate_is_open_except_inside_closed():
    gate = ComputeGate()
    assert gate.wait_open(timeout=0)
    with gate.closed():
        assert not gate.wait_open(timeout=0.01)
    assert gate.wait_open(timeout=0)


def test_a_waiting_thread_is_released_when_the_block_ends():
    gate = ComputeGate()
    released = []
    with gate.closed():
        waiter = threading.Thread(
            target=lambda: released.append(
                (gate.wait_open(timeout=5.0), time.perf_counter())))
        waiter.start()
        time.sleep(0.05)
        assert not released  # still waiting while closed
        opened_at = time.perf_counter()
    waiter.join(timeout=5.0)
    assert released and released[0][0]
    assert released[0][1] >= opened_at


def test_the_gate_opens_again_after_an_error():
    gate = ComputeGate()
    with pytest.raises(RuntimeError):
        with gate.closed():
            raise RuntimeError('model failed')
    assert gate.wait_open(timeout=0)
