"""Progress on long runs: a rich progress bar on stderr when it is a terminal, silence otherwise.

Readers and apply report through a `Tracker` (`expect` more work, `advance` as it is done), so
they know nothing of terminals. Both methods are safe to call from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class Tracker(Protocol):
    def expect(self, count: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class Silent:
    """The tracker of non-terminals and --json: does nothing."""

    def expect(self, count: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


class _Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task
        self.total = 0
        self._lock = threading.Lock()

    def expect(self, count: int) -> None:
        with self._lock:
            self.total += count
            self.progress.update(self.task, total=self.total)

    def advance(self, count: int = 1) -> None:
        self.progress.advance(self.task, count)


@contextmanager
def progress_bar(console: Console, label: str, enabled: bool = True) -> Iterator[Tracker]:
    """A tracker drawing `label [bar] done/total` on `console` while the block runs, only when
    `enabled` and the console is a terminal; the bar is removed when the block ends."""
    if not enabled or not console.is_terminal:
        yield Silent()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield _Bar(progress, progress.add_task(label, total=0))
