"""AppRole auth: no config; roles under `role/<name>`. `secret_id_bound_cidrs` reads null when unset.

`local_secret_ids` can only be given when a role is created: any update that carries it, even with
the stored value, fails with 400 "local_secret_ids can only be modified during role creation".
"""

from __future__ import annotations

from typing import Any

from vault_state.kinds.auth.shape import AuthType, Loc, Values, WriteOnly, no_config, no_read
from vault_state.kinds.auth.token import read_token, token_values
from vault_state.kinds.base import as_set
from vault_state.spec.auth import AppRoleRole
from vault_state.spec.sources import Resolver


def role_values(spec: AppRoleRole, resolver: Resolver, loc: Loc) -> tuple[Values, WriteOnly]:
    return {
        **token_values(spec),
        "bind_secret_id": spec.bind_secret_id,
        "secret_id_bound_cidrs": as_set(spec.secret_id_bound_cidrs),
        "secret_id_num_uses": spec.secret_id_num_uses,
        "secret_id_ttl": spec.secret_id_ttl,
        "local_secret_ids": spec.local_secret_ids,
    }, {}


def read_role(raw: dict[str, Any]) -> Values:
    return {
        **read_token(raw),
        "bind_secret_id": bool(raw.get("bind_secret_id", True)),
        "secret_id_bound_cidrs": as_set(raw.get("secret_id_bound_cidrs")),
        "secret_id_num_uses": int(raw.get("secret_id_num_uses") or 0),
        "secret_id_ttl": int(raw.get("secret_id_ttl") or 0),
        "local_secret_ids": bool(raw.get("local_secret_ids")),
    }


TYPE = AuthType(
    "role",
    no_config,
    no_read,
    role_values,
    read_role,
    has_config=False,
    create_only={
        "local_secret_ids": "its role_id changes and every secret ID issued for it stops working: "
        "each client (a CI job, an app) needs the new role_id and a new secret ID"
    },
)
