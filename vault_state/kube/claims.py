"""Claims of a service account JWT, decoded without verifying it (never printed)."""

from __future__ import annotations

import base64
import json
from typing import Any

from vault_state.sensitive import Sensitive


def jwt_claims(jwt: Sensitive) -> dict[str, Any]:
    """The payload of a JWT; {} when it is not a JWT."""
    parts = jwt.reveal().strip().split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def service_account_of(jwt: Sensitive) -> tuple[str, str] | None:
    """(namespace, name) from a service account JWT's `sub` claim; None when it is not one."""
    parts = str(jwt_claims(jwt).get("sub", "")).split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        return parts[2], parts[3]
    return None
