"""Checks that need the whole validated file: policy HCL, name case, mount overlaps, policy references.

Pure: takes the model and its source map, returns Diagnostics (errors and warnings).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from vault_state.errors import Diagnostic, Location, Severity
from vault_state.spec.access_checks import check_access
from vault_state.spec.auth import AnyAuth, TokenFields
from vault_state.spec.models import Prune, Sections, StateFile, walk_sections
from vault_state.spec.policies import PolicyFile, check_policy_text, placeholders

if TYPE_CHECKING:  # only a type here: the planner imports this module and stays free of ruamel
    from vault_state.spec.positions import SourceMap

BUILTIN_POLICIES = frozenset({"default", "root"})


def check_semantics(state: StateFile, source: SourceMap) -> list[Diagnostic]:
    """The checks of every section (the root's and each namespace's), and of the root's access checks."""
    from vault_state.spec.positions import PrefixedSource  # ruamel: only where a file is checked

    found = [*check_access(state, source), *_header_names(state, source)]
    for _, sections, prefix in walk_sections(state):
        scoped = PrefixedSource(source, prefix) if prefix else source
        found += [*check_sections(sections, scoped), *_generic_paths(sections, state.prune, scoped)]
    return found


def check_sections(state: Sections, source: SourceMap) -> list[Diagnostic]:
    return [
        *_policy_texts(state.policies, source),
        *_lowercase_names(state, source),
        *_mount_overlaps({"secrets_engines": state.secrets_engines, "auth_methods": state.auth_methods}, source),
        *_builtin_auth_path(state, source),
        *_identity_case(state, source),
        *_database_connections(state, source),
    ]


def _header_names(state: StateFile, source: SourceMap) -> Iterator[Diagnostic]:
    """HTTP header names ignore case, and Vault stores one spelling: two keys for one header conflict."""
    for section in ("ui_headers", "audited_headers"):
        seen: dict[str, str] = {}
        for name in getattr(state.sys_config, section):
            if name.lower() in seen:
                yield Diagnostic(
                    source.locate(("sys_config", section, name), key=True),
                    f"header '{name}' and '{seen[name.lower()]}' are the same header (names ignore case)",
                )
            seen[name.lower()] = name


def _generic_paths(state: Sections, prune: Prune, source: SourceMap) -> Iterator[Diagnostic]:
    """Generic paths a kind placed in the file's engines writes (the rest is refused on validation),
    and deletions that cannot happen without prune."""
    from vault_state.kinds.generic_paths import owned_message, owner  # imports the registry, which imports us

    for path, entry in state.generic.items():
        where = source.locate(("generic", path), key=True)
        section = owner(path, state)
        if section is not None:
            yield Diagnostic(where, owned_message(path, section))
        elif entry.delete and not prune.generic:
            yield Diagnostic(
                where, f"generic path '{path}' says delete: true, but prune: {{generic: true}} is not set: "
                "it is not deleted", Severity.WARNING,
            )


def _builtin_auth_path(state: Sections, source: SourceMap) -> Iterator[Diagnostic]:
    """`auth/token/` is the built-in token auth method; no other method can be enabled there."""
    for path in state.auth_methods:
        if path.split("/")[0] == "token":
            yield Diagnostic(
                source.locate(("auth_methods", path), key=True),
                f"auth method path '{path}' is taken by the built-in token auth method",
            )


def _identity_case(state: Sections, source: SourceMap) -> Iterator[Diagnostic]:
    """Vault finds entities and groups by name in any case (and keeps the case written first)."""
    for section in ("entities", "groups"):
        seen: dict[str, str] = {}
        for name in getattr(state.identity, section):
            if name.lower() in seen:
                yield Diagnostic(
                    source.locate(("identity", section, name), key=True),
                    f"'{name}' and '{seen[name.lower()]}' differ only in case; Vault takes them for one name",
                )
            seen.setdefault(name.lower(), name)


def _database_connections(state: Sections, source: SourceMap) -> Iterator[Diagnostic]:
    """A database role must name a connection of its engine: Vault accepts any name and fails
    only when credentials are asked for (and a static role's creation fails outright)."""
    for mount, engine in state.secrets_engines.items():
        if engine.database is None:
            continue
        known = engine.database.connections
        for section in ("roles", "static_roles"):
            for name, role in getattr(engine.database, section).items():
                if role.db_name not in known:
                    declared = ", ".join(f"'{c}'" for c in sorted(known)) or "none"
                    yield Diagnostic(
                        source.locate(("secrets_engines", mount, "database", section, name, "db_name")),
                        f"{section[:-1].replace('_', ' ')} '{name}' names connection '{role.db_name}', which this "
                        f"engine does not declare (its connections: {declared})",
                    )


def check_unvalidated(data: Mapping[str, Any], source: SourceMap) -> list[Diagnostic]:
    """The checks that can run on a file that failed validation, so one run reports them all.

    `data` is the plain parsed document; parts of the wrong shape are skipped (validation names them).
    """
    from vault_state.spec.positions import PrefixedSource  # ruamel: only where a file is checked

    policies = data.get("policies")
    sections = {s: data.get(s) for s in ("secrets_engines", "auth_methods")}
    found = [
        *_policy_texts(policies if isinstance(policies, dict) else {}, source),
        *_mount_overlaps({k: v for k, v in sections.items() if isinstance(v, dict)}, source),
    ]
    namespaces = data.get("namespaces")
    for name, inner in (namespaces if isinstance(namespaces, dict) else {}).items():
        if isinstance(inner, dict):  # a namespace holds every section: the same checks inside it
            found += check_unvalidated(inner, PrefixedSource(source, ("namespaces", name)))
    return found


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
        elif isinstance(name, str) and isinstance(spec, PolicyFile):  # located in the .hcl file itself
            for problem in check_policy_text(spec.to_hcl()):
                location = Location(spec.shown, problem.line, problem.column)
                yield Diagnostic(location, f"policy '{name}': {problem.message}")


def _lowercase_names(state: Sections, source: SourceMap) -> Iterator[Diagnostic]:
    yield from _case_check(state.policies, ("policies",), "policy", source)
    for mount, method in state.auth_methods.items():
        section = role_section(method)
        members = getattr(method, section, {})
        yield from _case_check(members, ("auth_methods", mount, section), "role", source)


def _case_check(names: Iterable[str], loc: tuple[str, ...], what: str, source: SourceMap) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for name in names:
        spec = names.get(name) if isinstance(names, Mapping) else None
        # A policy a `policy_files:` pattern declares is located at the pattern.
        where = (spec.declared if isinstance(spec, PolicyFile) else None) or source.locate((*loc, name), key=True)
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
    """Warn for each policy of a role, entity or group that neither the file nor `known` (the
    server's policies) has.

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
    for section, what in (("entities", "entity"), ("groups", "group")):
        for name, spec in getattr(state.identity, section).items():
            found += [
                Diagnostic(
                    source.locate(("identity", section, name, "policies", index)),
                    f"{what} '{name}' names policy '{policy}', which this file does not declare"
                    + (" and the server does not have" if known is not None else ""),
                    Severity.WARNING,
                    "unknown-policy",
                )
                for index, policy in enumerate(spec.policies)
                if policy.lower() not in declared
            ]
    return found


def check_identity_references(
    state: StateFile,
    source: SourceMap,
    auth_mounts: set[str],
    entities: set[str],
    groups: set[str],
    lines: list[str] | None = None,
) -> list[Diagnostic]:
    """Errors for names that neither the file nor the server (`auth_mounts`, `entities`, `groups`)
    has: an alias's auth method, a group's member, a policy placeholder's auth path. `lines`: the
    file's text, to point at a placeholder's column."""
    mounts = set(state.auth_methods) | auth_mounts | {"token"}
    found = []
    identity = state.identity
    for name, entity in identity.entities.items():
        for index, alias in enumerate(entity.aliases):
            if alias.mount not in mounts:
                where = source.locate(("identity", "entities", name, "aliases", index, "mount"))
                found.append(Diagnostic(where, f"entity '{name}': alias mount '{alias.mount}' is an auth method "
                                               "this file does not declare and the server does not have"))
    for section, what, live in (("entities", "entity", entities), ("groups", "group", groups)):
        in_case = {n.lower(): n for n in live}
        for name in getattr(identity, section):
            if name not in live and in_case.get(name.lower()):
                found.append(Diagnostic(
                    source.locate(("identity", section, name), key=True),
                    f"{what} '{name}' is '{in_case[name.lower()]}' on the server (Vault finds names in any case "
                    f"and keeps the case first written): write '{in_case[name.lower()]}'",
                ))
    known = {"member_entities": ("entity", set(identity.entities) | entities),
             "member_groups": ("group", set(identity.groups) | groups)}
    for name, group in identity.groups.items():
        if group.alias is not None and group.alias.mount not in mounts:
            where = source.locate(("identity", "groups", name, "alias", "mount"))
            found.append(Diagnostic(where, f"group '{name}': alias mount '{group.alias.mount}' is an auth method "
                                           "this file does not declare and the server does not have"))
        for field, (what, names) in known.items():
            for index, member in enumerate(getattr(group, field)):
                if member not in names:
                    found.append(Diagnostic(
                        source.locate(("identity", "groups", name, field, index)),
                        f"group '{name}' names {what} '{member}', which this file does not declare "
                        "and the server does not have",
                    ))
    for name, spec in state.policies.items():
        text = spec if isinstance(spec, str) else spec.to_hcl()
        for line, path in placeholders(text):
            if path in mounts:
                continue
            if isinstance(spec, PolicyFile):  # located in the .hcl file, whose lines are the text's
                at = text.splitlines()[line - 1].find(f"${{auth/{path}/@accessor}}")
                where = Location(spec.shown, line, at + 1)
            else:
                where = source.text_line(("policies", name), line)
            if not isinstance(spec, PolicyFile) and lines is not None and 0 < where.line <= len(lines):
                at = lines[where.line - 1].find(f"${{auth/{path}/@accessor}}")
                where = Location(where.file, where.line, at + 1) if at >= 0 else where
            found.append(Diagnostic(where, f"policy '{name}': ${{auth/{path}/@accessor}} names auth method "
                                           f"'{path}', which this file does not declare and the server does not have"))
    return found
