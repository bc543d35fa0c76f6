"""JWT/OIDC auth: `config` (writes replace it; oidc_client_secret is write-only) and `role/<name>`.

Unset role lists and maps read back as null, and JWT public keys lose their trailing newline: the
field types of spec.auth.JwtConfig and JwtRole absorb both.
"""

from __future__ import annotations

from vault_state.kinds.auth.shape import AuthType
from vault_state.spec.auth import JwtConfig, JwtRole

TYPE = AuthType("role", JwtRole, JwtConfig)
