"""The progress bar: drawn only for a phase with known work that lasts past the delay, never `0/0`."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from conftest import write_state
from rich.console import Console

from vault_state.progress import Silent, progress_bar
from vault_state.sandbox import DevServer


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=80), out


def test_no_known_work_draws_nothing() -> None:
    console, out = terminal()
    with progress_bar(console, "reading", delay=0) as tracker:
        tracker.expect(0)
        time.sleep(0.3)
    assert out.getvalue() == ""


def test_a_phase_shorter_than_the_delay_draws_nothing() -> None:
    console, out = terminal()
    with progress_bar(console, "reading", delay=5) as tracker:
        tracker.expect(3)
        tracker.advance(3)
    assert out.getvalue() == ""


def test_a_long_phase_with_work_to_do_draws_the_bar() -> None:
    console, out = terminal()
    with progress_bar(console, "reading", delay=0.05) as tracker:
        tracker.expect(3)
        tracker.advance()
        time.sleep(0.4)  # the timer shows the bar although no further work is reported
        tracker.advance(2)
    drawn = out.getvalue()
    assert "reading" in drawn and "1/3" in drawn
    assert "0/0" not in drawn


def test_work_known_only_after_the_delay_starts_the_bar_then() -> None:
    console, out = terminal()
    with progress_bar(console, "applying", delay=0.05) as tracker:
        time.sleep(0.2)
        assert out.getvalue() == ""
        tracker.expect(2)
        time.sleep(0.2)
    assert "applying" in out.getvalue() and "0/2" in out.getvalue()


def test_not_a_terminal_or_disabled_is_silent() -> None:
    with progress_bar(Console(file=io.StringIO()), "reading", delay=0) as tracker:
        assert isinstance(tracker, Silent)
    console, _ = terminal()
    with progress_bar(console, "reading", enabled=False, delay=0) as tracker:
        assert isinstance(tracker, Silent)


def test_a_small_plan_on_a_terminal_shows_no_progress_line(bao: DevServer, tmp_path: Path) -> None:
    """`vault-state plan` with stdout and stderr on a pseudo-terminal: no `reading` bar, no `0/0`."""
    state = write_state(tmp_path, "version: 1\npolicies:\n  a: 'path \"a/*\" { capabilities = [\"read\"] }'\n"
                                  "  b: 'path \"b/*\" { capabilities = [\"read\"] }'\n")
    env = {**{k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}, **bao.env(),
           "TERM": "xterm-256color", "COLUMNS": "120"}
    primary, secondary = pty.openpty()
    command = [sys.executable, "-m", "vault_state", "plan", "-f", str(state)]
    with subprocess.Popen(command, env=env, stdout=secondary, stderr=secondary) as process:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    os.close(primary)
    output = b"".join(chunks)
    assert b"+ policy/a" in output and b"Plan: 2 to add" in output
    assert b"reading" not in output and b"0/0" not in output
