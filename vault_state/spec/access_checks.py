"""References of the `checks:` and `external_secrets:` sections, checked against the rest of the file.

Pure: takes the model and its source map, returns located Diagnostics. A store must name a kv
mount, a kubernetes auth method and one of its roles of this file, and that role must bind the
store's service account; a store whose ExternalSecrets use dataFrom.find needs read and list on
the mount's metadata/ paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from vault_state.errors import Diagnostic, Severity
from vault_state.spec.access import ServiceAccountRef, Store
from vault_state.spec.auth import KubernetesAuth, KubernetesRole
from vault_state.spec.models import StateFile

if TYPE_CHECKING:
    from vault_state.spec.positions import SourceMap

Loc = tuple[str | int, ...]


def check_access(state: StateFile, source: SourceMap) -> list[Diagnostic]:
    found = list(_checks(state, source))
    if state.external_secrets is not None:
        for index, store in enumerate(state.external_secrets.stores):
            found += _store(state, store, ("external_secrets", "stores", index), source)
        found += _duplicate_stores(state, source)
    return found


def kubernetes_role(state: StateFile, mount: str, role: str) -> KubernetesRole | None:
    """The role of a kubernetes auth method of the file (Vault lowercases role names)."""
    method = state.auth_methods.get(mount)
    if not isinstance(method, KubernetesAuth):
        return None
    return {name.lower(): r for name, r in method.roles.items()}.get(role.lower())


def binds(role: KubernetesRole, account: ServiceAccountRef) -> bool:
    names, namespaces = role.bound_service_account_names, role.bound_service_account_namespaces
    return (account.name in names or "*" in names) and (account.namespace in namespaces or "*" in namespaces)


def _reference(state: StateFile, mount: str, role: str, loc: Loc, source: SourceMap) -> Iterator[Diagnostic]:
    method = state.auth_methods.get(mount)
    if method is None:
        yield Diagnostic(source.locate((*loc, "auth_method")), f"auth method '{mount}' is not in this file")
    elif not isinstance(method, KubernetesAuth):
        yield Diagnostic(source.locate((*loc, "auth_method")),
                         f"auth method '{mount}' has type {method.type}; expected kubernetes")
    elif kubernetes_role(state, mount, role) is None:
        yield Diagnostic(source.locate((*loc, "role")), f"auth method '{mount}' has no role '{role}' in this file")


def _checks(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    declared = {name.lower() for name in state.policies} | {"default", "root"}
    for index, check in enumerate(state.checks):
        loc: Loc = ("checks", index)
        if check.login is not None:
            yield from _reference(state, check.login.auth_method, check.login.role, (*loc, "login"), source)
        for number, policy in enumerate(check.policies or []):
            if policy.lower() not in declared:
                yield Diagnostic(source.locate((*loc, "policies", number)),
                                 f"check '{check.name}' names policy '{policy}', which this file does not declare",
                                 Severity.WARNING, "unknown-policy")


def _store(state: StateFile, store: Store, loc: Loc, source: SourceMap) -> Iterator[Diagnostic]:
    engine = state.secrets_engines.get(store.secrets_engine)
    if engine is None or engine.type != "kv":
        what = "is not in this file" if engine is None else f"has type {engine.type}; expected kv"
        yield Diagnostic(source.locate((*loc, "secrets_engine")), f"secrets engine '{store.secrets_engine}' {what}")
    problems = list(_reference(state, store.auth_method, store.role, loc, source))
    yield from problems
    role = kubernetes_role(state, store.auth_method, store.role)
    if problems or role is None:
        return
    account = store.service_account
    if account is not None and not binds(role, account):
        yield Diagnostic(
            source.locate((*loc, "service_account")),
            f"role '{store.role}' does not bind service account {account.namespace}/{account.name} "
            f"(it binds names {role.bound_service_account_names} in namespaces "
            f"{role.bound_service_account_namespaces}); ESO's login would be refused",
        )
    if store.find and engine is not None and engine.type == "kv":
        yield from _find_needs_metadata(state, store, role, loc, source)


def _find_needs_metadata(
    state: StateFile, store: Store, role: KubernetesRole, loc: Loc, source: SourceMap
) -> Iterator[Diagnostic]:
    from vault_state.lint import policy_paths  # lint imports semantics, which imports this module

    wanted = {p.lower() for p in role.token_policies}
    probe = f"{store.secrets_engine}/metadata/" if engine_version(state, store) == 2 else f"{store.secrets_engine}/"
    granted: set[str] = set()
    for rule in policy_paths(state, source):
        if rule.policy.lower() in wanted and (path_matches(rule.path, probe + "x") or rule.path.startswith(probe)):
            granted |= rule.capabilities
    missing = [c for c in ("read", "list") if c not in granted or "deny" in granted]
    if missing:
        yield Diagnostic(
            source.locate((*loc, "find")),
            f"store '{store.name}' uses dataFrom.find, but the policies of role '{store.role}' grant no "
            f"{' or '.join(missing)} on '{probe}*': ESO lists and reads secret metadata there to find secrets",
            Severity.WARNING, "eso-find-metadata",
        )


def engine_version(state: StateFile, store: Store) -> int:
    engine = state.secrets_engines.get(store.secrets_engine)
    return engine.kv_version or 2 if engine is not None else 2


def path_matches(pattern: str, path: str) -> bool:
    """Vault's policy path match: `+` is one segment, a trailing `*` any suffix."""
    prefix = pattern.endswith("*")
    parts = (pattern[:-1] if prefix else pattern).split("/")
    actual = path.split("/")
    if (len(actual) < len(parts)) if prefix else (len(actual) != len(parts)):
        return False
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "+":
            continue
        if last and prefix:
            return "/".join(actual[index:]).startswith(part)
        if actual[index] != part:
            return False
    return True


def _duplicate_stores(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    assert state.external_secrets is not None
    seen: set[tuple[str, str, str]] = set()
    for index, store in enumerate(state.external_secrets.stores):
        key = (store.kind, store.namespace or "", store.name)
        if key in seen:
            yield Diagnostic(source.locate(("external_secrets", "stores", index, "name")),
                             f"{store.kind} '{store.name}' is declared twice")
        seen.add(key)
