"""Kubernetes auth: `auth/<mount>/config` (write replaces it whole) and `role/<name>` (writes merge).

token_reviewer_jwt is write-only: reads return only `token_reviewer_jwt_set`, which is what the
plan compares; the JWT itself is re-sent on every config write, since leaving it out clears it.
"""

from __future__ import annotations

from vault_state.kinds.auth.shape import AuthType, Values
from vault_state.spec.auth import KubernetesConfig, KubernetesRole


def config_warnings(before: Values | None, after: Values | None) -> list[str]:
    if before and after and before.get("token_reviewer_jwt_set") and not after.get("token_reviewer_jwt_set"):
        return [
            "this config write CLEARS the token_reviewer_jwt set on the server: the file does not set one, "
            "and a kubernetes config write replaces the whole config"
        ]
    return []


TYPE = AuthType("role", KubernetesRole, KubernetesConfig, config_warnings=config_warnings)
