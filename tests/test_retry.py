"""The retry policy (a table) and the gateway's retries against a real server that goes away and comes back."""

from __future__ import annotations

import threading
import time

import pytest

from vault_state.errors import VaultApiError, VaultConnectionError
from vault_state.plan.model import Call
from vault_state.sandbox import DevServer
from vault_state.sensitive import Sensitive
from vault_state.vault.connection import Connection
from vault_state.vault.consistency import IndexTracker, active_address
from vault_state.vault.gateway import Gateway
from vault_state.vault.retry import RetryPolicy, done_by_earlier_attempt, transient_reason

FAST = RetryPolicy(attempts=30, base=0.02, cap=0.2, budget=10.0)


@pytest.mark.parametrize(("status", "errors", "expected"), [
    (200, [], None),
    (204, [], None),
    (400, ["invalid request"], None),
    (403, ["permission denied"], None),
    (404, [], None),
    (404, ['no handler for route "kv/config". route entry not found.'], "HTTP 404 (mount not ready on this node)"),
    (400, ["Waiting for the primary to upgrade from non-versioned to versioned data. This backend will be "
           "unavailable for a brief period and will resume service when the primary is finished."],
     "HTTP 400 (mount not ready on this node)"),
    (400, ["Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period"],
     "HTTP 400 (mount not ready on this node)"),
    (412, [], "HTTP 412 (standby not caught up)"),
    (429, [], "HTTP 429 (standby not caught up)"),
    (500, ["local node not active but active cluster node not found"], "HTTP 500"),
    (503, ["Vault is sealed"], "HTTP 503"),
])
def test_transient_reason(status: int, errors: list[str], expected: str | None) -> None:
    assert transient_reason(status, errors) == expected


def test_backoff_is_bounded_and_jittered() -> None:
    policy = RetryPolicy(attempts=5, base=0.1, cap=1.0, budget=3.0)
    assert [policy.delay(n, lambda: 1.0) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert [policy.delay(n, lambda: 0.0) for n in range(6)] == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]
    assert policy.delay(3, lambda: 0.5) == 0.6000000000000001
    assert [policy.allows(n, 0.0) for n in range(5)] == [True, True, True, True, False]
    assert not policy.allows(0, 3.0)


def test_max_retries_from_the_environment() -> None:
    assert RetryPolicy.from_env({"VAULT_MAX_RETRIES": "0"}).attempts == 1
    assert RetryPolicy.from_env({"BAO_MAX_RETRIES": "4"}).attempts == 5
    assert RetryPolicy.from_env({"VAULT_MAX_RETRIES": "lots"}) == RetryPolicy()


def test_a_mount_enabled_twice_after_a_lost_answer_is_done() -> None:
    assert done_by_earlier_attempt("POST", "sys/mounts/kv", 400, ["path is already in use at kv/"])
    assert done_by_earlier_attempt("POST", "sys/auth/approle", 400, ["path is already in use at approle/"])
    assert not done_by_earlier_attempt("POST", "sys/policies/acl/p", 400, ["path is already in use at kv/"])
    assert not done_by_earlier_attempt("POST", "sys/mounts/kv", 400, ["invalid backend version"])


def test_index_is_kept_from_writes_only() -> None:
    tracker = IndexTracker()
    assert tracker.headers() == {}
    tracker.observe("GET", {"X-Vault-Index": "from-a-read"})
    assert tracker.headers() == {}
    tracker.observe("POST", {"X-Vault-Index": "abc"})
    assert tracker.headers() == {"X-Vault-Index": "abc", "X-Vault-Inconsistent": "forward-active-node"}


@pytest.mark.parametrize(("leader", "expected"), [
    ({"ha_enabled": False}, None),
    ({"ha_enabled": True, "is_self": True, "leader_address": "http://127.0.0.1:1"}, None),
    ({"ha_enabled": True, "is_self": False, "leader_address": "http://127.0.0.1:2/"}, "http://127.0.0.1:2"),
    ({"ha_enabled": True, "is_self": False, "leader_address": ""}, None),
    ({"ha_enabled": True, "is_self": False, "leader_address": "http://127.0.0.1:1"}, None),
])
def test_active_address(leader: dict[str, object], expected: str | None) -> None:
    assert active_address(leader, "http://127.0.0.1:1") == expected


def gateway_for(server: DevServer, retry: RetryPolicy = FAST) -> Gateway:
    return Gateway(Connection(address=server.address, token=Sensitive(server.token)), retry=retry)


def test_permanent_errors_fail_at_once_with_the_servers_message(bao: DevServer) -> None:
    gateway = gateway_for(bao)
    with pytest.raises(VaultApiError) as caught:
        gateway.execute(Call("POST", "sys/mounts/x", {"type": "no-such-engine"}))
    assert str(caught.value).startswith("POST sys/mounts/x: HTTP 400: ")
    with pytest.raises(VaultApiError, match=r"permission denied: the token may not GET sys/mounts \(HTTP 403\)"):
        Gateway(Connection(address=bao.address, token=Sensitive("not-a-token")), retry=FAST).read("sys/mounts")
    assert gateway.read("sys/policies/acl/nothing-here") is None
    assert (gateway.faults_retried, gateway.requests_made) == (0, 2)


def test_a_server_that_comes_back_is_retried(bao: DevServer) -> None:
    """Connection refused in the middle of a run (the node restarts on the same address): retried."""
    gateway = gateway_for(bao)
    assert gateway.read("sys/mounts") is not None
    bao.stop()
    replacement = DevServer(port=bao.port, token=bao.token)
    threading.Timer(0.5, replacement.start).start()
    try:
        assert gateway.read("sys/mounts") is not None
        assert gateway.faults_retried >= 1
    finally:
        time.sleep(0.1)
        replacement.stop()


def test_a_server_that_stays_down_fails_with_the_reason(bao: DevServer) -> None:
    gateway = gateway_for(bao, RetryPolicy(attempts=3, base=0.01))
    assert gateway.read("sys/mounts") is not None
    bao.stop()
    with pytest.raises(VaultConnectionError, match=f"cannot reach {bao.address}: connection refused"):
        gateway.read("sys/mounts")
    assert gateway.faults_retried == 2
