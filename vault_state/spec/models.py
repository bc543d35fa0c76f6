"""The state file's top-level model (format version 1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from vault_state.kinds.generic import GenericEndpoint, GenericPath
from vault_state.kinds.token_role import TokenRole
from vault_state.spec.access import Check, ExternalSecrets
from vault_state.spec.auth import AuthMethod
from vault_state.spec.engines import SecretsEngine
from vault_state.spec.policies import StructuredPolicy
from vault_state.spec.types import MountPath, PolicyName, RoleName, Strict


def _policy_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "hcl"
    return "structured" if isinstance(value, dict | StructuredPolicy) else None


PolicySpec = Annotated[
    Annotated[str, Tag("hcl")] | Annotated[StructuredPolicy, Tag("structured")],
    Discriminator(
        _policy_tag,
        custom_error_type="policy_spec",
        custom_error_message="expected policy HCL text or a mapping with 'path'",
    ),
]


class Prune(Strict):
    """Kinds whose live objects absent from the file are deleted. Default off for every kind."""

    policies: bool = False
    auth_roles: bool = Field(False, description="Roles and users of the auth methods in this file.")
    secrets_engines: bool = False
    auth_methods: bool = False
    token_roles: bool = False
    generic: bool = Field(False, description="Delete the generic endpoints whose entry says `delete: true`.")


class Lint(Strict):
    """Settings of `vault-state lint` (not sent to the server)."""

    admin_policies: list[str] = Field(
        default_factory=list,
        description="Policies meant to administer the server: the admin-capability rule skips them.",
    )


class StateFile(Strict):
    version: Literal[1] = Field(description="Format version of the state file; must be 1.")
    secrets_engines: dict[MountPath, SecretsEngine] = Field(default_factory=dict, description="Key: mount path.")
    policies: dict[PolicyName, PolicySpec] = Field(
        default_factory=dict, description="Key: policy name. Value: HCL text or a structured form."
    )
    auth_methods: dict[MountPath, AuthMethod] = Field(default_factory=dict, description="Key: mount path.")
    token_roles: dict[RoleName, TokenRole] = Field(
        default_factory=dict, description="Key: role name. Roles of the built-in token auth method."
    )
    generic: dict[GenericPath, GenericEndpoint] = Field(
        default_factory=dict, description="Key: an API path the tool has no kind for. Compares declared keys only."
    )
    prune: Prune = Field(default_factory=Prune)
    lint: Lint = Field(default_factory=Lint, description="Settings of `vault-state lint`.")
    checks: list[Check] = Field(default_factory=list, description="Access checks of `vault-state verify`.")
    external_secrets: ExternalSecrets | None = Field(None, description="ESO stores (`vault-state eso-manifests`).")

    @field_validator("version", mode="before")
    @classmethod
    def _version_one(cls, value: Any) -> Any:
        if type(value) is not int or value != 1:
            raise ValueError(f"unsupported format version {value!r}; write 'version: 1'")
        return value
