"""Spec models of the `checks:` section (who must and must not be able to do what) and of the
`external_secrets:` section (the ESO stores that read this server)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from vault_state.spec.types import MountPath, RoleName, Strict, Value

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.fullmatch(value):
        raise ValueError(f"invalid Kubernetes namespace {value!r}: lowercase letters, digits and '-', at most 63")
    return value


def _object_name(value: str) -> str:
    if len(value) > 253 or not _DNS_NAME.fullmatch(value):
        raise ValueError(f"invalid Kubernetes name {value!r}: lowercase letters, digits, '-' and '.'")
    return value


Namespace = Annotated[str, AfterValidator(_label)]
ObjectName = Annotated[str, AfterValidator(_object_name)]

Capability = Literal["create", "read", "update", "patch", "delete", "list", "sudo"]
CapabilityMap = dict[Annotated[str, Field(min_length=1)], list[Capability]]


class ServiceAccountRef(Strict):
    namespace: Namespace
    name: ObjectName


class Login(Strict):
    """Log in for real through a kubernetes auth method, with a token the TokenRequest API issues."""

    auth_method: MountPath
    role: RoleName
    service_account: ServiceAccountRef
    audiences: list[str] | None = Field(None, description="Token audiences; default: the role's audience.")


class Check(Strict):
    """One access check of `vault-state verify`: a login or a set of policies, and what it may do."""

    name: str = Field(min_length=1)
    login: Login | None = None
    policies: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="Exactly these policies, without 'default'."
    )
    allow: CapabilityMap = Field(default_factory=dict, description="Path: capabilities it must have.")
    deny: CapabilityMap = Field(default_factory=dict, description="Path: capabilities it must not have.")

    @model_validator(mode="after")
    def _one_subject(self) -> Check:
        if (self.login is None) == (self.policies is None):
            raise ValueError("a check needs exactly one of 'login' or 'policies'")
        if not self.allow and not self.deny:
            raise ValueError("a check needs 'allow' or 'deny'")
        return self


class CaProvider(Strict):
    """ESO's caProvider: the CA of the Vault server from a Secret or ConfigMap in the cluster."""

    type: Literal["Secret", "ConfigMap"]
    name: ObjectName
    key: str = Field("ca.crt", min_length=1)
    namespace: Namespace | None = Field(None, description="ClusterSecretStore only.")


class Store(Strict):
    """One SecretStore or ClusterSecretStore that reads a KV mount of this file."""

    name: ObjectName
    kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    namespace: Namespace | None = Field(None, description="The SecretStore's namespace (SecretStore only).")
    secrets_engine: MountPath = Field(description="A kv mount of this file.")
    auth_method: MountPath = Field(description="A kubernetes auth method of this file.")
    role: RoleName = Field(description="A role of that auth method, which must bind service_account.")
    service_account: ServiceAccountRef | None = Field(
        None, description="The service account ESO requests a token for; default: the controller's own."
    )
    ca_provider: CaProvider | None = None
    find: bool = Field(
        False, description="ExternalSecrets of this store use dataFrom.find: the role needs read/list on metadata/."
    )

    @model_validator(mode="after")
    def _namespace_for_kind(self) -> Store:
        if self.kind == "SecretStore" and self.namespace is None:
            raise ValueError("a SecretStore needs 'namespace'")
        if self.kind == "ClusterSecretStore" and self.namespace is not None:
            raise ValueError("a ClusterSecretStore is not namespaced: remove 'namespace'")
        if self.kind == "SecretStore" and self.ca_provider and self.ca_provider.namespace:
            raise ValueError("ca_provider.namespace is allowed in a ClusterSecretStore only")
        return self


class ExternalSecrets(Strict):
    """The External Secrets Operator stores that read this server (`vault-state eso-manifests`)."""

    server: str = Field(min_length=1, description="The address ESO reaches Vault at.")
    ca_cert: Value | None = Field(None, description="The Vault server's CA, rendered as caBundle.")
    namespace: str = Field("", description="Vault (Enterprise) or OpenBao namespace, if any.")
    stores: list[Store] = Field(min_length=1)

    @field_validator("server")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"server {value!r} must start with http:// or https://")
        return value
