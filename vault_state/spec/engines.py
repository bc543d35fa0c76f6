"""Spec model of a secrets engine (a mount under sys/mounts), with Vault's defaults filled in."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from vault_state.kinds.database import DatabaseSection
from vault_state.kinds.kubernetes_secrets import KubernetesSecretsSection
from vault_state.kinds.pki import PkiSection
from vault_state.kinds.ssh import SshSection
from vault_state.kinds.totp import TotpSection
from vault_state.kinds.transit import TransitSection
from vault_state.spec.fields import Adoptable, Meta, NameSet, Seconds, StringMap, Text
from vault_state.spec.types import Strict, exact_int


class Tune(Strict):
    """Settings that `sys/mounts/<path>/tune` can change in place. Omitted means Vault's default."""

    default_lease_ttl: Seconds = Field(0, description="0 inherits the system default.")
    max_lease_ttl: Seconds = Field(0, description="0 inherits the system maximum.")
    listing_visibility: Literal["", "unauth", "hidden"] = ""
    passthrough_request_headers: NameSet = Field(default_factory=list)
    allowed_response_headers: NameSet = Field(default_factory=list)
    audit_non_hmac_request_keys: NameSet = Field(default_factory=list)
    audit_non_hmac_response_keys: NameSet = Field(default_factory=list)

    @model_validator(mode="after")
    def _max_not_below_default(self) -> Tune:
        if self.max_lease_ttl and self.default_lease_ttl > self.max_lease_ttl:
            raise ValueError("default_lease_ttl is greater than max_lease_ttl")
        return self


class KvConfig(Strict):
    """KV v2 engine settings (`<mount>/config`)."""

    max_versions: int = Field(0, ge=0, description="0 keeps Vault's default of 10.")
    cas_required: bool = False
    delete_version_after: Seconds = Field(0, description="0 keeps versions forever.")


ENGINE_SECTIONS: dict[str, str] = {
    "transit": "transit",
    "ssh": "ssh",
    "totp": "totp",
    "pki": "pki",
    "database": "database",
    "kubernetes": "kubernetes",
}
"""Engine configuration sections of SecretsEngine (field name -> the engine type it belongs to)."""


class SecretsEngine(Adoptable):
    type: str = Field(min_length=1, description="Engine type: kv, transit, pki, database, ...")
    version: Literal[1, 2] | None = Field(
        None, description="KV version (kv only). Omitted, Vault creates version 1 (lint asks: did you mean 2?)."
    )
    description: Text = ""
    local: bool = Field(False, description="Set at enable time; changing it replaces the mount.")
    seal_wrap: bool = Field(False, description="Set at enable time; changing it replaces the mount.")
    external_entropy_access: bool = Field(False, description="Set at enable time.")
    force_no_cache: bool = Field(False, description="Set at enable time; changing it replaces the mount.")
    tune: Tune = Field(default_factory=Tune)
    options: StringMap = Field(
        default_factory=dict, description="The mount's options, passed to the engine (kv's version: use `version`)."
    )
    kv_config: KvConfig | None = Field(None, description="KV v2 only.")
    prevent_destroy: Annotated[bool, Meta()] = Field(
        False, description="Refuse any plan that would disable this mount."
    )
    transit: Annotated[TransitSection | None, Meta()] = Field(None, description="transit engines: keys.")
    ssh: Annotated[SshSection | None, Meta()] = Field(None, description="ssh engines: the CA key and roles.")
    totp: Annotated[TotpSection | None, Meta()] = Field(None, description="totp engines: keys.")
    pki: Annotated[PkiSection | None, Meta()] = Field(
        None, description="pki engines only: roles, urls, crl and the issuer made once."
    )
    database: Annotated[DatabaseSection | None, Meta()] = Field(
        None, description="database engines: connections, roles and static roles."
    )
    kubernetes: Annotated[KubernetesSecretsSection | None, Meta()] = Field(
        None, description="kubernetes secrets engines: the cluster config and roles."
    )

    @model_validator(mode="before")
    @classmethod
    def _kv_v2_alias(cls, data: Any) -> Any:
        # Vault accepts type "kv-v2" and stores it as type kv with options.version "2".
        if isinstance(data, dict) and data.get("type") in ("kv-v2", "kv-v1"):
            data = dict(data)
            wanted = int(data["type"][-1])
            if data.get("version", wanted) != wanted:
                raise ValueError(f"type {data['type']} contradicts version {data['version']}")
            data["type"], data["version"] = "kv", wanted
        return data

    @field_validator("version", mode="before")
    @classmethod
    def _whole_version(cls, value: Any) -> Any:
        return exact_int(value)

    @field_validator("type")
    @classmethod
    def _plain_type(cls, value: str) -> str:
        if not value.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"invalid engine type {value!r}")
        return value

    @model_validator(mode="after")
    def _engine_sections(self) -> SecretsEngine:
        # A section named after an engine type (`transit:`, `pki:`) configures that type only.
        for name, engine_type in ENGINE_SECTIONS.items():
            if getattr(self, name, None) is not None and self.type != engine_type:
                raise ValueError(f"'{name}' applies to {engine_type} engines only (this engine's type is {self.type})")
        return self

    @model_validator(mode="after")
    def _kv_fields(self) -> SecretsEngine:
        if "version" in self.options:
            raise ValueError("the mount option 'version' is kv's: give it as 'version' (1 or 2)")
        if self.type != "kv" and self.version is not None:
            raise ValueError("'version' applies to kv engines only")
        if self.kv_config is not None and not (self.type == "kv" and self.version == 2):
            raise ValueError("'kv_config' applies to kv version 2 engines only")
        return self

    @property
    def kv_version(self) -> int | None:
        """The KV version Vault gives the mount: `type: kv` with no version is version 1, as in Vault."""
        return (self.version or 1) if self.type == "kv" else None
