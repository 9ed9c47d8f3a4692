"""A bounded three-stage pipeline: produce | transform | consume.

The producer and the consumer run in worker threads, the transform in the
calling thread (where a model keeps the threads torch gives it), or, with
``transform_threads`` > 1, in that many threads of a pool that map items
side by side while the consumer still takes them in order. Two queues of
at most ``queue_size`` items join the stages, so the items in flight are
bounded whatever the length of the input.

Stopping and errors: :meth:`BoundedPipeline.stop` (from any thread) ends
every stage at its next queue operation. The first exception raised by any
stage is recorded under a lock, stops the other stages, and is raised again
in the caller of :meth:`BoundedPipeline.run` once both workers have ended:
as it was raised when it came from the transform, as the cause of a
:class:`PipelineError` when it came from a worker.
"""
import contextlib
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import (Callable, ContextManager, Generic, Iterable, Optional,
                    Tuple, TypeVar)

In = TypeVar('In')
Out = TypeVar('Out')

_END = object()  # end-of-stream marker put after the last item
_POLL_S = 0.1  # how often a blocked queue operation checks for a stop


class PipelineError(RuntimeError):
    """A worker stage failed; ``__cause__`` is its exception."""


class _Stopped(Exception):
    """Raised in a stage whose queue operation sees the stop flag."""


class BoundedPipeline(Generic[In, Out]):
    """Run ``produce() -> transform(item) -> consume(item)`` over threads.

    Args:
        produce (Callable[[], Iterable[In]]): Yields the items, in the
            ``'<name>-<stage>'`` worker thread of the first stage.
        transform (Callable[[In], Out]): Maps each item, in the calling
            thread.
        consume (Callable[[Out], None]): Takes each mapped item, in order,
            in the worker thread of the last stage.
        queue_size (int): Capacity of each of the two queues.
        name (str): Prefix of the worker thread names.
        stage_names (tuple[str, str]): Names of the producer and consumer
            stages (threads and error messages).
        worker_context (Callable[[], ContextManager], optional): Entered by
            each worker thread around its stage, e.g. to set per-thread
            settings.
        transform_threads (int): Threads that run the transform; 1: the
            calling thread.
        transform_context (Callable[[], ContextManager], optional):
            Entered around each transform call in the pool
            (``transform_threads`` > 1), e.g. to set its torch threads.
    """

    def __init__(
            self,
            produce: Callable[[], Iterable[In]],
            transform: Callable[[In], Out],
            consume: Callable[[Out], None],
            queue_size: int = 4,
            name: str = 'pipeline',
            stage_names: Tuple[str, str] = ('produce', 'consume'),
            worker_context: Optional[Callable[[], ContextManager]] = None,
            transform_threads: int = 1,
            transform_context: Optional[Callable[[],
                                                 ContextManager]] = None
    ) -> None:
        if queue_size < 1:
            raise ValueError(f'queue_size must be >= 1, got {queue_size}')
        if transform_threads < 1:
            raise ValueError(
                f'transform_threads must be >= 1, got {transform_threads}')
        self._produce, self._transform, self._consume = (produce, transform,
                                                         consume)
        self._queue_size = queue_size
        self._name = name
        self._threads = tuple(f'{name}-{stage}' for stage in stage_names)
        self._worker_context = worker_context or contextlib.nullcontext
        self._transform_threads = transform_threads
        self._transform_context = transform_context or contextlib.nullcontext
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._error: Optional[Tuple[str, BaseException]] = None

    def stop(self) -> None:
        """Ask every stage to end; :meth:`run` then returns normally."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """Whether the pipeline was stopped or a stage failed."""
        return self._stop.is_set()

    def _fail(self, stage: str, error: BaseException) -> None:
        """Record the first error of any stage and stop the others."""
        with self._lock:
            if self._error is None:
                self._error = (stage, error)
        self._stop.set()

    def _first_error(self) -> Optional[Tuple[str, BaseException]]:
        with self._lock:
            return self._error

    def _put(self, q: queue.Queue, item) -> None:
        """Blocking put that gives up when the pipeline stops."""
        while not self._stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _items(self, q: queue.Queue) -> Iterable:
        """The items of ``q`` up to the end marker; gives up on a stop."""
        while not self._stop.is_set():
            try:
                item = q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is _END:
                return
            yield item
        raise _Stopped

    def _transform_in_context(self, item: In) -> Out:
        """The transform of ``item`` inside ``transform_context`` (in a
        thread of the pool)."""
        with self._transform_context():
            return self._transform(item)

    def _mapped(self, future: Future):
        """The transform's result of ``future``, waited for in polls so a
        stop still ends the wait; a transform error stops the pipeline."""
        while True:
            if self._stop.is_set() and not future.done():
                raise _Stopped
            try:
                return future.result(timeout=_POLL_S)
            except TimeoutError:
                continue
            except BaseException as e:  # noqa: B902  re-raised by run()
                self._fail('transform', e)
                raise _Stopped

    def _worker(self, stage: str, body: Callable[[], None]) -> None:
        try:
            with self._worker_context():
                body()
        except _Stopped:
            pass
        except BaseException as e:  # noqa: B902  re-raised by run()
            self._fail(stage, e)

    def run(self) -> None:
        """Run all stages to the end of the items, or until stopped.

        Raises:
            PipelineError: A worker stage raised (its exception is the
                cause).
            BaseException: What the transform raised (KeyboardInterrupt
                included), after both workers ended.
        """
        inputs = queue.Queue(maxsize=self._queue_size)
        outputs = queue.Queue(maxsize=self._queue_size)

        def produce() -> None:
            for item in self._produce():
                self._put(inputs, item)
            self._put(inputs, _END)

        pool = None
        if self._transform_threads > 1:
            pool = ThreadPoolExecutor(
                self._transform_threads,
                thread_name_prefix=f'{self._name}-transform')

        def consume() -> None:
            for item in self._items(outputs):
                if pool is not None:
                    item = self._mapped(item)
                self._consume(item)

        workers = [
            threading.Thread(
                target=self._worker,
                args=(thread, body),
                name=thread,
                daemon=True)
            for thread, body in zip(self._threads, (produce, consume))
        ]
        for worker in workers:
            worker.start()
        try:
            for item in self._items(inputs):
                self._put(
                    outputs,
                    self._transform(item) if pool is None else pool.submit(
                        self._transform_in_context, item))
            self._put(outputs, _END)
            workers[1].join()  # the consumer finishes the last items
        except _Stopped:
            pass
        except BaseException as e:
            self._fail('transform', e)
            raise
        finally:
            self._stop.set()
            for worker in workers:
                worker.join()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        error = self._first_error()
        if error is not None:
            stage, cause = error
            if stage == 'transform':
                raise cause  # from a pool thread, as it was raised
            raise PipelineError(f'the {stage} worker thread failed: '
                                f'{type(cause).__name__}: {cause}') from cause
