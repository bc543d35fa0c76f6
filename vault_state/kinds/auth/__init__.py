"""Auth types: how each type's config and roles are normalised, read and written.

Each type is a small module of the same shape; `auth_type(name)` picks one, falling back to the
free-form generic type for anything not typed.
"""

from __future__ import annotations

from vault_state.kinds.auth import approle, generic, jwt, kubernetes, userpass
from vault_state.kinds.auth.shape import AuthType

_TYPES: dict[str, AuthType] = {
    "kubernetes": kubernetes.TYPE,
    "approle": approle.TYPE,
    "userpass": userpass.TYPE,
    "jwt": jwt.TYPE,
    "oidc": jwt.TYPE,
}


def auth_type(name: str) -> AuthType:
    return _TYPES.get(name, generic.TYPE)
