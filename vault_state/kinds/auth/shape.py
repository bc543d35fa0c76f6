"""What an auth type is: where its roles live, the models that declare its config and role fields.

A typed auth type's values are derived from its models (kinds/values.py); an untyped (generic)
type has no models: its free-form config and roles are compared on the keys the file gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from vault_state.kinds.values import create_only, desired_values, live_values
from vault_state.sensitive import Sensitive
from vault_state.spec.sources import Resolver

Loc = Sequence[str | int]
Values = dict[str, Any]
WriteOnly = dict[str, Sensitive]


def no_warnings(before: Values | None, after: Values | None) -> list[str]:
    return []


def as_stored(name: str, values: Values) -> Values:
    return values


@dataclass(frozen=True)
class SubPath:
    """Role fields Vault keeps at a sub-path of the role (approle's role_id at `role/<name>/role-id`):
    read from there, and written there after the role itself when they change."""

    path: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class AuthType:
    """`role_segment`: "role", or "users" for userpass, "certs" for cert. `role_model`/`config_model`:
    the declarations (None for a type without config; both None for a generic type, which then
    compares declared keys only). `config_warnings`: risks of a config change, shown in the plan.
    `sub_paths`: role fields read and written at a sub-path of the role. `role_quirk(name, values)`:
    undoes what Vault stores for a role in place of a value, on both sides (cert's display_name)."""

    role_segment: str
    role_model: type[BaseModel] | None
    config_model: type[BaseModel] | None
    has_config: bool = True
    config_warnings: Callable[[Values | None, Values | None], list[str]] = no_warnings
    sub_paths: tuple[SubPath, ...] = ()
    role_quirk: Callable[[str, Values], Values] = as_stored

    @property
    def partial(self) -> bool:
        return self.role_model is None

    @property
    def create_only(self) -> dict[str, str]:
        """Role fields Vault accepts only when the role is created (sending them on an update is an
        error), with what re-creating the role loses."""
        return create_only(self.role_model) if self.role_model else {}

    def config_values(self, method: Any, resolver: Resolver, loc: Loc) -> tuple[Values | None, WriteOnly]:
        config = getattr(method, "config", None)
        if config is None or not self.has_config:
            return None, {}
        if self.config_model is None:
            return dict(config), {}
        return desired_values(config, resolver, loc)

    def read_config(self, raw: dict[str, Any]) -> Values:
        return live_values(self.config_model, raw) if self.config_model else dict(raw)

    def role_values(self, spec: Any, resolver: Resolver, loc: Loc) -> tuple[Values, WriteOnly]:
        if self.role_model is None:
            return dict(spec), {}
        return desired_values(spec, resolver, loc)

    def read_role(self, raw: dict[str, Any]) -> Values:
        return live_values(self.role_model, raw) if self.role_model else dict(raw)
