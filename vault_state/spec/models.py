"""The state file's top-level model (format version 1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from vault_state.spec.auth import AuthMethod
from vault_state.spec.engines import SecretsEngine
from vault_state.spec.policies import StructuredPolicy
from vault_state.spec.types import MountPath, PolicyName, Strict


def _policy_tag(value: Any) -> str:
    return "hcl" if isinstance(value, str) else "structured"


PolicySpec = Annotated[
    Annotated[str, Tag("hcl")] | Annotated[StructuredPolicy, Tag("structured")],
    Discriminator(_policy_tag),
]


class Prune(Strict):
    """Kinds whose live objects absent from the file are deleted. Default off for every kind."""

    policies: bool = False
    auth_roles: bool = Field(False, description="Roles and users of the auth methods in this file.")
    secrets_engines: bool = False
    auth_methods: bool = False


class StateFile(Strict):
    version: Literal[1] = Field(description="Format version of the state file; must be 1.")
    secrets_engines: dict[MountPath, SecretsEngine] = Field(default_factory=dict, description="Key: mount path.")
    policies: dict[PolicyName, PolicySpec] = Field(
        default_factory=dict, description="Key: policy name. Value: HCL text or a structured form."
    )
    auth_methods: dict[MountPath, AuthMethod] = Field(default_factory=dict, description="Key: mount path.")
    prune: Prune = Field(default_factory=Prune)
