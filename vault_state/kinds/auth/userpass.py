"""Userpass auth: users under `users/<name>`. The password is write-only: never read back."""

from __future__ import annotations

from typing import Any

from vault_state.kinds.auth.shape import AuthType, Loc, Values, WriteOnly, no_config, no_read
from vault_state.kinds.auth.token import read_token, token_values
from vault_state.sensitive import Sensitive
from vault_state.spec.auth import UserpassUser
from vault_state.spec.sources import Resolver


def role_values(spec: UserpassUser, resolver: Resolver, loc: Loc) -> tuple[Values, WriteOnly]:
    password = resolver.resolve(spec.password, (*loc, "password"), secret=True)
    assert isinstance(password, Sensitive)
    return token_values(spec), {"password": password}


def read_role(raw: dict[str, Any]) -> Values:
    return read_token(raw)


TYPE = AuthType("users", no_config, no_read, role_values, read_role, has_config=False)
