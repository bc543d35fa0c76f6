"""Checks that need the whole validated file: policy HCL, name case, mount overlaps, policy references.

Pure: takes the model and its source map, returns Diagnostics (errors and warnings).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from vault_state.errors import Diagnostic, Severity
from vault_state.spec.access_checks import check_access
from vault_state.spec.auth import AnyAuth, TokenFields
from vault_state.spec.models import StateFile
from vault_state.spec.policies import check_policy_text

if TYPE_CHECKING:  # only a type here: the planner imports this module and stays free of ruamel
    from vault_state.spec.positions import SourceMap

BUILTIN_POLICIES = frozenset({"default", "root"})


def check_semantics(state: StateFile, source: SourceMap) -> list[Diagnostic]:
    return [
        *_policy_texts(state.policies, source),
        *_lowercase_names(state, source),
        *_mount_overlaps({"secrets_engines": state.secrets_engines, "auth_methods": state.auth_methods}, source),
        *_builtin_auth_path(state, source),
        *_generic_paths(state, source),
        *check_access(state, source),
    ]


def _generic_paths(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    """Generic paths a kind placed in the file's engines writes (the rest is refused on validation),
    and deletions that cannot happen without prune."""
    from vault_state.kinds.generic_paths import owned_message, owner  # imports the registry, which imports us

    for path, entry in state.generic.items():
        where = source.locate(("generic", path), key=True)
        section = owner(path, state)
        if section is not None:
            yield Diagnostic(where, owned_message(path, section))
        elif entry.delete and not state.prune.generic:
            yield Diagnostic(
                where, f"generic path '{path}' says delete: true, but prune: {{generic: true}} is not set: "
                "it is not deleted", Severity.WARNING,
            )


def _builtin_auth_path(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    """`auth/token/` is the built-in token auth method; no other method can be enabled there."""
    for path in state.auth_methods:
        if path.split("/")[0] == "token":
            yield Diagnostic(
                source.locate(("auth_methods", path), key=True),
                f"auth method path '{path}' is taken by the built-in token auth method",
            )


def check_unvalidated(data: Mapping[str, Any], source: SourceMap) -> list[Diagnostic]:
    """The checks that can run on a file that failed validation, so one run reports them all.

    `data` is the plain parsed document; parts of the wrong shape are skipped (validation names them).
    """
    policies = data.get("policies")
    sections = {s: data.get(s) for s in ("secrets_engines", "auth_methods")}
    return [
        *_policy_texts(policies if isinstance(policies, dict) else {}, source),
        *_mount_overlaps({k: v for k, v in sections.items() if isinstance(v, dict)}, source),
    ]


def roles_of(method: AnyAuth) -> dict[str, TokenFields]:
    """The roles of an auth method, or its users for userpass."""
    members = getattr(method, "users", None)
    if members is None:
        members = getattr(method, "roles", {})
    return {k: v for k, v in members.items() if isinstance(v, TokenFields)}


def role_section(method: AnyAuth) -> str:
    return "users" if method.type == "userpass" else "roles"


def _policy_texts(policies: Mapping[Any, Any], source: SourceMap) -> Iterator[Diagnostic]:
    for name, spec in policies.items():
        if isinstance(name, str) and isinstance(spec, str):
            for problem in check_policy_text(spec):
                location = source.text_line(("policies", name), problem.line)
                yield Diagnostic(location, f"policy '{name}': {problem.message}")


def _lowercase_names(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    yield from _case_check(state.policies, ("policies",), "policy", source)
    for mount, method in state.auth_methods.items():
        section = role_section(method)
        members = getattr(method, section, {})
        yield from _case_check(members, ("auth_methods", mount, section), "role", source)


def _case_check(names: Iterable[str], loc: tuple[str, ...], what: str, source: SourceMap) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for name in names:
        where = source.locate((*loc, name), key=True)
        lower = name.lower()
        if lower in seen:
            yield Diagnostic(where, f"{what} '{name}' and '{seen[lower]}' differ only in case; Vault lowercases names")
        elif name != lower:
            yield Diagnostic(
                where, f"Vault stores {what} names in lowercase: '{name}' becomes '{lower}'", Severity.WARNING
            )
        seen[lower] = name


def _mount_overlaps(sections: Mapping[str, Mapping[Any, Any]], source: SourceMap) -> Iterator[Diagnostic]:
    for section, mounts in sections.items():
        paths = sorted(p for p in mounts if isinstance(p, str))
        for outer in paths:
            for inner in paths:
                if inner.startswith(outer + "/"):
                    yield Diagnostic(
                        source.locate((section, inner), key=True),
                        f"mount path '{inner}' is inside mount '{outer}'; Vault refuses nested mounts",
                    )


def check_policy_references(state: StateFile, source: SourceMap, known: set[str] | None) -> list[Diagnostic]:
    """Warn for each role policy that neither the file nor `known` (the server's policies) has.

    `known` is None when no server was read (validate): the warning then names the file only.
    """
    declared = {n.lower() for n in state.policies} | BUILTIN_POLICIES | {k.lower() for k in known or ()}
    found = []
    for mount, method in state.auth_methods.items():
        section = role_section(method)
        for name, role in roles_of(method).items():
            for index, policy in enumerate(role.token_policies):
                if policy.lower() in declared:
                    continue
                node = source.node(("auth_methods", mount, section, name))
                key = "policies" if "policies" in node else "token_policies"
                where = source.locate(("auth_methods", mount, section, name, key, index))
                found.append(
                    Diagnostic(
                        where,
                        f"role '{name}' names policy '{policy}', which this file does not declare"
                        + (" and the server does not have" if known is not None else ""),
                        Severity.WARNING,
                        "unknown-policy",
                    )
                )
    return found
