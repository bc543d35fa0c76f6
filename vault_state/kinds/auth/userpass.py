"""Userpass auth: users under `users/<name>`. The password is write-only: never read back."""

from __future__ import annotations

from vault_state.kinds.auth.shape import AuthType
from vault_state.spec.auth import UserpassUser

TYPE = AuthType("users", UserpassUser, None, has_config=False)
