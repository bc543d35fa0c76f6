"""What every resource kind provides, and the small shared normalisers they use.

A kind turns the spec into desired `Resource`s, reads live `Resource`s through a `VaultReader`,
says which field changes force a replace, and turns a `Change` into `Call`s (data, not I/O).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from vault_state.plan.model import Call, Change, Resource, ResourceId
from vault_state.sensitive import Sensitive
from vault_state.spec.models import Prune, StateFile
from vault_state.spec.sources import Resolver


class VaultReader(Protocol):
    """Reads for kinds. `read_many` may run its reads concurrently (the gateway bounds how many);
    kinds list first, then read every object they need in one `read_many`."""

    def read(self, path: str) -> dict[str, Any] | None: ...

    def read_many(self, paths: list[str]) -> list[dict[str, Any] | None]: ...

    def list(self, path: str) -> list[str]: ...


@dataclass
class ReadScope:
    """What a live read needs to know: the desired objects, prune settings, and earlier kinds' reads."""

    desired: Mapping[ResourceId, Resource]
    prune: Prune
    live: dict[ResourceId, Resource]

    def needs(self, kind: str, prune_key: str) -> bool:
        """Whether any object of `kind` must be read: the file declares one, or prune covers the kind."""
        return bool(getattr(self.prune, prune_key)) or any(rid.kind == kind for rid in self.desired)


class Kind(Protocol):
    name: str
    prune_key: str

    def desired(self, state: StateFile, resolver: Resolver) -> Iterable[Resource]: ...

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]: ...

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]: ...

    def deletable(self, resource: Resource) -> bool: ...

    def data_loss(self, before: Resource, after: Resource | None) -> str:
        """What replacing `before` by `after` (deleting it, when `after` is None) destroys, as the
        plan prints it; "" when nothing is lost."""
        ...

    def warnings(self, change: Change) -> list[str]: ...

    def calls(self, change: Change) -> list[Call]: ...


def mount_data_loss(before: Resource, after: Resource | None) -> str:
    """Disabling a mount (secrets engine or auth method) deletes everything stored under it."""
    verb = "disables" if after is None else "disables and re-enables"
    return f"{verb} {before.id} and everything stored in it"


def nothing_lost(before: Resource, after: Resource | None) -> str:
    return ""


def as_set(values: Iterable[str] | None) -> list[str]:
    """A list whose order means nothing to Vault, as a sorted list without duplicates.

    Vault keeps order and duplicates of bound names, CIDRs and headers as written; comparing
    them as sets stops the perpetual diffs Terraform's provider is known for.
    """
    return sorted({v.strip() for v in values or [] if v.strip()})


def pem(value: str | Sensitive) -> str | Sensitive:
    """A PEM block with surrounding whitespace removed and one trailing newline.

    Vault stores kubernetes_ca_cert verbatim and strips JWT public keys' trailing newline.
    """
    if isinstance(value, Sensitive):
        return value.map(lambda v: v.strip() + "\n" if v.strip() else "")
    return value.strip() + "\n" if value.strip() else ""


def strip_mount(path: str) -> str:
    """Mount keys in sys/mounts and sys/auth end in '/'; ids do not."""
    return path.rstrip("/")


def data_of(response: dict[str, Any] | None) -> dict[str, Any]:
    """The `data` of a Vault response (sys/mounts also repeats it at the top level; never use that)."""
    if not response:
        return {}
    data = response.get("data")
    return data if isinstance(data, dict) else {}


def tune_values(config: Mapping[str, Any], extra: Iterable[str] = ()) -> dict[str, Any]:
    """The tune fields of a mount's `config` as read from sys/mounts or sys/auth.

    Unset optional keys are absent from the read: an absent list is [], an absent visibility "".
    """
    values: dict[str, Any] = {
        "default_lease_ttl": int(config.get("default_lease_ttl") or 0),
        "max_lease_ttl": int(config.get("max_lease_ttl") or 0),
        "listing_visibility": config.get("listing_visibility") or "",
    }
    for key in TUNE_LISTS:
        values[key] = as_set(config.get(key))
    for key in extra:
        values[key] = config.get(key)
    return values


TUNE_LISTS = (
    "passthrough_request_headers",
    "allowed_response_headers",
    "audit_non_hmac_request_keys",
    "audit_non_hmac_response_keys",
)


def spec_tune_values(tune: Any, extra: Iterable[str] = ()) -> dict[str, Any]:
    values: dict[str, Any] = {
        "default_lease_ttl": tune.default_lease_ttl,
        "max_lease_ttl": tune.max_lease_ttl,
        "listing_visibility": tune.listing_visibility,
    }
    for key in TUNE_LISTS:
        values[key] = as_set(getattr(tune, key))
    for key in extra:
        values[key] = getattr(tune, key)
    return values


def changed_paths(change: Change) -> set[str]:
    return {d.path for d in change.diffs}


def touches(change: Change, prefix: str) -> bool:
    return any(p == prefix or p.startswith(prefix + ".") for p in changed_paths(change))


def show_change(before: Any, after: Any) -> str:
    """`old -> new` in JSON notation, as the plan's field diffs show values."""
    return f"{json.dumps(before)} -> {json.dumps(after)}"
