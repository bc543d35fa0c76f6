"""`vault-state export`: the live server written as a state file (format version 1) that plans empty.

Everything is read through the kinds' own `read()`, so the file holds exactly the canonical values
`plan` compares against. Fields equal to the spec's defaults are left out, durations are written
with units (`1h30m`), policies and PEM blocks as literal block scalars.

Write-only values cannot be read back: a kubernetes `token_reviewer_jwt`, a jwt/oidc
`oidc_client_secret` and userpass passwords become `{env: NAME}` sources, with a comment naming
the variable to set before `plan` or `apply`. Nothing secret is ever written to the file.
"""

from __future__ import annotations

import io
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from vault_state.durations import format_seconds
from vault_state.errors import VaultApiError, VaultStateError
from vault_state.export_filter import select
from vault_state.kinds.auth import auth_type
from vault_state.kinds.base import ReadScope, VaultReader, data_of, strip_mount
from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.identity import ENTITY, GROUP
from vault_state.kinds.places import EngineSingleton, TopSingleton, UnderEngine
from vault_state.kinds.registry import DECLARED, KINDS, ROOT_ONLY
from vault_state.kinds.values import field_specs
from vault_state.plan.model import Resource, ResourceId
from vault_state.spec.auth import (
    LEGACY_TOKEN_ALIASES,
    AuthTune,
    TokenFields,
    _AuthBase,
)
from vault_state.spec.engines import KvConfig, SecretsEngine, Tune
from vault_state.spec.models import Prune
from vault_state.spec.types import Duration

_DURATION_METADATA = typing.get_args(Duration)[1:]


@dataclass
class Exported:
    """The state file's text, the environment variables it reads, and what was left out (and why)."""

    text: str
    env: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    policies_dir: str | None = None
    """With `export --policies-dir`: the directory (relative to the state file) policies are written to."""
    files: dict[str, str] = field(default_factory=dict)
    """The policy files to write beside the state file: path (relative to it) -> text."""


def export_state(
    vault: VaultReader, source: str = "", include: Sequence[str] = (), exclude: Sequence[str] = (),
    policies_dir: str | None = None,
) -> Exported:
    """Read every managed object from `vault` and render it as a state file (limited by `include`
    and `exclude` patterns, see export_filter); with `policies_dir`, each policy as a `{file:}` entry
    and its text in `files`."""
    live = read_everything(_Tolerant(vault))
    return render(select(live, include, exclude), source, policies_dir)


# --- reading ------------------------------------------------------------------------------------


def read_everything(vault: VaultReader, namespace: str = "") -> dict[ResourceId, Resource]:
    """Every managed live object with all its details, in `namespace` and the namespaces in it (ids
    carry their namespace's path): the kinds read what `desired` names, so `desired` is a mapping
    that names every live object (auth methods with their live type)."""
    mounts = data_of(vault.read("sys/auth"))
    types = {strip_mount(k): str(m.get("type", "")) for k, m in mounts.items() if isinstance(m, dict)}
    engines = data_of(vault.read("sys/mounts"))
    engine_types = {strip_mount(k): str(m.get("type", "")) for k, m in engines.items() if isinstance(m, dict)}
    # Prune on for every kind: each kind then reads all its objects, whatever `desired` iterates to.
    everything = Prune(**dict.fromkeys(Prune.model_fields, True))
    scope = ReadScope(_Everything(types, engine_types), everything, {})
    for kind in KINDS:
        if namespace and kind.name in ROOT_ONLY:  # server-wide: configured in the root namespace only
            continue
        for resource in kind.read(vault, scope):
            scope.live[resource.id] = resource
    live = {rid.within(namespace): replace(r, id=rid.within(namespace)) for rid, r in scope.live.items()}
    for rid in scope.live:
        if rid.kind == "namespace":
            live.update(read_everything(vault.within(rid.path), f"{namespace}/{rid.path}" if namespace else rid.path))
    return live


class _Everything(Mapping[ResourceId, Resource]):
    """A stand-in for the desired snapshot that contains every id, so every detail is read.

    An auth method is "desired" with its live type and a config (for types that have one), so its
    config and roles are read; a secrets engine with its live type, so what is inside it is read;
    every other id is desired with no values (only membership is used). It iterates to the engines
    and to the one-per-engine objects (an SSH engine's CA), which are not listed but read by id.
    """

    def __init__(self, auth_types: dict[str, str], engine_types: dict[str, str]) -> None:
        self.auth_types = auth_types
        self.engine_types = engine_types

    def __getitem__(self, rid: ResourceId) -> Resource:
        if rid.kind == "secrets_engine" and rid.path in self.engine_types:
            return Resource(rid, {"type": self.engine_types[rid.path]})
        if rid.kind != "auth_method":
            return Resource(rid, {})
        kind = self.auth_types[rid.path]  # KeyError: not a live auth method
        values: dict[str, Any] = {"type": kind}
        if auth_type(kind).has_config:
            values["config"] = None
        return Resource(rid, values)

    def __iter__(self) -> Iterator[ResourceId]:
        engines = [ResourceId("secrets_engine", path) for path in self.engine_types]
        singles = [
            ResourceId(kind.name, path)
            for kind in DECLARED
            if isinstance(kind.place, EngineSingleton)
            for path, engine_type in self.engine_types.items()
            if engine_type == kind.place.engine_type
        ]
        return iter(engines + singles)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Tolerant:
    """Reads where an untyped auth type has no such operation (HTTP 405) read as absent."""

    def __init__(self, vault: VaultReader) -> None:
        self.vault = vault

    def read(self, path: str) -> dict[str, Any] | None:
        try:
            return self.vault.read(path)
        except VaultApiError as exc:
            if exc.status == 405 and path.startswith("auth/"):
                return None
            raise

    def read_many(self, paths: list[str]) -> list[dict[str, Any] | None]:
        return [self.read(path) for path in paths]  # one by one: each read tolerates a 405

    def within(self, namespace: str) -> _Tolerant:
        return _Tolerant(self.vault.within(namespace))

    def list(self, path: str) -> list[str]:
        try:
            return self.vault.list(path)
        except VaultApiError as exc:
            if exc.status == 405 and path.startswith("auth/"):
                return []
            raise


# --- rendering ----------------------------------------------------------------------------------


def env_name(*parts: str) -> str:
    """An environment variable name: upper case, anything not a letter or digit as `_`."""
    return re.sub(r"[^A-Z0-9]", "_", "_".join(parts).upper())


def render(live: Mapping[ResourceId, Resource], source: str = "", policies_dir: str | None = None) -> Exported:
    exported = Exported("", policies_dir=policies_dir)
    root = CommentedMap()
    root["version"] = 1
    exported.counts = render_sections(root, live, "", exported)
    root.yaml_set_start_comment(_header(source, exported))
    exported.text = dump(root)
    return exported


def render_sections(
    node: CommentedMap, live: Mapping[ResourceId, Resource], namespace: str, exported: Exported
) -> dict[str, int]:
    """Write the sections of `namespace` ("" the root) into `node`, then its namespaces under
    `namespaces:`, each with its custom_metadata and sections; returns the counts of `namespace`."""
    local = {rid.local(): replace(r, id=rid.local()) for rid, r in live.items() if rid.namespace == namespace}
    by_kind: dict[str, list[Resource]] = {}
    for rid in sorted(local):
        by_kind.setdefault(rid.kind, []).append(local[rid])
    root = node
    engines = CommentedMap(
        (r.id.path, engine_spec(r.values, engine_children(r, by_kind, exported)))
        for r in by_kind.get("secrets_engine", [])
    )
    policies = CommentedMap(
        (r.id.path, policy_spec(r.id.path, r.values["policy"], namespace, exported))
        for r in by_kind.get("policy", []) if "policy" in r.values
    )
    roles: dict[str, list[Resource]] = {}
    for role in by_kind.get("auth_role", []):
        roles.setdefault(role.id.path.rsplit("/", 1)[0], []).append(role)
    methods = CommentedMap(
        (r.id.path, auth_spec(r.id.path, r.values, roles.get(r.id.path, []), exported))
        for r in by_kind.get("auth_method", [])
    )
    sections = [("secrets_engines", engines), ("policies", policies), ("auth_methods", methods)]
    sections += [(kind.section, declared_section(kind, by_kind.get(kind.name, []), exported)) for kind in DECLARED]
    sections.append(("identity", identity_section(by_kind, exported)))
    for key, section in sections:
        if section:
            _put(root, key, section)
    namespaces = CommentedMap()
    for child in by_kind.get("namespace", []):
        spec = CommentedMap()
        if child.values.get("custom_metadata"):
            spec["custom_metadata"] = plain_map(child.values["custom_metadata"])
        path = f"{namespace}/{child.id.path}" if namespace else child.id.path
        render_sections(spec, live, path, exported)
        namespaces[child.id.path] = spec
    if namespaces:
        root["namespaces"] = namespaces
    return {
        "secrets engines": len(engines),
        "policies": len(policies),
        "auth methods": len(methods),
        "roles": sum(len(m.get("roles", m.get("users", {}))) for m in methods.values()),
        "namespaces": len(namespaces),
        **{kind.prune_key.replace("_", " "): len(by_kind.get(kind.name, [])) for kind in DECLARED},
    }


def policy_spec(name: str, text: str, namespace: str, exported: Exported) -> Any:
    """A policy's text as a literal block, or with --policies-dir its `{file: DIR/[NAMESPACE/]NAME.hcl}`."""
    if exported.policies_dir is None:
        return LiteralScalarString(text)
    path = "/".join(part for part in (exported.policies_dir.rstrip("/"), namespace, f"{name}.hcl") if part)
    exported.files[path] = text
    spec = CommentedMap(file=path)
    spec.fa.set_flow_style()
    return spec


def write_policy_files(base: Path, files: Mapping[str, str]) -> None:
    """Write `export --policies-dir`'s policy files, each path relative to `base` (the state file's directory)."""
    for name, text in files.items():
        path = base / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise VaultStateError(f"cannot write {path}: {exc.strerror or exc}") from None


def _header(source: str, exported: Exported) -> str:
    where = re.sub(r"//[^/@]*@", "//", source)  # never write credentials embedded in the address
    lines = [
        f"Exported by `vault-state export`{' from ' + where if where else ''}.",
        "Fields at their defaults are left out; `vault-state plan` against the same server shows no changes.",
    ]
    if exported.env:
        lines.append("Write-only values cannot be read back; set these variables before plan or apply:")
        lines += [f"  {name}" for name in exported.env]
    if exported.skipped:
        lines.append("Not exported (the server's values do not form a valid state file entry):")
        lines += [f"  {reason}" for reason in exported.skipped]
    return "\n".join(lines)


def dump(root: CommentedMap) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096  # never fold long values (selectors, URLs)
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def engine_spec(values: dict[str, Any], children: CommentedMap | None = None) -> CommentedMap:
    spec = non_default(SecretsEngine, values, nested={"tune": Tune, "kv_config": KvConfig})
    spec.update(children or {})
    return spec


def engine_children(engine: Resource, by_kind: dict[str, list[Resource]], exported: Exported) -> CommentedMap:
    """The configuration inside an engine (its keys, roles, config) from the declared kinds nested in it."""
    out = CommentedMap()
    for kind in DECLARED:
        place = kind.place
        if not isinstance(place, UnderEngine | EngineSingleton) or place.engine_type != engine.values.get("type"):
            continue
        mine = [r for r in by_kind.get(kind.name, []) if kind.parent_of(r.id) == engine.id]
        node = out
        for part in place.section[:-1]:
            node = node.setdefault(part, CommentedMap())
        if isinstance(place, EngineSingleton):
            spec = object_spec(kind, mine[0], exported) if mine else None
            if spec is not None:  # None: not valid (a PKI issuer, made from fields Vault never returns), said why
                node[place.section[-1]] = spec
            continue
        specs = ((r.id.path.rsplit("/", 1)[1], object_spec(kind, r, exported)) for r in mine)
        members = CommentedMap((name, spec) for name, spec in specs if spec is not None)  # None: skipped, said why
        if members:
            node[place.section[-1]] = members
    return CommentedMap((k, v) for k, v in out.items() if v)


def auth_spec(path: str, values: dict[str, Any], roles: list[Resource], exported: Exported) -> CommentedMap:
    kind = values["type"]
    spec = CommentedMap([("type", kind)])
    spec.update(non_default(_AuthBase, values, nested={"tune": AuthTune}))
    config = values.get("config")
    if config is not None and auth_type(kind).has_config:
        rendered = config_spec(path, kind, config, exported)
        if rendered is not None:
            spec["config"] = rendered
    section = "users" if kind == "userpass" else "roles"
    members = CommentedMap()
    for role in roles:
        name = role.id.path.rsplit("/", 1)[1]
        rendered = role_spec(path, kind, name, role.values, exported)
        if rendered is not None:
            members[name] = rendered
    if members:
        spec[section] = members
    return spec


def config_spec(path: str, kind: str, config: dict[str, Any], exported: Exported) -> CommentedMap | None:
    model = auth_type(kind).config_model
    if model is None:  # untyped: the config as read, compared on the keys given
        return plain_map({k: v for k, v in config.items() if v is not None})
    spec = write_only_sources(model, config, (path,), exported)
    spec.update(non_default(model, config))
    return spec if _valid(model, spec, f"auth_methods.{path}.config", exported) else None


def role_spec(path: str, kind: str, name: str, values: dict[str, Any], exported: Exported) -> CommentedMap | None:
    model = auth_type(kind).role_model
    if model is None:  # untyped: as read, without the legacy names Vault mirrors into token_*
        # token_* fields at Vault's defaults are left out too (kept as read, e.g. TTLs in seconds).
        token_defaults = {n: i.get_default(call_default_factory=True) for n, i in TokenFields.model_fields.items()}
        kept = {
            k: v for k, v in values.items()
            if v is not None
            and not (k in LEGACY_TOKEN_ALIASES and LEGACY_TOKEN_ALIASES[k] in values)
            and not (k in token_defaults and _same(v, token_defaults[k]))
        }
        return plain_map(kept)
    spec = write_only_sources(model, values, (kind, path, name), exported)
    spec.update(non_default(model, values, last=tuple(TokenFields.model_fields)))
    section = "users" if kind == "userpass" else "roles"
    return spec if _valid(model, spec, f"auth_methods.{path}.{section}.{name}", exported) else None


def _put(root: CommentedMap, section: str, value: CommentedMap) -> None:
    """Set a dotted section (`sys_config.ui_headers`) of the file."""
    *parents, last = section.split(".")
    for part in parents:
        root = root.setdefault(part, CommentedMap())
    root[last] = value


def declared_section(kind: DeclaredKind, resources: list[Resource], exported: Exported) -> CommentedMap:
    """The objects of a top-level declared kind (nested ones are written inside their engine); a
    server-wide singleton (sys_config.cors) only where it differs from Vault's defaults."""
    if not kind.section:
        return CommentedMap()
    if isinstance(kind.place, TopSingleton):
        return next((s for r in resources if (s := object_spec(kind, r, exported))), CommentedMap())
    section = CommentedMap()
    for resource in resources:
        spec = object_spec(kind, resource, exported)
        if spec is not None:
            section[resource.id.path] = spec
    return section


def identity_section(by_kind: dict[str, list[Resource]], exported: Exported) -> CommentedMap:
    """`identity:` entities with their aliases, groups with theirs, all by name."""
    aliases: dict[str, list[Resource]] = {}
    for alias in by_kind.get("identity_entity_alias", []):
        aliases.setdefault(alias.values["entity"], []).append(alias)
    group_aliases = {a.values["group"]: a for a in by_kind.get("identity_group_alias", [])}
    section = CommentedMap()
    for key, kind, resources in (("entities", ENTITY, "identity_entity"), ("groups", GROUP, "identity_group")):
        members = CommentedMap()
        for resource in by_kind.get(resources, []):
            spec = object_spec(kind, resource, exported)
            if spec is None:
                continue
            mine = aliases.get(resource.id.path, []) if key == "entities" else []
            if mine:
                spec["aliases"] = CommentedSeq(_alias_spec(a) for a in mine)
            if key == "groups" and resource.id.path in group_aliases:
                spec["alias"] = _alias_spec(group_aliases[resource.id.path])
            members[resource.id.path] = spec
        if members:
            section[key] = members
    return section


def _alias_spec(alias: Resource) -> CommentedMap:
    spec = CommentedMap([("mount", alias.values["mount"]), ("name", alias.values["name"])])
    spec.fa.set_flow_style()
    return spec


def object_spec(kind: DeclaredKind, resource: Resource, exported: Exported) -> CommentedMap | None:
    """One object's non-default fields; write-only ones as `{env: NAME}` sources (None: not valid)."""
    spec = write_only_sources(kind.model, resource.values, (kind.name, resource.id.path), exported)
    spec.update(non_default(kind.model, resource.values))
    return spec if _valid(kind.model, spec, str(resource.id), exported) else None


def write_only_sources(
    model: type[BaseModel], values: Mapping[str, Any], where: tuple[str, ...], exported: Exported
) -> CommentedMap:
    """The write-only fields the server has a value for, as `{env: NAME}` sources with a comment
    naming the variable: Vault never returns them, so the exported file reads them from the
    environment. A field is written when it is required, when Vault reports it set (`reported_as`)
    or when the field that implies it is set (`implied_by`: a client id has a client secret)."""
    spec = CommentedMap()
    for declared in field_specs(model):
        secret = declared.write_only
        if secret is None:
            continue
        if declared.required or secret.always or values.get(secret.reported_as) or values.get(secret.implied_by):
            variable = env_name(*where, declared.name)
            spec[declared.name] = env_source(variable)
            spec.yaml_add_eol_comment(f"write-only: set {variable}", declared.name)
            exported.env.append(variable)
    return spec


def env_source(name: str) -> CommentedMap:
    source = CommentedMap([("env", name)])
    source.fa.set_flow_style()
    return source


def _valid(model: type[BaseModel], spec: CommentedMap, where: str, exported: Exported) -> bool:
    try:
        model.model_validate(spec)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        exported.skipped.append(f"{where}: {first['msg'].removeprefix('Value error, ')}")
        return False
    return True


def non_default(
    model: type[BaseModel],
    values: Mapping[str, Any],
    nested: Mapping[str, type[BaseModel]] | None = None,
    last: tuple[str, ...] = (),
) -> CommentedMap:
    """`values` restricted to `model`'s fields, in the model's order (the `last` ones last), without
    the fields equal to their default; durations with units. `nested` names fields that are models."""
    out = CommentedMap()
    fields = model.model_fields
    for name in sorted(fields, key=lambda n: n in last):
        info = fields[name]
        if name not in values:
            continue
        value = values[name]
        sub = (nested or {}).get(name)
        if sub is not None:
            rendered = non_default(sub, value or {})
            if rendered:
                out[name] = rendered
            continue
        if not info.is_required() and _same(value, info.get_default(call_default_factory=True)):
            continue
        out[name] = yaml_value(value, duration=_is_duration(info))
    return out


def _is_duration(info: FieldInfo) -> bool:
    return all(m in info.metadata for m in _DURATION_METADATA)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):  # True == 1 in Python
        return type(a) is type(b) and a == b
    return bool(a == b)


def plain_map(values: Mapping[str, Any]) -> CommentedMap:
    return CommentedMap((k, yaml_value(v)) for k, v in values.items())


def yaml_value(value: Any, duration: bool = False) -> Any:
    """A value as ruamel writes it: multi-line text as `|` blocks, short scalar lists in flow style."""
    if isinstance(value, CommentedMap):
        return value
    if duration and isinstance(value, int) and not isinstance(value, bool):
        return format_seconds(value)
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    if isinstance(value, dict):
        return plain_map(value)
    if isinstance(value, list | tuple):
        seq = CommentedSeq(yaml_value(v) for v in value)
        scalars = all(isinstance(v, str | int | float | bool) and "\n" not in str(v) for v in value)
        if scalars and sum(len(str(v)) + 2 for v in value) < 80:
            seq.fa.set_flow_style()
        return seq
    return value
