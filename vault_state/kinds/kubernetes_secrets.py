"""Kubernetes secrets engine: its config (`<mount>/config`) and roles (`<mount>/roles/<name>`).

Vault lowercases role names and namespaces, sorts and de-duplicates namespaces and audiences,
returns the role type as `Role`/`ClusterRole` whatever case was written, and never returns the
service account JWT. Writes merge: every field is sent, so removing one from the file resets it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import EngineSingleton, UnderEngine
from vault_state.spec.fields import (
    Adoptable,
    Canon,
    Literal_,
    LowerNameSet,
    NameSet,
    Pem,
    Seconds,
    Secret,
    StringMap,
    Url,
    seconds,
)
from vault_state.spec.types import RoleName, Strict


class KubernetesSecretsConfig(Adoptable):
    """`<mount>/config`: the cluster Vault creates service accounts, tokens and RBAC objects in."""

    kubernetes_host: Url = Field("", description="The API server's URL (empty: from Vault's pod environment).")
    kubernetes_ca_cert: Pem = Field("", description="PEM CA of the API server (empty: the pod's, unless disabled).")
    service_account_jwt: Secret = None
    disable_local_ca_jwt: bool = Field(False, description="Never fall back to the pod's own CA and token.")


def role_type(value: Any) -> str:
    """Vault stores `role`/`clusterrole` in any case as Role or ClusterRole."""
    return {"role": "Role", "clusterrole": "ClusterRole"}.get(str(value or "").lower(), str(value))


class KubernetesSecretsRole(Adoptable):
    """`<mount>/roles/<name>`: what `creds/<name>` creates in the cluster, and for how long."""

    allowed_kubernetes_namespaces: LowerNameSet = Field(
        default_factory=list, description="Namespaces credentials may be asked for ('*': any)."
    )
    allowed_kubernetes_namespace_selector: Literal_ = Field(
        "", description="A label selector (JSON or YAML) of namespaces credentials may be asked for."
    )
    service_account_name: Literal_ = Field("", description="An existing service account to issue tokens for.")
    kubernetes_role_name: Literal_ = Field("", description="An existing Role/ClusterRole to bind a new account to.")
    kubernetes_role_type: Annotated[Literal["Role", "ClusterRole"], Canon(role_type)] = "Role"
    generated_role_rules: Literal_ = Field("", description="RBAC rules (JSON or YAML) of a Role Vault creates.")
    token_default_ttl: Seconds = Field(0, description="0: the mount's default lease TTL.")
    token_max_ttl: Seconds = Field(0, description="0: the mount's maximum lease TTL.")
    token_default_audiences: NameSet = Field(default_factory=list, description="Audiences of issued tokens.")
    name_template: Literal_ = Field("", description="Template of generated object names (empty: Vault's).")
    extra_annotations: StringMap = Field(default_factory=dict, description="Added to every object Vault creates.")
    extra_labels: StringMap = Field(default_factory=dict, description="Added to every object Vault creates.")

    @model_validator(mode="after")
    def _one_source(self) -> KubernetesSecretsRole:
        # Vault's own rules, refused at write time otherwise.
        if not self.allowed_kubernetes_namespaces and not self.allowed_kubernetes_namespace_selector:
            raise ValueError("set allowed_kubernetes_namespaces or allowed_kubernetes_namespace_selector")
        sources = ("service_account_name", "kubernetes_role_name", "generated_role_rules")
        chosen = [n for n in sources if getattr(self, n)]
        if len(chosen) != 1:
            raise ValueError("set exactly one of service_account_name, kubernetes_role_name, generated_role_rules")
        if self.token_max_ttl and seconds(self.token_default_ttl) > seconds(self.token_max_ttl):
            raise ValueError("token_default_ttl is greater than token_max_ttl")
        return self


class KubernetesSecretsSection(Strict):
    """`kubernetes:` inside a secrets engine of type kubernetes."""

    config: KubernetesSecretsConfig | None = None
    roles: dict[RoleName, KubernetesSecretsRole] = Field(default_factory=dict)


CONFIG = DeclaredKind(
    name="kubernetes_secrets_config",
    prune_key="",  # one per engine: never listed or pruned
    model=KubernetesSecretsConfig,
    place=EngineSingleton("kubernetes", ("kubernetes", "config"), "config"),
)
ROLE = DeclaredKind(
    name="kubernetes_secrets_role",
    prune_key="kubernetes_secrets_roles",
    model=KubernetesSecretsRole,
    place=UnderEngine("kubernetes", ("kubernetes", "roles"), "roles"),
    lowercase=True,
)
