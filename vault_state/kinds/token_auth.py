"""The tune of the built-in token auth method (`sys/auth/token/tune`): TTLs, listing, headers.

The token method itself is always there: never enabled or disabled (auth_methods refuses `token`).
It is read from `sys/auth`, whose `token/` entry gives 0 for a TTL inherited from the system
(its tune endpoint answers the system's 768h instead, which would never equal the file's 0).
Vault refuses `token_type` on the token mount, so the tune has the secrets engines' fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import TopSingleton
from vault_state.spec.engines import Tune
from vault_state.spec.types import Strict


def auth_listing(path: str) -> str:
    return "sys/auth"


def token_mount_config(raw: dict[str, Any]) -> dict[str, Any]:
    """The `token/` entry's `config` out of the sys/auth listing."""
    mount = raw.get("token/")
    config = mount.get("config") if isinstance(mount, dict) else None
    return config if isinstance(config, dict) else {}


KIND = DeclaredKind(
    name="token_auth", prune_key="", model=Tune, place=TopSingleton("token_auth.tune", "sys/auth/token/tune", "tune"),
    read_path=auth_listing, read_quirk=token_mount_config,
)


class TokenAuth(Strict):
    tune: Tune | None = Field(None, description="`sys/auth/token/tune`; absent: not managed.")
