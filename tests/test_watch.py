"""vault-state watch as a real process against real OpenBao dev servers: drift seen on /metrics,
repaired by --apply (within apply's guards), readiness that follows the server, state files re-read,
a clean stop on SIGTERM. Nothing is timed: every wait polls with a generous timeout."""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from conftest import Cli, write_state
from test_login import accessors, setup_approle
from test_metrics import Samples, samples, value

from vault_state.errors import ConfigurationError
from vault_state.metrics import TargetResult
from vault_state.plan.model import Plan
from vault_state.sandbox import DevServer, free_port
from vault_state.watch import (
    RunReport,
    StateFiles,
    Watcher,
    WatchSettings,
    next_delay,
    parse_listen,
    positive_duration,
    shown_seconds,
)

STATE = """
version: 1
policies:
  a: 'path "kv/data/a" { capabilities = ["read"] }'
  b: 'path "kv/data/b" { capabilities = ["read"] }'
"""
WAIT = 60.0


def until(check: Callable[[], object], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


@dataclass
class Watch:
    """A `vault-state watch` process; its stderr goes to `log`."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def text(self) -> str:
        return self.log.read_text()

    def metrics(self) -> Samples:
        return samples(requests.get(f"{self.url}/metrics", timeout=5).text)

    def status(self, path: str) -> int:
        return requests.get(f"{self.url}{path}", timeout=5).status_code

    def gauge(self, name: str, **labels: str) -> float | None:
        return value(self.metrics(), name, **labels)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=WAIT)


@pytest.fixture
def start_watch(tmp_path: Path) -> Iterator[Callable[..., Watch]]:
    started: list[Watch] = []

    def start(server: DevServer, *args: str, env: dict[str, str] | None = None) -> Watch:
        log = tmp_path / f"watch-{len(started)}.log"
        env = {**os.environ, **server.env(), "VAULT_MAX_RETRIES": "0", "HOME": str(tmp_path), **(env or {})}
        command = [sys.executable, "-m", "vault_state", "watch", "--interval", "0.2s", "--listen", "127.0.0.1:0",
                   "--max-backoff", "1s", *args]
        watch = Watch(subprocess.Popen(command, stderr=log.open("wb"), stdout=subprocess.DEVNULL, env=env), log)
        started.append(watch)
        until(lambda: "serving /metrics" in watch.text() or watch.process.poll() is not None, "watch serves")
        found = re.search(r"on (http://127\.0\.0\.1:\d+);", watch.text())
        assert found, watch.text()
        watch.url = found[1]
        return watch

    yield start
    for watch in started:
        if watch.process.poll() is None:
            watch.process.kill()
            watch.process.wait()


def test_watch_sees_drift_and_picks_up_a_changed_file(cli: Cli, bao: DevServer, tmp_path: Path,
                                                      start_watch: Callable[..., Watch]) -> None:
    state = write_state(tmp_path, STATE)
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    watch = start_watch(bao, "-f", str(state))
    target = bao.address

    def drift(action: str = "create") -> float | None:
        return watch.gauge("vault_state_drift_objects", target=target, kind="policy", action=action)

    until(lambda: drift() == 0 and watch.status("/readyz") == 200, "in sync and ready")
    bao.request("DELETE", "sys/policies/acl/a")  # drift by hand
    until(lambda: drift() == 1, "the deleted policy seen as drift")
    assert watch.gauge("vault_state_drift", target=target) == 1
    assert bao.request("GET", "sys/policies/acl/a").status_code == 404  # without --apply nothing is written

    state.write_text(STATE + "  c: 'path \"kv/data/c\" { capabilities = [\"read\"] }'\n")
    until(lambda: drift() == 2, "the new file's policy c planned")
    assert re.search(r"run \d+ \(state files changed\) " + re.escape(target) + r": 2 changes: 2 to add", watch.text())

    state.write_text("version: 1\npolicies:\n  a: [1]\n")  # a bad file: a metric and a log line
    until(lambda: watch.gauge("vault_state_input_valid", target=target) == 0, "the bad file seen")
    assert watch.gauge("vault_state_plan_success", target=target) == 0
    assert "plan failed" in watch.text() and f"{state}:3:6:" in watch.text()
    assert watch.status("/readyz") == 200  # a bad file says nothing of the server
    assert (watch.gauge("vault_state_runs_total", target=target, result="error") or 0) >= 1

    assert watch.stop() == 0
    assert watch.text().splitlines()[-1] == "vault-state watch: stopped"
    assert bao.token not in watch.text()


def test_watch_apply_repairs_drift_within_the_destroy_guard(bao: DevServer, tmp_path: Path,
                                                            start_watch: Callable[..., Watch]) -> None:
    state = write_state(tmp_path, STATE + "secrets_engines:\n  tr:\n    type: transit\n")
    watch = start_watch(bao, "-f", str(state), "--apply")
    target = bao.address
    until(lambda: bao.request("GET", "sys/policies/acl/b").status_code == 200, "the first run applies")
    until(lambda: watch.gauge("vault_state_drift", target=target) == 0, "the confirming run finds no changes")
    assert watch.gauge("vault_state_applied_changes_total", target=target) == 3
    assert re.search(r"run 2 \(confirm\) .*: no changes", watch.text()), watch.text()

    bao.request("DELETE", "sys/policies/acl/a")
    until(lambda: bao.request("GET", "sys/policies/acl/a").status_code == 200, "the deleted policy written again")
    until(lambda: watch.gauge("vault_state_applied_changes_total", target=target) == 4, "one more change applied")
    assert watch.gauge("vault_state_apply_success", target=target) == 1

    # A mount of another type at tr/: repairing it replaces the mount, which destroys its data.
    bao.request("DELETE", "sys/mounts/tr")
    bao.request("POST", "sys/mounts/tr", {"type": "kv"})
    until(lambda: watch.gauge("vault_state_apply_success", target=target) == 0, "the apply refused")
    assert watch.gauge("vault_state_drift_objects", target=target, kind="secrets_engine", action="replace") == 1
    assert "pass --allow-destroy" in watch.text()
    assert bao.request("GET", "sys/mounts/tr").json()["data"]["type"] == "kv"  # nothing destroyed
    assert watch.stop() == 0


def test_readiness_follows_the_server(tmp_path: Path, start_watch: Callable[..., Watch]) -> None:
    server = DevServer().start()
    try:
        state = write_state(tmp_path, STATE)
        watch = start_watch(server, "-f", str(state))
        target = server.address
        until(lambda: watch.status("/readyz") == 200, "ready once a plan reached the server")
        server.stop()
        until(lambda: watch.status("/readyz") == 503, "not ready while the server is down")
        assert watch.status("/healthz") == 200
        assert watch.gauge("vault_state_server_reachable", target=target) == 0
        assert watch.gauge("vault_state_plan_success", target=target) == 0
        until(lambda: "backing off" in watch.text(), "the waits grow")
        body = requests.get(f"{watch.url}/readyz", timeout=5).text
        assert body == f"not ready: the last plan did not reach the server: cannot reach {target}: connection refused\n"

        server = DevServer(port=server.port, token=server.token).start()  # back, on the same address
        until(lambda: watch.status("/readyz") == 200, "ready again")
        assert watch.gauge("vault_state_server_reachable", target=target) == 1
        assert watch.stop() == 0
    finally:
        server.stop()


def test_sigint_stops_between_runs_and_a_changed_file_is_planned_at_once(bao: DevServer, tmp_path: Path,
                                                              start_watch: Callable[..., Watch]) -> None:
    state = write_state(tmp_path, STATE)
    watch = start_watch(bao, "-f", str(state), "--interval", "1h")
    until(lambda: "run 1 (start)" in watch.text(), "the first run")
    assert watch.status("/nope") == 404
    state.write_text(STATE.replace("kv/data/a", "kv/data/a2"))  # picked up at once, not in an hour
    until(lambda: "run 2 (state files changed)" in watch.text(), "the changed file planned")
    watch.process.send_signal(signal.SIGINT)
    assert watch.process.wait(timeout=WAIT) == 0
    assert re.search(r"^vault-state watch: run 1 \(start\) .*: 2 changes: .*; next in 1h$", watch.text(), re.MULTILINE)
    assert watch.text().splitlines()[-1] == "vault-state watch: stopped"
    assert bao.token not in watch.text()


def test_watch_logs_in_for_each_run(bao: DevServer, tmp_path: Path, start_watch: Callable[..., Watch]) -> None:
    """A token that lives 3 s: watch outlives it because each run logs in, and revokes its token."""
    env = setup_approle(bao)
    bao.request("POST", "auth/approle/role/vs", {"token_ttl": "3s", "token_max_ttl": "3s"})
    before = accessors(bao)
    watch = start_watch(bao, "-f", str(write_state(tmp_path, STATE)), "--login", "approle", env=env)
    started = time.monotonic()
    until(lambda: time.monotonic() - started > 5 and watch.status("/readyz") == 200, "runs past the token's TTL")
    target = bao.address
    assert watch.gauge("vault_state_runs_total", target=target, result="error") == 0
    assert (watch.gauge("vault_state_runs_total", target=target, result="success") or 0) >= 5
    assert watch.stop() == 0
    assert accessors(bao) == before  # every run's token was revoked, not left to expire
    assert env["VAULT_SECRET_ID"] not in watch.text()


def test_one_run_at_a_time_and_the_interval_counts_from_the_end(tmp_path: Path) -> None:
    """The Watcher's schedule in-process, with runs that take longer than the interval."""
    (tmp_path / "state.yaml").write_text(STATE)
    spans: list[tuple[float, float]] = []
    stop = threading.Event()

    def run() -> RunReport:
        began = time.monotonic()
        time.sleep(0.3)
        spans.append((began, time.monotonic()))
        if len(spans) == 4:
            stop.set()
        return RunReport(TargetResult("t", Plan(()), None, 0.3))

    settings = WatchSettings(interval=0.05, host="127.0.0.1", port=0, apply=False, max_backoff=1.0)
    lines: list[str] = []
    watcher = Watcher(settings, run, StateFiles([str(tmp_path / "state.yaml")], False), lines.append)
    worker = threading.Thread(target=watcher.loop, args=(stop,))
    worker.start()
    worker.join(WAIT)
    assert not worker.is_alive() and len(spans) == 4
    for (_, ended), (began, _) in itertools.pairwise(spans):
        assert began - ended >= 0.05  # never overlapping: each run starts an interval after the last ended
    assert lines[0] == "run 1 (start) t: no changes (0.3s); next in 0.05s"
    assert watcher.ready


def test_watch_usage_errors(offline_cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    env = {"VAULT_ADDR": f"http://127.0.0.1:{free_port()}", "VAULT_TOKEN": "t"}
    assert offline_cli("watch", "-f", state, "--interval", "0s", env=env).err.strip() == \
        "error: --interval: must be more than 0, got '0s'"
    assert offline_cli("watch", "-f", state, "--listen", "9102", env=env).err.strip() == \
        "error: --listen '9102': expected [HOST]:PORT, e.g. :9102, 127.0.0.1:9102, [::]:9102"
    assert offline_cli("watch", "-f", state, "--allow-destroy", env=env).err.strip() == \
        "error: --allow-destroy: only with --apply"
    assert offline_cli("watch", "-f", state, "--apply", "--lock-timeout", "soon", env=env).err.strip() == \
        "error: --lock-timeout: invalid duration 'soon': use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = offline_cli("watch", "-f", state, "--listen", f"127.0.0.1:{port}", env=env)
    assert result.code == 1
    assert result.err.strip() == f"error: --listen: cannot listen on 127.0.0.1:{port}: Address already in use"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":9102", ("0.0.0.0", 9102)),
        ("127.0.0.1:9102", ("127.0.0.1", 9102)),
        ("[::]:9102", ("::", 9102)),
        ("[::1]:0", ("::1", 0)),
        ("localhost:80", ("localhost", 80)),
    ],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["9102", ":", "::9102", "127.0.0.1:x", ":70000", "[::]"])
def test_parse_listen_refuses(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_listen(text)


@pytest.mark.parametrize(
    ("interval", "failures", "cap", "delay"),
    [
        (300.0, 0, 1800.0, 300.0),
        (300.0, 1, 1800.0, 600.0),
        (300.0, 2, 1800.0, 1200.0),
        (300.0, 3, 1800.0, 1800.0),  # capped
        (300.0, 40, 1800.0, 1800.0),
        (3600.0, 2, 1800.0, 3600.0),  # never shorter than the interval
        (0.2, 3, 1.0, 1.0),
    ],
)
def test_next_delay(interval: float, failures: int, cap: float, delay: float) -> None:
    assert next_delay(interval, failures, cap) == delay


def test_durations_and_their_display() -> None:
    assert positive_duration("--interval", "200ms") == 0.2
    assert positive_duration("--interval", "5m") == 300
    with pytest.raises(ConfigurationError, match="--interval: invalid duration '5 minutes'"):
        positive_duration("--interval", "5 minutes")
    assert [shown_seconds(s) for s in (300.0, 5400.0, 0.8, 0.0375, 90.5)] == ["5m", "1h30m", "0.8s", "0.0375s", "90.5s"]


def test_state_files_change_on_content_not_on_touch(tmp_path: Path) -> None:
    directory = tmp_path / "state"
    directory.mkdir()
    (directory / "a.yaml").write_text("version: 1\n")
    files = StateFiles([str(directory)], recursive=False)
    stamp, digest = files.stamp(), files.digest()
    os.utime(directory / "a.yaml", ns=(1, 1))
    assert files.stamp() != stamp and files.digest() == digest  # touched: no run
    (directory / "b.yaml").write_text("policies: {}\n")
    assert files.digest() != digest  # a new file in the directory
    (directory / "a.yaml").unlink()
    (directory / "b.yaml").unlink()
    assert files.digest().startswith("error: -f ")  # an empty directory is a state that cannot load
