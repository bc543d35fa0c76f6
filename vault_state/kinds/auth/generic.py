"""Any auth type without a typed model: free-form config and roles, compared on the keys the file gives.

Removing a key from the file does not reset it (the plan says so): the tool does not know the
type's defaults. Write values in the form Vault returns them (e.g. TTLs as seconds).
"""

from __future__ import annotations

from typing import Any

from vault_state.kinds.auth.shape import AuthType, Loc, Values, WriteOnly
from vault_state.spec.auth import GenericAuth
from vault_state.spec.sources import Resolver


def config_values(spec: GenericAuth, resolver: Resolver, loc: Loc) -> tuple[Values | None, WriteOnly]:
    return (dict(spec.config) if spec.config is not None else None), {}


def read_config(raw: dict[str, Any]) -> Values:
    return dict(raw)


def role_values(spec: dict[str, Any], resolver: Resolver, loc: Loc) -> tuple[Values, WriteOnly]:
    return dict(spec), {}


def read_role(raw: dict[str, Any]) -> Values:
    return dict(raw)


TYPE = AuthType("role", config_values, read_config, role_values, read_role, partial=True)
