"""Token roles: `auth/token/roles/<name>`, the roles `vault token create -role=NAME` uses (CI, brokers).

Vault sanitises policy lists (lowercased, sorted, without duplicates) and returns unset lists as
[] or null: the field types absorb both. Token roles have no token_ttl, token_max_ttl or
token_policies: a token's policies come from allowed_policies, its TTLs from the mount.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import TopLevel
from vault_state.spec.fields import Adoptable, CidrSet, Literal_, LowerNameSet, Seconds

SUFFIX = re.compile(r"(\w[\w\-.]+\w)?")


class TokenRole(Adoptable):
    allowed_policies: LowerNameSet = Field(
        default_factory=list, description="Policies a token of this role may have (default: the creator's)."
    )
    disallowed_policies: LowerNameSet = Field(default_factory=list, description="Policies it may never have.")
    allowed_policies_glob: LowerNameSet = Field(default_factory=list, description="allowed_policies, as globs.")
    disallowed_policies_glob: LowerNameSet = Field(default_factory=list, description="disallowed_policies, as globs.")
    orphan: bool = Field(False, description="Tokens have no parent: revoking the creator does not revoke them.")
    renewable: bool = True
    path_suffix: Literal_ = Field(
        "",
        json_schema_extra={"pattern": SUFFIX.pattern},
        description="Appended to the token's path: at least 3 characters, letters, digits, '_', '-', '.'.",
    )
    allowed_entity_aliases: LowerNameSet = Field(
        default_factory=list, description="Entity aliases a token may take (Vault lowercases them)."
    )
    token_bound_cidrs: CidrSet = Field(default_factory=list)
    token_explicit_max_ttl: Seconds = 0
    token_no_default_policy: bool = False
    token_num_uses: int = Field(0, ge=0)
    token_period: Seconds = 0
    token_type: Literal["default-service", "default-batch", "service", "batch"] = "default-service"

    @field_validator("path_suffix")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if not SUFFIX.fullmatch(value):  # Vault's own rule, refused at write time otherwise
            raise ValueError(
                f"invalid path_suffix {value!r}: Vault requires at least 3 characters of letters, digits, "
                "'_', '-' and '.', starting and ending with a letter, digit or '_'"
            )
        return value


KIND = DeclaredKind(
    name="token_role", prune_key="token_roles", model=TokenRole, place=TopLevel("token_roles", "auth/token/roles")
)
