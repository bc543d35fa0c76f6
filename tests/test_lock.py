"""The apply lock held in Vault: concurrent applies, waiting, stale locks, force-unlock, plan writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import Cli, read, write_state

from vault_state.lock import LOCK_DATA, ApplyLock, LockError, held
from vault_state.sandbox import DevServer
from vault_state.sensitive import Sensitive
from vault_state.vault.connection import Connection
from vault_state.vault.gateway import Gateway

SIMPLE = """
version: 1
prune: {policies: true}
policies:
  reader: 'path "kv/data/*" { capabilities = ["read"] }'
"""


def gateway_for(bao: DevServer) -> Gateway:
    return Gateway(Connection(address=bao.address, token=Sensitive(bao.token)))


def lock_data(bao: DevServer) -> dict[str, object]:
    return dict(read(bao, LOCK_DATA).get("data") or {})


def test_second_apply_fails_cleanly_while_the_lock_is_held(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    other = ApplyLock(gateway_for(bao))
    info = other.acquire(0)
    refused = cli("apply", "-f", state, "--auto-approve")
    assert refused.code == 1
    assert refused.err.startswith(f"error: the apply lock is held: ID {info.id}, held by ")
    assert refused.err.strip().endswith(f"if it died: vault-state force-unlock {info.id}")
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 404  # nothing applied
    other.release()
    assert cli("apply", "-f", state, "--auto-approve").code == 0
    assert lock_data(bao) == {}  # released at exit


def test_an_apply_waits_for_the_lock(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    other = ApplyLock(gateway_for(bao))
    other.acquire(0)
    threading.Timer(1.0, other.release).start()
    result = cli("apply", "-f", state, "--auto-approve", "--lock-timeout", "20s")
    assert result.code == 0, result.err
    assert "+ policy/reader" in result.out


def test_two_concurrent_applies_do_not_interleave(bao: DevServer) -> None:
    """Many threads race for the lock: at most one holds it at any time, and every one gets it in turn."""
    holders: list[int] = []
    inside = threading.Lock()
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with held(ApplyLock(gateway_for(bao)), timeout=30):
                assert inside.acquire(blocking=False), "two runs held the lock at once"
                holders.append(n)
                bao.request("PUT", f"sys/policies/acl/race-{n}", {"policy": 'path "a" { capabilities = ["read"] }'})
                inside.release()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(holders) == [0, 1, 2, 3]
    assert lock_data(bao) == {}


def test_concurrent_cli_applies_end_in_the_right_state(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE + "".join(
        f"  p{i}: 'path \"x/{i}\" {{ capabilities = [\"read\"] }}'\n" for i in range(30))))
    results: list[int] = []
    from vault_state.cli import main

    def run() -> None:
        results.append(main(["apply", "-f", state, "--auto-approve", "--lock-timeout", "30s"]))

    with pytest.MonkeyPatch.context() as patch:
        for key, value in bao.env().items():
            patch.setenv(key, value)
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert results == [0, 0]
    assert cli("plan", "-f", state, "--detailed-exitcode").code == 0


def test_a_stale_lock_is_force_unlocked_or_taken_over(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    stale = ApplyLock(gateway_for(bao)).acquire(0)  # a run that died without releasing
    wrong = cli("force-unlock", "not-the-id")
    assert wrong.code == 1 and f"the apply lock has another ID: ID {stale.id}" in wrong.err
    unlocked = cli("force-unlock", stale.id)
    assert unlocked.code == 0 and unlocked.out.startswith(f"released the apply lock ID {stale.id}, held by ")
    assert cli("force-unlock", stale.id).err.strip() == "error: the apply lock is not held; nothing to unlock"
    expired = ApplyLock(gateway_for(bao), ttl=-1).acquire(0)  # expired at once: the next apply takes it over
    assert lock_data(bao)["id"] == expired.id
    assert cli("apply", "-f", state, "--auto-approve").code == 0
    assert lock_data(bao) == {}


def test_plan_writes_nothing_and_never_shows_the_lock(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE.replace("prune: {policies: true}", "prune: {secrets_engines: true}")))
    assert cli("plan", "-f", state).code == 0
    assert "vault-state/" not in bao.request("GET", "sys/mounts").json()["data"]  # plan made no write
    assert cli("apply", "-f", state, "--auto-approve").code == 0  # creates the lock mount
    assert "vault-state/" in bao.request("GET", "sys/mounts").json()["data"]
    again = cli("plan", "-f", state)
    assert "vault-state" not in again.out and "No changes." in again.out
    exported = cli("export")
    assert exported.code == 0 and "vault-state:" not in exported.out and "vault-state/" not in exported.out


def test_lock_timeout_must_be_a_duration(cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    result = cli("apply", "-f", state, "--auto-approve", "--lock-timeout", "soon")
    assert result.code == 1 and result.err.startswith("error: --lock-timeout: invalid duration 'soon'")


def test_lock_error_is_a_vault_state_error() -> None:
    assert issubclass(LockError, Exception)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_lock_is_released_on_interrupt(bao: DevServer, tmp_path: Path, signum: int) -> None:
    state = write_state(tmp_path, "version: 1\npolicies:\n" + "".join(
        f"  p{i}: 'path \"x/{i}\" {{ capabilities = [\"read\"] }}'\n" for i in range(1500)))
    env = {**os.environ, **bao.env(), "HOME": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "vault_state", "apply", "-f", str(state), "--auto-approve",
                                "--parallelism", "1"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not lock_data(bao) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    assert lock_data(bao) == {}
