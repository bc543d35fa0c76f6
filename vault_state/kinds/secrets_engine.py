"""Secrets engines: mounts under sys/mounts, their tune, and KV v2's engine config.

Builtins (sys/, identity/, cubbyhole/) are never read as resources, so never touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
from vault_state.spec.engines import KvConfig, SecretsEngine
from vault_state.spec.models import Sections
from vault_state.spec.sources import Resolver
from vault_state.spec.types import FINGERPRINT_MOUNT, LOCK_MOUNT

BUILTIN_TYPES = frozenset({"system", "identity", "cubbyhole", "ns_system", "ns_identity", "ns_cubbyhole"})
# Set when the mount is enabled; tune answers 204 and silently ignores them.
ENABLE_TIME_FIELDS = ("type", "local", "seal_wrap", "external_entropy_access", "force_no_cache")
KV_DEFAULTS = {"max_versions": 0, "cas_required": False, "delete_version_after": 0}  # KvConfig's defaults


_OWN_MOUNTS = (f"{LOCK_MOUNT}/", f"{FINGERPRINT_MOUNT}/")  # the tool's own mounts: never planned or exported


class SecretsEngineKind:
    name = "secrets_engine"
    parent_of = staticmethod(no_parent)
    refusal = staticmethod(never_refused)
    prune_key = "secrets_engines"
    data_loss = staticmethod(mount_data_loss)

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for path, spec in state.secrets_engines.items():
            yield Resource(
                ResourceId(self.name, path),
                spec_values(spec, resolver, ("secrets_engines", path)),
                location=resolver.source.locate(("secrets_engines", path), key=True),
                prevent_destroy=spec.prevent_destroy,
                adopt=spec.adopt,
            )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        if not scope.needs(self.name, self.prune_key):
            return
        mounts = [
            Resource(ResourceId(self.name, strip_mount(key)), live_values_of(mount))
            for key, mount in data_of(vault.read("sys/mounts")).items()
            if isinstance(mount, dict) and mount.get("type") not in BUILTIN_TYPES and key not in _OWN_MOUNTS
        ]
        kv2 = [r for r in mounts if r.values["kv_config"] is not None and r.id in scope.desired]
        for resource, raw in zip(kv2, vault.read_many([f"{r.id.path}/config" for r in kv2]), strict=True):
            resource.values["kv_config"] = kv_config_of(raw)
        yield from mounts

    def read_needs(self, scope: ReadScope) -> list[Need]:
        if not scope.needs(self.name, self.prune_key):
            return []
        kv2 = [rid for rid, r in scope.desired.items() if rid.kind == self.name and r.values["kv_config"] is not None]
        return [reading("sys/mounts", "secrets engines: every mount and its tune"),
                *(reading(f"{rid.path}/config", f"{rid}: kv_config compared") for rid in kv2)]

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        return [Resource(ResourceId(self.name, ANY), {})] if pruned(scope, self.prune_key) else []

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        old, new = before.values, after.values
        reasons = [
            f"{name} cannot change on an enabled mount ({_pair(old[name], new[name])})"
            for name in ENABLE_TIME_FIELDS
            if old[name] != new[name]
        ]
        if old["version"] == 2 and new["version"] == 1:
            reasons.append("Vault cannot downgrade a kv mount from version 2 to 1")
        return reasons

    def deletable(self, resource: Resource) -> bool:
        return True

    def warnings(self, change: Change) -> list[str]:
        if change.action is Action.UPDATE and touches(change, "version"):
            return ["upgrading kv version 1 to 2 rewrites the mount's data; it is briefly unavailable"]
        return []

    def calls(self, change: Change) -> list[Call]:
        path = change.id.path
        if change.action is Action.DELETE:
            return [Call("DELETE", f"sys/mounts/{path}")]
        assert change.after is not None
        values = change.after.values
        if change.action in (Action.CREATE, Action.REPLACE):
            calls = [Call("DELETE", f"sys/mounts/{path}")] if change.action is Action.REPLACE else []
            calls.append(Call("POST", f"sys/mounts/{path}", enable_body(values)))
            if values["kv_config"] not in (None, KV_DEFAULTS):
                calls.append(kv_config_call(path, values["kv_config"]))
            return calls
        calls = []
        if any(touches(change, f) for f in ("tune", "description", "version", "options")):
            assert change.before is not None
            body = tune_body(values, touches(change, "version"))
            if touches(change, "options"):  # tune merges options; an empty value removes one
                removed = dict.fromkeys(change.before.values["options"], "")
                body["options"] = {**body.get("options", {}), **removed, **values["options"]}
            calls.append(Call("POST", f"sys/mounts/{path}/tune", body))
        if touches(change, "kv_config"):
            calls.append(kv_config_call(path, values["kv_config"]))
        return calls


def spec_values(
    spec: SecretsEngine, resolver: Resolver | None = None, loc: tuple[str | int, ...] = ()
) -> dict[str, Any]:
    """The engine's canonical values; `loc`: where it sits in the file (value source problems point there)."""
    values, _ = desired_values(spec, resolver, loc, skip=("kv_config",))
    values["version"] = spec.kv_version
    kv2 = spec.kv_version == 2
    kv_config = spec.kv_config or KvConfig()
    values["kv_config"] = desired_values(kv_config, resolver, (*loc, "kv_config"))[0] if kv2 else None
    return values


def live_values_of(mount: dict[str, Any]) -> dict[str, Any]:
    """A mount from sys/mounts in the model's shape: enable-time flags at the top, force_no_cache
    and the tune fields under `config`, the KV version as options.version."""
    config = mount.get("config") or {}
    options = mount.get("options") or {}
    kind = mount.get("type", "")
    # kv's version is an option too: it is the `version` field, not one of `options`.
    others = {k: v for k, v in options.items() if not (kind == "kv" and k == "version")}
    flat = {**mount, "force_no_cache": config.get("force_no_cache"), "tune": config, "options": others}
    values = live_values(SecretsEngine, flat, skip=("kv_config",))
    # Vault stores type "kv-v2" as kv with options.version "2" (a string); no version means 1.
    values["version"] = int(options.get("version") or 1) if kind == "kv" else None
    values["kv_config"] = live_values(KvConfig, {}) if values["version"] == 2 else None
    return values


def kv_config_of(response: dict[str, Any] | None) -> dict[str, Any]:
    """KV v2's engine config as read from `<mount>/config` (delete_version_after as a Go duration)."""
    return live_values(KvConfig, data_of(response))


def enable_body(values: dict[str, Any]) -> dict[str, Any]:
    tune = values["tune"]
    config: dict[str, Any] = {
        "default_lease_ttl": tune["default_lease_ttl"],
        "max_lease_ttl": tune["max_lease_ttl"],
        "force_no_cache": values["force_no_cache"],
    }
    config.update({k: v for k, v in tune.items() if k not in config and v})
    body: dict[str, Any] = {
        "type": values["type"],
        "description": values["description"],
        "config": config,
        "local": values["local"],
        "seal_wrap": values["seal_wrap"],
        "external_entropy_access": values["external_entropy_access"],
    }
    options = dict(values["options"])
    if values["type"] == "kv":  # never send a version to other engines: transit would store it
        options["version"] = str(values["version"])
    if options:
        body["options"] = options
    return body


def tune_body(values: dict[str, Any], version_changed: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"description": values["description"], **values["tune"]}
    if version_changed:
        body["options"] = {"version": str(values["version"])}
    return body


def kv_config_call(path: str, kv: dict[str, Any]) -> Call:
    # Integer seconds: a unit string such as "1d12h" is refused by Vault's parser ('d' only alone).
    return Call("POST", f"{path}/config", dict(kv))


KIND = SecretsEngineKind()
