"""Keep the decode worker off the cores while the model's thread team runs.

On a machine whose cores the model's intra-op threads fill, a decode thread
that runs beside them preempts one of them, and every thread of the team
waits for it at the end of each parallel operation. Decoding in the model's
single-threaded phases (the data preprocessor, the box decoding and NMS of
an ONNX Runtime model) uses a core that is idle then. The infer stage holds
the gate closed around the multi-threaded call; the decode worker waits for
it to open before reading each frame.
"""
import contextlib
import threading
from typing import Iterator


class ComputeGate:
    """Open, except while the model's thread team runs.

    ``closed()`` may be entered by one thread at a time (the infer stage);
    any number of threads may wait for the gate to open.
    """

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        """Close the gate for the duration of the block, even on error."""
        self._open.clear()
        try:
            yield
        finally:
            self._open.set()

    def wait_open(self, timeout: float = 1.0) -> bool:
        """Block until the gate is open or ``timeout`` seconds pass (so a
        stalled model cannot stall decoding for good); whether it opened."""
        return self._open.wait(timeout)
