"""The kinds in apply order: mounts before their config, policies before the roles naming them.

Deletes run in the reverse of this order. An explicit tuple, not an import-time registry.
"""

from __future__ import annotations

from vault_state.kinds import (
    auth_method,
    auth_role,
    namespace,
    policy,
    secrets_engine,
    ssh,
    token_role,
    totp,
    transit,
)
from vault_state.kinds.base import Kind
from vault_state.kinds.declared import DeclaredKind

KINDS: tuple[Kind, ...] = (
    namespace.KIND,  # first: everything in a namespace is created after it, and deleted before it
    secrets_engine.KIND,
    transit.KIND,
    ssh.CA_KIND,
    ssh.ROLE_KIND,
    totp.KIND,
    policy.KIND,
    auth_method.KIND,
    auth_role.KIND,
    token_role.KIND,
)
DECLARED: tuple[DeclaredKind, ...] = tuple(k for k in KINDS if isinstance(k, DeclaredKind))
"""The kinds that are pure declarations: export, docs and --target derive everything from them."""
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
ORDER: dict[str, int] = {k.name: i for i, k in enumerate(KINDS)}
