"""AppRole auth: no config; roles under `role/<name>` (spec.auth.AppRoleRole declares the fields).

A role's role_id is not in the role's read: it is read from and written to `role/<name>/role-id`.
"""

from __future__ import annotations

from vault_state.kinds.auth.shape import AuthType, SubPath
from vault_state.spec.auth import AppRoleRole

TYPE = AuthType("role", AppRoleRole, None, has_config=False, sub_paths=(SubPath("role-id", ("role_id",)),))
