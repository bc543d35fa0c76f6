"""A real 3-node raft cluster: plan/apply through a standby, and the leader killed in the middle of an apply.

One cluster is shared by these tests (about 12 s to start); each test leaves it with three healthy nodes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, write_state
from ha import Cluster, Node, dump

from vault_state.plan.model import Call
from vault_state.sensitive import Sensitive
from vault_state.vault.connection import Connection
from vault_state.vault.gateway import Gateway
from vault_state.vault.retry import RetryPolicy

pytestmark = pytest.mark.ha  # `make test` runs a file on one worker (--dist loadfile): one cluster

ONE_POLICY = 'path "kv/data/{name}/*" {{ capabilities = ["read"] }}'
# Counted by docs/reliability.md's figures (the suite prints them with -rA).
FIGURES: dict[str, int] = {"leader_kills": 0, "runs_survived": 0}


@pytest.fixture(scope="session")  # session: random test order must not start a second cluster
def cluster() -> Iterator[Cluster]:
    started = Cluster().start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def ha_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch, None)


def env_for(cluster: Cluster, node: Node) -> dict[str, str]:
    return {"VAULT_ADDR": node.address, "VAULT_TOKEN": cluster.token}


def failed_lines(out: str) -> str:
    return "\n".join(line for line in out.splitlines() if "FAILED" in line)


def many_policies(prefix: str, count: int) -> str:
    lines = ["version: 1", "policies:"]
    lines += [f"  {prefix}-{i:03d}: '{ONE_POLICY.format(name=i)}'" for i in range(count)]
    return "\n".join(lines) + "\n"


def test_plan_and_apply_through_a_standby(cluster: Cluster, ha_cli: Cli, tmp_path: Path) -> None:
    standby = cluster.standby()
    state = str(write_state(tmp_path, """
version: 1
secrets_engines:
  ha-kv: {type: kv, version: 2, kv_config: {max_versions: 3}}
policies:
  ha-reader: 'path "ha-kv/data/*" { capabilities = ["read"] }'
auth_methods:
  ha-approle:
    type: approle
    roles:
      ci: {token_policies: [ha-reader], token_ttl: 10m}
"""))
    env = env_for(cluster, standby)
    assert "+ secrets_engine/ha-kv" in ha_cli("plan", "-f", state, env=env).out
    applied = ha_cli("apply", "-f", state, "--auto-approve", env=env)
    assert applied.code == 0, applied.err
    again = ha_cli("plan", "-f", state, "--detailed-exitcode", env=env)
    assert (again.code, again.err) == (0, "")
    assert "No changes." in again.out


def test_read_after_write_on_a_standby_without_the_leader(cluster: Cluster) -> None:
    """With leader discovery off, the X-Vault-Index of a write makes the next read on a standby consistent."""
    standby = cluster.standby()
    connection = Connection(address=standby.address, token=Sensitive(cluster.token))
    gateway = Gateway(connection, follow_leader=False, retry=RetryPolicy(base=0.02))
    for i in range(2):  # a KV v2 mount is unusable on a standby for about a second: retried, not failed
        gateway.request("POST", f"sys/mounts/raw-kv-{i}", {"type": "kv", "options": {"version": "2"}})
        assert gateway.read(f"raw-kv-{i}/config") is not None
    for i in range(20):
        gateway.request("POST", f"sys/policies/acl/raw-{i}", {"policy": ONE_POLICY.format(name=i)})
        assert gateway.read(f"sys/policies/acl/raw-{i}") is not None
    assert gateway.index.headers()["X-Vault-Inconsistent"] == "forward-active-node"


def kill_at_write(monkeypatch: pytest.MonkeyPatch, cluster: Cluster, victim: Node, writes: int) -> None:
    """Fault injection: SIGKILL `victim` just before the apply's `writes`-th call is sent (deterministic)."""
    sent = itertools.count(1)
    original = Gateway.execute

    def execute(self: Gateway, call: Call) -> list[str]:
        if next(sent) == writes:
            cluster.kill(victim)
            FIGURES["leader_kills"] += 1
        return original(self, call)

    monkeypatch.setattr(Gateway, "execute", execute)


def test_leader_killed_mid_apply_through_a_standby_completes(
    cluster: Cluster, ha_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    leader, standby = cluster.leader(), cluster.standby()
    assert leader is not None
    state = str(write_state(tmp_path, many_policies("survive", 300)))
    env = env_for(cluster, standby)
    kill_at_write(monkeypatch, cluster, leader, 60)
    try:
        applied = ha_cli("apply", "-f", state, "--auto-approve", env=env)
        assert not leader.alive, "the leader was not killed during the apply"
        assert applied.code == 0, failed_lines(applied.out)
        FIGURES["runs_survived"] += 1
        again = ha_cli("plan", "-f", state, "--detailed-exitcode", env=env)
        assert (again.code, again.err) == (0, ""), again.out
    finally:
        cluster.restart(leader)


def test_leader_killed_under_the_client_reports_and_converges(
    cluster: Cluster, ha_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pointed at the node that dies: the run ends with a report, and a rerun elsewhere converges."""
    leader = cluster.leader()
    assert leader is not None
    survivor = next(n for n in cluster.nodes if n is not leader)
    state = str(write_state(tmp_path, many_policies("report", 300)))
    kill_at_write(monkeypatch, cluster, leader, 60)
    try:
        applied = ha_cli("apply", "-f", state, "--auto-approve",
                         env={**env_for(cluster, leader), "VAULT_MAX_RETRIES": "3"})
        monkeypatch.undo()
        assert applied.code == 1
        assert "Traceback" not in applied.err
        assert f"cannot reach {leader.address}: connection refused" in applied.out + applied.err
        assert "not applied. Fix the cause and run apply again to converge." in applied.err
        stale = re.search(r"the apply lock could not be released \(.*\); once the server is back: "
                          r"vault-state force-unlock (\S+)", applied.err)
        assert stale is not None, applied.err
        assert ha_cli("force-unlock", stale.group(1), env=env_for(cluster, survivor)).code == 0
        rerun = ha_cli("apply", "-f", state, "--auto-approve", env=env_for(cluster, survivor))
        assert rerun.code == 0, failed_lines(rerun.out) + dump(cluster) + f" leader was {leader.name}"
        FIGURES["runs_survived"] += 1
        again = ha_cli("plan", "-f", state, "--detailed-exitcode", env=env_for(cluster, survivor))
        assert (again.code, again.err) == (0, ""), again.out
    finally:
        cluster.restart(leader)
