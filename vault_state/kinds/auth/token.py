"""The token_* fields every role and user has, normalised once for all auth types.

Vault mirrors legacy `policies`/`ttl`/`max_ttl`/`period`/`num_uses`/`bound_cidrs` into
`token_*`; only the `token_*` names are read and written. Policy names are lowercased at login,
so they compare as a set of lowercase names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from vault_state.kinds.base import as_set
from vault_state.spec.auth import TokenFields

TOKEN_FIELDS = (
    "token_ttl", "token_max_ttl", "token_explicit_max_ttl", "token_period", "token_policies",
    "token_bound_cidrs", "token_no_default_policy", "token_num_uses", "token_type",
)


def bound_cidrs(values: Iterable[str] | None) -> list[str]:
    """token_bound_cidrs as Vault stores them: a host CIDR (/32, /128) reads back as the bare
    address and IPv6 in compressed lowercase; other CIDRs keep their address bits as written."""
    out = []
    for value in values or []:
        try:
            iface = ipaddress.ip_interface(value.strip())
        except ValueError:
            out.append(value)
            continue
        host = iface.network.prefixlen == iface.max_prefixlen
        out.append(str(iface.ip) if host else f"{iface.ip}/{iface.network.prefixlen}")
    return as_set(out)


def token_values(spec: TokenFields) -> dict[str, Any]:
    return {
        "token_ttl": spec.token_ttl,
        "token_max_ttl": spec.token_max_ttl,
        "token_explicit_max_ttl": spec.token_explicit_max_ttl,
        "token_period": spec.token_period,
        "token_policies": as_set(p.lower() for p in spec.token_policies),
        "token_bound_cidrs": bound_cidrs(spec.token_bound_cidrs),
        "token_no_default_policy": spec.token_no_default_policy,
        "token_num_uses": spec.token_num_uses,
        "token_type": spec.token_type,
    }


def read_token(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "token_ttl": int(raw.get("token_ttl") or 0),
        "token_max_ttl": int(raw.get("token_max_ttl") or 0),
        "token_explicit_max_ttl": int(raw.get("token_explicit_max_ttl") or 0),
        "token_period": int(raw.get("token_period") or 0),
        "token_policies": as_set(str(p).lower() for p in raw.get("token_policies") or []),
        "token_bound_cidrs": bound_cidrs(raw.get("token_bound_cidrs")),
        "token_no_default_policy": bool(raw.get("token_no_default_policy")),
        "token_num_uses": int(raw.get("token_num_uses") or 0),
        "token_type": raw.get("token_type") or "default",
    }
