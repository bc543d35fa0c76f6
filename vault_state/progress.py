"""Progress on long runs: a rich progress bar on stderr when it is a terminal, silence otherwise.

Readers and apply report through a `Tracker` (`expect` more work, `advance` as it is done), so
they know nothing of terminals. Both methods are safe to call from worker threads. The bar is
drawn only for a phase that lasts longer than a short delay and has known work still to do, so a
small plan prints nothing extra and a bar never reads `0/0`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

DELAY = 0.5
"""Seconds a phase runs before its bar appears: shorter phases show none."""


class Tracker(Protocol):
    def expect(self, count: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class Silent:
    """The tracker of non-terminals and --json: does nothing."""

    def expect(self, count: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


class _DelayedBar:
    """Counts the work; once `delay` has passed with work known and not all done, draws a transient bar."""

    def __init__(self, console: Console, label: str, delay: float) -> None:
        self._console, self._label = console, label
        self._total = self._done = 0
        self._deadline = time.monotonic() + delay
        self._shown: tuple[Progress, TaskID] | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(delay, self._tick)
        self._timer.daemon = True
        self._timer.start()

    def expect(self, count: int) -> None:
        with self._lock:
            self._total += count
            self._update()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self._done += count
            self._update()

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._shown is not None:
                self._shown[0].stop()  # transient: the bar is erased

    def _tick(self) -> None:
        with self._lock:
            self._update()

    def _update(self) -> None:
        """Called with the lock held: redraw the bar, or start it if its time has come."""
        if self._shown is not None:
            progress, task = self._shown
            progress.update(task, total=self._total, completed=self._done)
        elif not self._closed and self._done < self._total and time.monotonic() >= self._deadline:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            progress = Progress(*columns, console=self._console, transient=True)
            task = progress.add_task(self._label, total=self._total, completed=self._done)
            progress.start()
            self._shown = (progress, task)


@contextmanager
def progress_bar(console: Console, label: str, enabled: bool = True, delay: float = DELAY) -> Iterator[Tracker]:
    """A tracker drawing `label [bar] done/total` on `console` while the block runs, only when
    `enabled`, the console is a terminal, and the block has run `delay` seconds with work to do;
    the bar is removed when the block ends."""
    if not enabled or not console.is_terminal:
        yield Silent()
        return
    bar = _DelayedBar(console, label, delay)
    try:
        yield bar
    finally:
        bar.close()
