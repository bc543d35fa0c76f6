"""Auth methods: mounts under sys/auth, their tune, and their config (`auth/<mount>/config`).

The `token/` auth method is built in and never read. Config is compared only when the file has a
`config` block; a config write replaces the whole config, so it always carries write-only values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vault_state.kinds.auth import auth_type
from vault_state.kinds.base import (
    ANY,
    Need,
    ReadScope,
    VaultReader,
    data_of,
    mount_data_loss,
    never_refused,
    no_parent,
    pruned,
    reading,
    strip_mount,
    touches,
)
from vault_state.kinds.base import show_change as _pair
from vault_state.kinds.values import desired_values, live_values
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.sensitive import Sensitive
from vault_state.spec.auth import _AuthBase
from vault_state.spec.models import Sections
from vault_state.spec.sources import Resolver

ENABLE_TIME_FIELDS = ("type", "local", "seal_wrap")


class AuthMethodKind:
    name = "auth_method"
    parent_of = staticmethod(no_parent)
    refusal = staticmethod(never_refused)
    prune_key = "auth_methods"
    data_loss = staticmethod(mount_data_loss)

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for path, spec in state.auth_methods.items():
            loc = ("auth_methods", path)
            values: dict[str, Any] = {"type": spec.type, **desired_values(spec, resolver, loc, model=_AuthBase)[0]}
            kind = auth_type(spec.type)
            config, write_only = kind.config_values(spec, resolver, (*loc, "config"))
            if config is not None:
                values["config"] = config
            yield Resource(
                ResourceId(self.name, path),
                values,
                write_only={f"config.{k}": v for k, v in write_only.items()},
                location=resolver.source.locate(loc, key=True),
                prevent_destroy=spec.prevent_destroy,
                partial=("config",) if kind.partial else (),
                adopt=spec.adopt,
            )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        if not scope.needs(self.name, self.prune_key):
            return
        methods = list(self._read_mounts(vault))
        with_config = [r for r in methods if _config_wanted(r, scope.desired.get(r.id))]
        configs = vault.read_many([f"auth/{r.id.path}/config" for r in with_config])
        for resource, raw in zip(with_config, configs, strict=True):
            kind = auth_type(resource.values["type"])
            resource.values["config"] = kind.read_config(data_of(raw)) if raw else None
        yield from methods

    def _read_mounts(self, vault: VaultReader) -> Iterable[Resource]:
        for key, mount in data_of(vault.read("sys/auth")).items():
            if not isinstance(mount, dict) or mount.get("type") in ("token", "ns_token"):
                continue
            rid = ResourceId(self.name, strip_mount(key))
            # The tune fields are under `config`; auth mounts' token_type defaults to "default-service".
            values = live_values(_AuthBase, {**mount, "tune": mount.get("config")})
            facts = {"accessor": mount.get("accessor", "")}  # assigned at enable time; aliases name it
            yield Resource(rid, {"type": mount.get("type", ""), **values}, facts=facts)

    def read_needs(self, scope: ReadScope) -> list[Need]:
        if not scope.needs(self.name, self.prune_key):
            return []
        configs = [rid for rid, r in scope.desired.items() if rid.kind == self.name and "config" in r.values]
        return [reading("sys/auth", "auth methods: every mount, its tune and accessor"),
                *(reading(f"auth/{rid.path}/config", f"{rid}: config compared") for rid in configs)]

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        return [Resource(ResourceId(self.name, ANY), {})] if pruned(scope, self.prune_key) else []

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        return [
            f"{name} cannot change on an enabled auth method ({_pair(before.values[name], after.values[name])})"
            for name in ENABLE_TIME_FIELDS
            if before.values[name] != after.values[name]
        ]

    def deletable(self, resource: Resource) -> bool:
        return True

    def warnings(self, change: Change) -> list[str]:
        if change.action is not Action.UPDATE or not touches(change, "config"):
            return []
        assert change.before and change.after
        kind = auth_type(change.after.values["type"])
        return kind.config_warnings(change.before.values.get("config"), change.after.values.get("config"))

    def calls(self, change: Change) -> list[Call]:
        path = change.id.path
        if change.action is Action.DELETE:
            return [Call("DELETE", f"sys/auth/{path}")]
        assert change.after is not None
        after = change.after
        calls = []
        if change.action in (Action.CREATE, Action.REPLACE):
            if change.action is Action.REPLACE:
                calls.append(Call("DELETE", f"sys/auth/{path}"))
            calls.append(Call("POST", f"sys/auth/{path}", enable_body(after.values)))
        elif touches(change, "tune") or touches(change, "description"):
            body = {"description": after.values["description"], **after.values["tune"]}
            calls.append(Call("POST", f"sys/auth/{path}/tune", body))
        config_changed = change.action is not Action.UPDATE or touches(change, "config")
        if "config" in after.values and config_changed:
            calls.append(Call("POST", f"auth/{path}/config", config_body(after)))
        return calls


def _config_wanted(live: Resource, wanted: Resource | None) -> bool:
    """The file manages this method's config, and the method keeps its type (else it is replaced)."""
    return wanted is not None and "config" in wanted.values and wanted.values["type"] == live.values["type"]


def enable_body(values: dict[str, Any]) -> dict[str, Any]:
    tune = values["tune"]
    config = {k: v for k, v in tune.items() if v or k in ("default_lease_ttl", "max_lease_ttl")}
    return {
        "type": values["type"],
        "description": values["description"],
        "local": values["local"],
        "seal_wrap": values["seal_wrap"],
        "config": config,
    }


def config_body(resource: Resource) -> dict[str, Any]:
    """The whole config: a config write replaces it, so unset fields are left out (never sent as "")
    and write-only values are always included."""
    body: dict[str, Any] = {
        k: v for k, v in resource.values["config"].items() if not k.endswith("_set") and v not in ("", [])
    }
    secrets: dict[str, Sensitive] = {
        k.removeprefix("config."): v for k, v in resource.write_only.items() if k.startswith("config.")
    }
    return {**body, **secrets}


KIND = AuthMethodKind()
