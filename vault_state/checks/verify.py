"""`vault-state verify`: run each check of the file against the live server and collect the results.

A `login` check logs in for real through the kubernetes auth method with a JWT from the TokenRequest
API, reads its own capabilities (sys/capabilities-self) and revokes its token. A `policies` check
creates a short-lived orphan token with exactly those policies (no `default`), reads its capabilities
with the operator's token (sys/capabilities-accessor) and revokes it. Tokens stay Sensitive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from vault_state.checks.compare import CheckResult, compare, paths_of
from vault_state.errors import VaultApiError, VaultStateError
from vault_state.sensitive import Sensitive
from vault_state.spec.access import Check, Login
from vault_state.spec.access_checks import kubernetes_role
from vault_state.spec.models import StateFile
from vault_state.vault.gateway import Gateway, clean_error

TOKEN_SECONDS = 600  # the TokenRequest API's minimum; the token is used once, at once


def run_checks(state: StateFile, gateway: Gateway, cluster: Callable[[], Any]) -> list[CheckResult]:
    """One result per check, in file order. A check that cannot run (login refused) fails with its reason."""
    results = []
    for check in state.checks:
        try:
            if check.login is not None:
                reported = _login_capabilities(state, check, check.login, gateway, cluster)
            else:
                reported = _policy_capabilities(check, gateway)
        except VaultStateError as exc:
            results.append(CheckResult(check.name, error=str(exc)))
            continue
        results.append(CheckResult(check.name, compare(check, reported)))
    return results


def _login_capabilities(
    state: StateFile, check: Check, login: Login, gateway: Gateway, cluster: Callable[[], Any]
) -> dict[str, list[str]]:
    role = kubernetes_role(state, login.auth_method, login.role)
    audiences = login.audiences if login.audiences is not None else [role.audience] if role and role.audience else []
    account = login.service_account
    jwt: Sensitive = cluster().create_token(account.namespace, account.name, audiences, TOKEN_SECONDS)
    path = f"auth/{login.auth_method}/login"
    try:
        answer = _post(gateway, path, {"role": login.role, "jwt": jwt})
    except VaultApiError as exc:
        raise VaultStateError(
            f"login as service account {account.namespace}/{account.name} with role '{login.role}' "
            f"refused: {exc}"
        ) from None
    token = Sensitive(_auth_field(answer, "client_token", path))
    user = Gateway(dataclasses.replace(gateway.connection, token=token))
    try:
        return _capabilities(_post(user, "sys/capabilities-self", {"paths": paths_of(check)}))
    finally:
        _post(user, "auth/token/revoke-self", {})


def _policy_capabilities(check: Check, gateway: Gateway) -> dict[str, list[str]]:
    body = {
        "policies": check.policies, "no_default_policy": True, "ttl": "5m", "renewable": False,
        "display_name": "vault-state-verify",
    }
    accessor = _auth_field(_post(gateway, "auth/token/create-orphan", body), "accessor", "auth/token/create-orphan")
    try:
        return _capabilities(_post(gateway, "sys/capabilities-accessor",
                                   {"accessor": accessor, "paths": paths_of(check)}))
    finally:
        _post(gateway, "auth/token/revoke-accessor", {"accessor": accessor})


def _post(gateway: Gateway, path: str, body: dict[str, Any]) -> dict[str, Any]:
    status, payload = gateway.request("POST", path, body)
    if status >= 400:
        raise VaultApiError("POST", path, status, [clean_error(str(e)) for e in payload.get("errors") or []])
    return payload


def _auth_field(payload: dict[str, Any], name: str, path: str) -> str:
    value = (payload.get("auth") or {}).get(name)
    if not isinstance(value, str) or not value:
        raise VaultStateError(f"POST {path}: the answer has no auth.{name}")
    return value


def _capabilities(payload: dict[str, Any]) -> dict[str, list[str]]:
    data = payload.get("data") or payload
    return {str(k): [str(c) for c in v] for k, v in data.items() if isinstance(v, list)}
