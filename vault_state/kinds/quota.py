"""Rate limit quotas: `sys/quotas/rate-limit/<name>`, requests per interval on a path, mount or role.

OpenBao offers no other quota type (`sys/quotas/lease-count` answers 404: lease count quotas are
Vault Enterprise). A quota's path must already be a mount, so quotas are applied after mounts.
A write replaces the whole quota: fields left out return to their defaults, so every field is sent.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import TopLevel
from vault_state.spec.fields import Adoptable, Canon, CreateOnly, Literal_, Seconds, no_source
from vault_state.spec.types import Strict, check_name


def quota_path(value: Any) -> str:
    """Vault stores a mount's path with a trailing '/' (`kv` reads back `kv/`) and a path under a
    mount as written: compared and sent without the trailing '/'. Empty: the whole server."""
    return str(value or "").strip().rstrip("/")


QuotaPath = Annotated[str, BeforeValidator(no_source), Canon(quota_path)]  # must name a mount: known offline


class RateLimitQuota(Adoptable):
    path: QuotaPath = Field(
        "", description="Mount (`kv`, `auth/approle`), path under a mount, or empty for every request."
    )
    rate: float = Field(gt=0, description="Requests allowed per interval (fractions allowed).")
    interval: Seconds = Field(1, description="The window `rate` counts over (Vault's default: 1s).")
    block_interval: Seconds = Field(0, description="How long a client over the limit is refused; 0: not blocked.")
    # Vault ignores an empty role on a write (the old one stays): a changed role re-creates the quota.
    role: Annotated[Literal_, CreateOnly()] = Field(
        "", description="A role of the auth method at `path`: limits its logins only. A change re-creates the quota."
    )
    inheritable: bool = Field(
        False, description="Applies to child namespaces too."
    )


def _rate_as_number(raw: dict[str, Any]) -> dict[str, Any]:
    """Vault returns a whole rate as an integer (10) and a fraction as a float (10.5)."""
    return {**raw, "rate": float(raw["rate"])} if isinstance(raw.get("rate"), int | float) else raw


KIND = DeclaredKind(
    name="rate_limit_quota",
    prune_key="rate_limit_quotas",
    model=RateLimitQuota,
    place=TopLevel("quotas.rate_limit", "sys/quotas/rate-limit"),
    read_quirk=_rate_as_number,
)


QuotaName = Annotated[str, AfterValidator(lambda name: check_name(name, "quota"))]


class Quotas(Strict):
    rate_limit: dict[QuotaName, RateLimitQuota] = Field(default_factory=dict, description="Key: quota name.")
