"""`vault-state watch`: plan on a schedule (optionally apply) and serve /metrics, /healthz, /readyz.

One worker (the caller's thread) runs one plan at a time: a slow plan delays the next. The HTTP
server's threads only read what the worker recorded. The state files are polled (mtime, then a
content hash) and a change starts a run at once; an unreachable server makes the waits double, capped.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

from prometheus_client import CollectorRegistry, ProcessCollector, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from vault_state.durations import format_seconds, to_fractional_seconds, to_seconds
from vault_state.errors import ConfigurationError, VaultStateError
from vault_state.metrics import ApplyOutcome, TargetResult, WatchMetrics
from vault_state.spec.many import state_files
from vault_state.spec.policy_files import SUFFIXES
from vault_state.spec.reads import Reads, file_digest

TICK = 1.0
"""Seconds between two looks at the state files' modification times."""


def add_watch_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--interval", default="5m", metavar="DURATION",
                        help="plan this often (default: 5m; 30s, 1h, 500ms...)")
    parser.add_argument("--listen", default=":9102", metavar="[HOST]:PORT",
                        help="serve /metrics, /healthz and /readyz here (default :9102, every IPv4 address; "
                             "127.0.0.1:9102, [::]:9102)")
    parser.add_argument("--apply", action="store_true",
                        help="apply when the plan has changes (with apply's destroy and mass-change guards)")
    parser.add_argument("--allow-destroy", action="store_true",
                        help="with --apply: allow disabling secrets engines and auth methods (destroys their data)")
    parser.add_argument("--allow-mass-change", action="store_true",
                        help="with --apply: allow deleting or replacing more than `mass_change.percent` %% of a kind")
    parser.add_argument("--lock-timeout", default="0s", metavar="DURATION",
                        help="with --apply: wait this long for another apply's lock (default 0s: retry next run)")
    parser.add_argument("--max-backoff", default="30m", metavar="DURATION",
                        help="while the server cannot be reached, the wait doubles up to this (default: 30m)")


@dataclass(frozen=True)
class WatchSettings:
    interval: float
    host: str
    port: int
    apply: bool
    max_backoff: float

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> WatchSettings:
        """The settings, or a ConfigurationError before anything runs (not at the first apply)."""
        host, port = parse_listen(args.listen)
        given = [flag for flag, on in (("--allow-destroy", args.allow_destroy),
                                       ("--allow-mass-change", args.allow_mass_change),
                                       ("--lock-timeout", args.lock_timeout != "0s")) if on]
        if given and not args.apply:
            raise ConfigurationError(f"{', '.join(given)}: only with --apply")
        try:
            to_seconds(args.lock_timeout)
        except ValueError as exc:
            raise ConfigurationError(f"--lock-timeout: {exc}") from None
        return cls(positive_duration("--interval", args.interval), host, port, args.apply,
                   positive_duration("--max-backoff", args.max_backoff))


def positive_duration(flag: str, text: str) -> float:
    try:
        seconds = to_fractional_seconds(text)
    except ValueError as exc:
        raise ConfigurationError(f"{flag}: {exc}") from None
    if seconds <= 0:
        raise ConfigurationError(f"{flag}: must be more than 0, got {text!r}")
    return seconds


def parse_listen(text: str) -> tuple[str, int]:
    """`:9102` (every IPv4 address), `127.0.0.1:9102`, `[::]:9102` or `[::1]:9102` as (host, port)."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise ConfigurationError(f"--listen {text!r}: expected [HOST]:PORT, e.g. :9102, 127.0.0.1:9102, [::]:9102")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ConfigurationError(f"--listen {text!r}: write an IPv6 address in brackets, e.g. [::]:9102")
    return host or "0.0.0.0", int(port)


def next_delay(interval: float, failures: int, cap: float) -> float:
    """The wait before the next run: the interval, doubled for each consecutive run that could not
    reach the server, at most `cap` (but never less than the interval)."""
    return max(interval, min(cap, interval * 2.0 ** failures))


def shown_seconds(seconds: float) -> str:
    """`5m`, `1h30m` for whole seconds from a minute up, else `0.8s`."""
    if seconds >= 60 and seconds == int(seconds):
        return format_seconds(int(seconds))
    return f"{seconds:.3g}s"


@dataclass
class StateFiles:
    """The files `-f` names, watched for changes: their modification times are cheap to look at
    every second; when those move, a content hash says whether the text really changed.

    `reads` are the other files the last load read (policy files, `{file:}` value sources) and its
    `policy_files:` patterns, as it noted them (vault_state/spec/reads.py): watched the same way."""

    arguments: Sequence[str]
    recursive: bool
    reads: Reads = field(default_factory=Reads)

    def stamp(self) -> tuple[object, ...]:
        try:
            paths = state_files(self.arguments, self.recursive)
        except VaultStateError as exc:
            return (str(exc),)
        read = tuple(_stat(path) for path in self.reads.files)
        return (*(_stat(path) for path in paths), read, *(_matched(*key) for key in self.reads.patterns))

    def digest(self) -> str:
        hashed = hashlib.sha256()
        try:
            paths = state_files(self.arguments, self.recursive)
        except VaultStateError as exc:
            return f"error: {exc}"
        for path in paths:
            hashed.update(str(path).encode() + b"\0")
            try:
                hashed.update(path.read_bytes())
            except OSError as exc:
                hashed.update(f"unreadable: {exc.strerror}".encode())
            hashed.update(b"\0")
        return hashed.hexdigest()

    def read_changed(self) -> str:
        """The first file the last load read whose content differs from what it read (or a pattern
        whose matches differ), as a message; "" when none. What it found is taken as read from now
        on, so one change starts one run even when that run fails before reading the file again."""
        for path, seen in self.reads.files.items():
            now = file_digest(path)
            if now != seen:
                self.reads.files[path] = now
                return f"{path} changed" if now is not None and seen is not None else \
                    f"{path} {'appeared' if seen is None else 'is gone'}"
        for key, matched in self.reads.patterns.items():
            now_matched = _matched(*key)
            if now_matched != matched:
                self.reads.patterns[key] = now_matched
                return f"policy_files {key[1]} matches other files"
        return ""


def _matched(base: Path, pattern: str) -> tuple[Path, ...]:
    """What a `policy_files:` pattern matches now (as vault_state/spec/policy_files.py globs it)."""
    if (base / pattern).is_dir():
        pattern = f"{pattern.rstrip('/')}/*.hcl"
    try:
        return tuple(sorted(p.absolute() for p in base.glob(pattern) if p.suffix in SUFFIXES and p.is_file()))
    except (ValueError, OSError):
        return ()


def _stat(path: Any) -> tuple[object, ...]:
    try:
        info = path.stat()  # follows the symlinks a mounted ConfigMap swaps on update
    except OSError as exc:
        return (str(path), exc.errno)
    return (str(path), info.st_ino, info.st_mtime_ns, info.st_size)


@dataclass
class RunReport:
    """One run: the plan's result, what an apply did (None: no apply), and notes for the log line."""

    result: TargetResult
    applied: ApplyOutcome | None = None
    notes: list[str] = field(default_factory=list)
    reads: Reads | None = None
    """The files the plan's load read besides the state files (None: not recorded)."""


class Watcher:
    """The schedule, the readiness and the metrics of one watched server."""

    def __init__(self, settings: WatchSettings, run: Callable[[], RunReport], files: StateFiles,
                 log: Callable[[str], None]) -> None:
        self.settings, self.run, self.files, self.log = settings, run, files, log
        self.metrics = WatchMetrics()
        self.ready = False
        self.why_not_ready = "no plan has reached the server yet"
        self.ready_text = "ready"
        self.running = False
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self.metrics)
        ProcessCollector(registry=registry)
        self._metrics_app = make_wsgi_app(registry)

    def loop(self, stop: threading.Event) -> None:
        """Run until `stop` is set (or a run is interrupted): one run at a time, the next one
        `next_delay` after the last ended, or at once when the state files change."""
        stamp, digest = self.files.stamp(), self.files.digest()
        trigger: str | None = "start"
        due, failures, count = time.monotonic(), 0, 0
        while not stop.is_set():
            if self.files.stamp() != stamp:
                stamp, seen = self.files.stamp(), self.files.digest()
                if seen != digest:
                    digest, trigger, due = seen, trigger or "state files changed", time.monotonic()
                changed = self.files.read_changed()
                if changed:
                    trigger, due = trigger or changed, time.monotonic()
            if time.monotonic() >= due:
                count += 1
                report = self._run_once()
                if report is None:
                    return
                if report.reads is not None and (report.reads.files or report.reads.patterns):
                    self.files.reads = report.reads  # a load that stopped early keeps the last list
                    stamp = self.files.stamp()
                reached = report.result.reached
                failures = failures + 1 if reached is False else 0
                delay = next_delay(self.settings.interval, failures, self.settings.max_backoff)
                confirm = report.applied is not None and report.applied.changes > 0 and trigger != "confirm"
                if confirm:  # check at once that the server now matches (a second apply at most)
                    delay = 0.0
                self.log(_line(count, trigger or "schedule", report, delay, failures))
                trigger, due = ("confirm" if confirm else None), time.monotonic() + delay
                changed = self.files.read_changed()  # changed while the run was loading it
                if changed:
                    trigger, due = trigger or changed, time.monotonic()
            stop.wait(max(0.0, min(TICK, due - time.monotonic(), self.settings.interval)))

    def _run_once(self) -> RunReport | None:
        self.running = True
        try:
            report = self.run()
        except KeyboardInterrupt:  # a second signal during a run, or SIGTERM during an apply: a plan
            self.log("interrupted the run in progress")  # writes nothing; an apply releases its lock
            return None
        finally:
            self.running = False
        history = self.metrics.record(report.result, report.applied)
        if history.reached is not None:
            self.ready = history.reached
            error = report.result.error
            self.why_not_ready = "" if history.reached else f"the last plan did not reach the server: {error}"
        return report

    def app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """/metrics (Prometheus text), /healthz (the process answers), /readyz (the last plan
        reached the server)."""
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            return _plain(start_response, "200 OK", "ok")
        if path == "/readyz":
            if self.ready:
                return _plain(start_response, "200 OK", self.ready_text)
            return _plain(start_response, "503 Service Unavailable", f"not ready: {self.why_not_ready}")
        return _plain(start_response, "404 Not Found", "not found: try /metrics, /healthz or /readyz")

    def serve(self) -> ThreadingWSGIServer:
        """Start the HTTP server on its own threads; ConfigurationError when the address cannot be bound."""
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET

        class Server(ThreadingWSGIServer):
            address_family = family

        try:
            server = make_server(self.settings.host, self.settings.port, self.app, Server, _QuietHandler)
        except OSError as exc:
            where = f"{self.settings.host}:{self.settings.port}"
            raise ConfigurationError(f"--listen: cannot listen on {where}: {exc.strerror or exc}") from None
        threading.Thread(target=server.serve_forever, name="vault-state-http", daemon=True).start()
        return server


class _QuietHandler(WSGIRequestHandler):
    """No access log: Prometheus scrapes and probes would drown the one line per run."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode() + b"\n"]


def _line(count: int, trigger: str, report: RunReport, delay: float, failures: int) -> str:
    """The one log line of a run: what the plan found (or why it failed), what apply did, when next."""
    result = report.result
    took = shown_seconds(result.duration)
    if result.plan is None:
        what = f"plan failed ({took}): {result.error}"
    elif not result.plan.has_changes:
        what = f"no changes ({took})"
    else:
        counts = result.plan.counts()
        changes = len(result.plan.actionable)
        what = (f"{changes} change{'s' if changes != 1 else ''}: {counts['add']} to add, {counts['change']} to change, "
                f"{counts['destroy']} to destroy ({took})")
    if report.applied is not None:
        what += f"; applied {report.applied.changes}" if report.applied.ok else "; apply failed"
    notes = "".join(f"; {note}" for note in report.notes)
    what, notes = _one_line(what), _one_line(notes)
    backing = f" (backing off: {failures} run{'s' if failures > 1 else ''} in a row could not reach the server)" \
        if failures else ""
    return f"run {count} ({trigger}) {result.target}: {what}{notes}; next in {shown_seconds(delay)}{backing}"


def _one_line(text: str) -> str:
    """Several lines (the paths a 403 named, located file errors) joined with `; `: one line per run."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def watch(settings: WatchSettings, run: Callable[[], RunReport], files: StateFiles,
          log: Callable[[str], None]) -> int:
    """Serve, then run until SIGTERM or SIGINT; returns the exit code (0 on such a stop)."""
    return serve_and_loop(Watcher(settings, run, files, log))


def serve_and_loop(watcher: Watcher) -> int:
    """Serve the watcher's metrics and probes, then run its loop until SIGTERM or SIGINT (exit code 0)."""
    settings, log = watcher.settings, watcher.log
    server = watcher.serve()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    log(f"serving /metrics, /healthz and /readyz on http://{host}:{server.server_port}; planning every "
        f"{shown_seconds(settings.interval)}{', applying changes' if settings.apply else ''}")
    stop = threading.Event()
    restore = _stop_on_signals(stop, watcher)
    try:
        watcher.loop(stop)
    except KeyboardInterrupt:  # a signal between two runs' bookkeeping
        pass
    finally:
        restore()
        server.shutdown()
        server.server_close()
    log("stopped")
    return 0


def _stop_on_signals(stop: threading.Event, watcher: Watcher) -> Callable[[], None]:
    """SIGTERM and SIGINT stop the loop once the run in progress has ended (its login token revoked,
    its result recorded); a second signal interrupts that run. While an apply holds the lock, the
    lock installs its own SIGTERM handler (vault_state/lock.py), which interrupts the apply and
    releases the lock, as for `apply`. Only the main thread can take signals: elsewhere (tests
    running watch in a thread) `stop` alone ends it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: object) -> None:
        if stop.is_set() and watcher.running:
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
