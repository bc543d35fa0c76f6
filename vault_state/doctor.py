"""`vault-state doctor`: the guide's troubleshooting list, checked against the live server and cluster.

Server side here (reachable, unsealed, the token may read what plan reads); cluster side in
kube/doctor.py. Each check is a Finding: ok, warn or fail, with the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vault_state.errors import VaultStateError
from vault_state.findings import Finding, fail, ok
from vault_state.kube.doctor import cluster_findings
from vault_state.spec.models import StateFile
from vault_state.spec.sources import Resolver
from vault_state.vault.gateway import Gateway


def diagnose(state: StateFile, gateway: Gateway, resolver: Resolver, cluster: Callable[[], Any]) -> list[Finding]:
    return [*server_findings(state, gateway), *cluster_findings(state, resolver, cluster)]


def server_findings(state: StateFile, gateway: Gateway) -> list[Finding]:
    address = gateway.connection.address
    try:
        status, seal = gateway.request("GET", "sys/seal-status")
    except VaultStateError as exc:
        return [fail(f"server {address}: {exc}", "check VAULT_ADDR / --address, the network and VAULT_CACERT")]
    if status >= 400 or seal.get("sealed", True):
        return [fail(f"server {address} is sealed or not initialised",
                     "unseal it (vault operator unseal / bao operator unseal)")]
    found = [ok(f"server {address} is reachable and unsealed (version {seal.get('version', '?')})")]
    return found + _token_findings(state, gateway)


def needed_reads(state: StateFile) -> dict[str, str]:
    """Path -> capability that plan needs for the sections this file has."""
    needs = {"sys/policies/acl": "list"}
    if state.secrets_engines:
        needs["sys/mounts"] = "read"
    for mount, engine in state.secrets_engines.items():
        if engine.kv_config is not None:
            needs[f"{mount}/config"] = "read"
    if state.auth_methods:
        needs["sys/auth"] = "read"
    for mount in state.auth_methods:
        needs[f"auth/{mount}/config"] = "read"
        needs[f"auth/{mount}/role"] = "list"
    for name in state.policies:
        needs[f"sys/policies/acl/{name}"] = "read"
    return needs


def _token_findings(state: StateFile, gateway: Gateway) -> list[Finding]:
    needs = needed_reads(state)
    status, payload = gateway.request("POST", "sys/capabilities-self", {"paths": sorted(needs)})
    if status >= 400:
        return [fail(f"the token cannot be used (HTTP {status}): expired, revoked or wrong",
                     "log in again or set VAULT_TOKEN / --token")]
    data = payload.get("data") or payload
    missing = [
        f"{cap} on {path}" for path, cap in sorted(needs.items())
        if not {"root", cap} & set(data.get(path) or [])
    ]
    if missing:
        return [fail(f"the token may not read what plan needs: no {', '.join(missing)}",
                     "use a token whose policies grant these (read/list), e.g. an admin token")]
    return [ok(f"the token may read what plan needs ({len(needs)} paths)")]
