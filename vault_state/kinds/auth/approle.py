"""AppRole auth: no config; roles under `role/<name>` (spec.auth.AppRoleRole declares the fields)."""

from __future__ import annotations

from vault_state.kinds.auth.shape import AuthType
from vault_state.spec.auth import AppRoleRole

TYPE = AuthType("role", AppRoleRole, None, has_config=False)
