"""The kinds in apply order: mounts before their config, policies before the roles naming them.

Deletes run in the reverse of this order. An explicit tuple, not an import-time registry.
"""

from __future__ import annotations

from vault_state.kinds import auth_method, auth_role, generic, policy, secrets_engine, token_role
from vault_state.kinds.base import Kind
from vault_state.kinds.declared import DeclaredKind

KINDS: tuple[Kind, ...] = (
    secrets_engine.KIND, policy.KIND, auth_method.KIND, auth_role.KIND, token_role.KIND,
    generic.KIND,  # last: a generic path may configure anything the kinds before it create
)
DECLARED: tuple[DeclaredKind, ...] = tuple(k for k in KINDS if isinstance(k, DeclaredKind))
"""The kinds that are pure declarations: export, docs and --target derive everything from them."""
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
ORDER: dict[str, int] = {k.name: i for i, k in enumerate(KINDS)}
