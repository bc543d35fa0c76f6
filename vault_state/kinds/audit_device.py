"""Audit devices: `sys/audit/<path>`, where Vault writes every request and response.

An audit device cannot be changed in place: any change disables it and enables it again, and the
new device starts with a fresh HMAC salt. sys/audit cannot be listed: one GET returns every device.

OpenBao 2.x refuses to enable devices through the API unless the server's configuration sets
`unsafe_allow_api_audit_creation = true`; it declares them in `audit "TYPE" "PATH"` stanzas of its
configuration file instead, and refuses to disable those through the API. The sanitized server
configuration (`sys/config/state/sanitized`) tells which: a device the API cannot write is read
as `managed_by` the configuration file, compared, shown in the plan, and never written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import Field

from vault_state.kinds.base import Need, ReadScope, VaultReader, data_of, reading
from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import TopLevel
from vault_state.plan.model import Action, Change, Resource
from vault_state.spec.fields import Adoptable, CreateOnly, Literal_, StringMap

SERVER_CONFIG = (
    "the server's configuration file (its `audit` stanzas, applied at start and on SIGHUP; OpenBao "
    "writes no audit device through the API unless it sets unsafe_allow_api_audit_creation)"
)
Fixed = CreateOnly()  # no in-place change exists: any change disables and re-enables the device


class AuditDevice(Adoptable):
    type: Annotated[str, Fixed] = Field(min_length=1, description="`file`, `socket`, `syslog` or `http`.")
    description: Annotated[Literal_, Fixed] = ""
    local: Annotated[bool, Fixed] = Field(False, description="Not replicated to performance secondaries.")
    options: Annotated[StringMap, Fixed] = Field(
        default_factory=dict,
        description='Strings, compared as Vault returns them (`log_raw: "true"`, not `true`).',
    )


def all_devices(vault: VaultReader) -> dict[str, dict[str, Any]]:
    """sys/audit answers every device at once, keyed `PATH/`."""
    return {k.rstrip("/"): v for k, v in data_of(vault.read("sys/audit")).items() if isinstance(v, dict)}


def salt_warning(change: Change) -> list[str]:
    if change.action is not Action.REPLACE:
        return []
    return [
        "the device is disabled and enabled again with a fresh HMAC salt: entries written before "
        "cannot be correlated with later ones by HMAC (keep `vault audit-hash` values of the old salt)"
    ]


LAST_DEVICE = (
    "THIS DISABLES THE LAST AUDIT DEVICE: the server will record no request at all from then on "
    "(with devices enabled, Vault refuses requests it cannot log; with none, it logs nothing)"
)


@dataclass(frozen=True)
class ServerAuditMode:
    """What `sys/config/state/sanitized` says: whether the API may enable devices, and which ones
    the configuration file declares (HashiCorp Vault has neither key: the API manages them all)."""

    api_allowed: bool
    from_config: frozenset[str]

    @classmethod
    def read(cls, vault: VaultReader) -> ServerAuditMode:
        config = data_of(vault.read("sys/config/state/sanitized"))
        audits = config.get("audits") or []
        paths = frozenset(str(a.get("path", "")).rstrip("/") for a in audits if isinstance(a, dict))
        return cls(bool(config.get("unsafe_allow_api_audit_creation", True)), paths)

    def manager(self, path: str) -> str:
        return SERVER_CONFIG if not self.api_allowed or path in self.from_config else ""


@dataclass(frozen=True)
class AuditDeviceKind(DeclaredKind):
    """A DeclaredKind whose live objects say when the server's configuration manages them."""

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        found = list(super().read(vault, scope))
        if not found and not any(rid.kind == self.name for rid in scope.desired):
            return
        mode = ServerAuditMode.read(vault)
        yield from (replace(r, managed_by=mode.manager(r.id.path)) for r in found)
        if not mode.api_allowed:  # what the file adds is compared with nothing, and never written
            have = {r.id for r in found}
            wanted = [rid for rid in scope.desired if rid.kind == self.name and rid not in have]
            yield from (Resource(rid, {}, managed_by=SERVER_CONFIG) for rid in wanted)

    def read_needs(self, scope: ReadScope) -> list[Need]:
        needs = super().read_needs(scope)
        why = "audit devices: which ones the server's configuration file manages"
        return [*needs, reading("sys/config/state/sanitized", why)] if needs else needs


KIND = AuditDeviceKind(
    name="audit_device", prune_key="audit_devices", model=AuditDevice, place=TopLevel("audit_devices", "sys/audit"),
    read_all=all_devices, warn=salt_warning, last_warning=LAST_DEVICE,
)
