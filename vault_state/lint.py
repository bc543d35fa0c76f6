"""`vault-state lint`: pure checks of a loaded state file for mistakes Vault accepts but regrets.

Each check returns warnings (`Diagnostic` with severity WARNING and a stable rule id), located
at the line of the file that causes them. No server is read: the checks see the file only.
The rules follow the guide's Troubleshooting section (KV v2 `data/` paths, role bindings, policy
names) and common hardening advice (least privilege, bounded token lifetimes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from vault_state.durations import format_seconds
from vault_state.errors import Diagnostic, Location, Severity, sort_diagnostics
from vault_state.spec.auth import KubernetesAuth
from vault_state.spec.hcl_text import loads_hcl
from vault_state.spec.models import StateFile
from vault_state.spec.policies import PolicyFile
from vault_state.spec.positions import SourceMap
from vault_state.spec.semantics import check_policy_references, role_section, roles_of

RULES: dict[str, str] = {
    "kv2-path-without-data": "a policy path on a KV v2 mount of this file that lacks data/ or metadata/",
    "unknown-policy": "a role names a policy that the file does not declare",
    "ttl-above-mount-max": "a role's token_ttl or token_max_ttl is above its auth method's tune.max_lease_ttl",
    "wildcard-binding": "a kubernetes role bound to any service account name or namespace ('*')",
    "admin-capability": "a policy grants sudo, or create/update/delete/patch under sys/",
    "missing-audience": "a kubernetes role without an audience",
    "kv-version-1": "a kv engine without 'version': Vault creates KV version 1",
}
"""Every rule id with a one-line summary (docs/lint.md describes each with examples)."""

KV2_SUBPATHS = frozenset({"data", "metadata", "delete", "undelete", "destroy", "subkeys", "config"})
WRITE_CAPABILITIES = ("create", "update", "delete", "patch")

# Vault's old `policy = "..."` shorthand and the capabilities it stands for.
_LEGACY_POLICY = {
    "deny": ["deny"],
    "read": ["read", "list"],
    "write": ["create", "read", "update", "delete", "list"],
    "sudo": ["create", "read", "update", "delete", "list", "sudo"],
}


def lint_state(state: StateFile, source: SourceMap, *, references: bool = True) -> list[Diagnostic]:
    """Every lint warning for `state`, sorted. `references=False` leaves out unknown-policy (plan checks
    role policies against the server instead)."""
    found = [
        *_kv2_paths(state, source),
        *_admin_capabilities(state, source),
        *_ttl_above_mount_max(state, source),
        *_kubernetes_roles(state, source),
        *_kv_without_version(state, source),
    ]
    if references:
        found += check_policy_references(state, source, known=None)
    return sort_diagnostics(found)


# --- policies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyPath:
    """One `path` block of a policy, with the capabilities it grants and where it is written."""

    policy: str
    path: str
    capabilities: frozenset[str]
    location: Location


def policy_paths(state: StateFile, source: SourceMap) -> Iterator[PolicyPath]:
    """The path blocks of every policy in the file, HCL text and structured form alike."""
    for name, spec in state.policies.items():
        if isinstance(spec, str | PolicyFile):
            text = spec if isinstance(spec, str) else spec.to_hcl()
            try:
                parsed = loads_hcl(text)
            except ValueError:  # the loader reports invalid HCL as an error
                continue
            paths = parsed.get("path", {}) if isinstance(parsed, dict) else {}
            if not isinstance(paths, dict):
                continue
            for path, rule in paths.items():
                if isinstance(rule, dict):
                    line = _line_of_path(text, str(path))
                    where = (Location(spec.shown, line, 1) if isinstance(spec, PolicyFile)  # in the .hcl file
                             else source.text_line(("policies", name), line))
                    yield PolicyPath(name, str(path), _capabilities(rule), where)
        else:
            for path, path_rule in spec.path.items():
                where = source.locate(("policies", name, "path", path), key=True)
                yield PolicyPath(name, path, frozenset(path_rule.capabilities), where)


def _capabilities(rule: dict[str, object]) -> frozenset[str]:
    caps = rule.get("capabilities", [])
    found = {str(c) for c in caps} if isinstance(caps, list) else {str(caps)}
    legacy = rule.get("policy")
    if isinstance(legacy, str):
        found.update(_LEGACY_POLICY.get(legacy, []))
    return frozenset(found)


def _line_of_path(text: str, path: str) -> int:
    """The 1-based line of `path "<path>"` in policy text (1 when not found)."""
    quoted = re.escape(json.dumps(path))
    match = re.search(rf"\bpath\s*=?\s*{quoted}", text) or re.search(quoted, text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _kv2_paths(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    mounts = sorted(
        (m for m, engine in state.secrets_engines.items() if engine.kv_version == 2),
        key=len,
        reverse=True,
    )
    for rule in policy_paths(state, source):
        mount = next((m for m in mounts if rule.path.startswith(m + "/")), None)
        if mount is None:
            continue
        rest = rule.path[len(mount) + 1 :]
        if _kv2_subpath(rest):
            continue
        yield Diagnostic(
            rule.location,
            f"policy '{rule.policy}': path '{rule.path}' is on KV v2 mount '{mount}' but lacks data/ or "
            f"metadata/; KV v2 secrets are read at '{mount}/data/{rest}'",
            Severity.WARNING,
            "kv2-path-without-data",
        )


def _kv2_subpath(rest: str) -> bool:
    """Whether `rest` (a policy path after `<mount>/`) addresses one of KV v2's API subpaths."""
    first = rest.split("/", 1)[0]
    if first in KV2_SUBPATHS or first == "+":
        return True
    # A glob inside the first segment such as `d*` or `meta*` still matches data/ or metadata/.
    if "/" not in rest and first.endswith("*") and len(first) > 1:
        return any(sub.startswith(first[:-1]) for sub in KV2_SUBPATHS)
    return False


def _admin_capabilities(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    exempt = {name.lower() for name in state.lint.admin_policies}
    hint = "; list it in lint.admin_policies if it is meant to administer the server"
    for rule in policy_paths(state, source):
        if rule.policy.lower() in exempt or "deny" in rule.capabilities:
            continue
        if "sudo" in rule.capabilities:
            yield Diagnostic(
                rule.location,
                f"policy '{rule.policy}' grants sudo on '{rule.path}'{hint}",
                Severity.WARNING,
                "admin-capability",
            )
        writes = [c for c in WRITE_CAPABILITIES if c in rule.capabilities]
        if writes and _reaches_sys(rule.path):
            yield Diagnostic(
                rule.location,
                f"policy '{rule.policy}' grants {', '.join(writes)} on '{rule.path}', which can change the "
                f"server's configuration (sys/){hint}",
                Severity.WARNING,
                "admin-capability",
            )


def _reaches_sys(path: str) -> bool:
    """Whether the policy path matches paths under `sys/`: `sys/...`, or a glob such as `*` or `s*`."""
    if path.startswith("sys/"):
        return True
    return path.endswith("*") and "sys/".startswith(path[:-1])


# --- auth methods ------------------------------------------------------------------------------


def _ttl_above_mount_max(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    for mount, method in state.auth_methods.items():
        ceiling = method.tune.max_lease_ttl
        if not ceiling:
            continue
        section = role_section(method)
        for name, role in roles_of(method).items():
            loc = ("auth_methods", mount, section, name)
            node = source.node(loc)
            for field, legacy in (("token_ttl", "ttl"), ("token_max_ttl", "max_ttl")):
                value: int = getattr(role, field)
                if value <= ceiling:
                    continue
                key = legacy if legacy in node else field
                yield Diagnostic(
                    source.locate((*loc, key)),
                    f"role '{name}': {key} {format_seconds(value)} is above the auth method's max_lease_ttl "
                    f"{format_seconds(ceiling)}; Vault caps its tokens at {format_seconds(ceiling)}",
                    Severity.WARNING,
                    "ttl-above-mount-max",
                )


def _kubernetes_roles(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    for mount, method in state.auth_methods.items():
        if not isinstance(method, KubernetesAuth):
            continue
        for name, role in method.roles.items():
            loc = ("auth_methods", mount, "roles", name)
            for field, meaning in (
                ("bound_service_account_names", "any service account of its namespaces can log in"),
                ("bound_service_account_namespaces", "service accounts of any namespace can log in"),
            ):
                values: list[str] = getattr(role, field)
                if "*" in values:
                    yield Diagnostic(
                        source.locate((*loc, field, values.index("*"))),
                        f"role '{name}': {field} contains '*': {meaning}",
                        Severity.WARNING,
                        "wildcard-binding",
                    )
            if not role.audience:
                yield Diagnostic(
                    source.locate(loc, key=True),
                    f"role '{name}' has no audience, so service account tokens issued for any audience can "
                    "log in; Vault logs a warning for such roles",
                    Severity.WARNING,
                    "missing-audience",
                )


def _kv_without_version(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    for mount, engine in state.secrets_engines.items():
        if engine.type == "kv" and engine.version is None:
            yield Diagnostic(
                source.locate(("secrets_engines", mount, "type")),
                f"secrets engine '{mount}': KV version 1: did you mean version 2? "
                "'type: kv' without 'version' creates version 1 (no versioning; set 'version: 1' to keep it)",
                Severity.WARNING,
                "kv-version-1",
            )
