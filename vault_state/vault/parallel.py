"""A bounded pool of worker threads that runs one function over many items, in item order.

The gateway keeps one pool for its lifetime, so its workers (each with its own keep-alive HTTP
session) are reused by every batch of reads and every apply stage. With a limit of 1, or one
item, the work runs inline in the caller's thread: the old sequential behaviour, exactly.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Measured by `make bench` on a 2-core machine (see docs/performance.md): the Python client is the
# bottleneck, so more threads add little there; 8 keeps a faster server busy without many sockets.
DEFAULT_PARALLELISM = 8


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What happened to one item: its value, the exception it raised, or `started=False` when it
    was never started because an earlier item failed."""

    value: R | None = None
    error: BaseException | None = None
    started: bool = True


class Workers:
    """Runs work with at most `limit` items in flight; threads are created on first use."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("parallelism must be at least 1")
        self.limit = limit
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix="vault-state")
                weakref.finalize(self, self._executor.shutdown, wait=False)
            return self._executor

    def run(self, fn: Callable[[T], R], items: Sequence[T], stop_on_error: bool = True) -> list[Outcome[R]]:
        """One outcome per item, in item order. After a failure, items not yet started are not
        started (`started=False`) when `stop_on_error`; items already running finish."""
        stop = threading.Event()

        def guarded(item: T) -> Outcome[R]:
            if stop.is_set():
                return Outcome(started=False)
            try:
                return Outcome(value=fn(item))
            except Exception as exc:
                if stop_on_error:
                    stop.set()
                return Outcome(error=exc)

        if self.limit == 1 or len(items) <= 1:
            return [guarded(item) for item in items]
        futures: list[Future[Outcome[R]]] = [self._pool().submit(guarded, item) for item in items]
        return [future.result() for future in futures]

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """fn over every item, results in item order; the first failure (in item order) is raised."""
        outcomes = self.run(fn, items)
        for outcome in outcomes:
            if outcome.error is not None:
                raise outcome.error
        return [outcome.value for outcome in outcomes]  # type: ignore[misc]
