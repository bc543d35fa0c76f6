"""The kinds in apply order: mounts before their config, policies before the roles naming them.

Deletes run in the reverse of this order. An explicit tuple, not an import-time registry.
"""

from __future__ import annotations

from vault_state.kinds import auth_method, auth_role, policy, secrets_engine
from vault_state.kinds.base import Kind

KINDS: tuple[Kind, ...] = (secrets_engine.KIND, policy.KIND, auth_method.KIND, auth_role.KIND)
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
ORDER: dict[str, int] = {k.name: i for i, k in enumerate(KINDS)}
