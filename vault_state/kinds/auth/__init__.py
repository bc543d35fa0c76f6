"""Auth types: how each type's config and roles are normalised, read and written.

Each type is a small module of the same shape; `auth_type(name)` picks one, falling back to the
free-form generic type for anything not typed.
"""

from __future__ import annotations

from vault_state.kinds.auth import approle, cert, generic, jwt, kubernetes, userpass
from vault_state.kinds.auth.shape import AuthType

_TYPES: dict[str, AuthType] = {
    "kubernetes": kubernetes.TYPE,
    "approle": approle.TYPE,
    "userpass": userpass.TYPE,
    "jwt": jwt.TYPE,
    "oidc": jwt.TYPE,
    "cert": cert.TYPE,
}


# Role fields that only a role's creation may carry, with what re-creating the role loses (roles do
# not record their type; no field name is shared with a type that can update it).
CREATE_ONLY_ROLE_FIELDS = {f: loss for kind in _TYPES.values() for f, loss in kind.create_only.items()}
# Role fields kept at a sub-path of the role (field -> sub-path), for the same reason by name.
SUB_PATH_FIELDS = {f: sub.path for kind in _TYPES.values() for sub in kind.sub_paths for f in sub.fields}


def auth_type(name: str) -> AuthType:
    return _TYPES.get(name, generic.TYPE)
