"""The kinds in apply order: mounts before their config, policies before the roles naming them.

Deletes run in the reverse of this order. An explicit tuple, not an import-time registry.
Audit devices and audited headers come first, so that everything else the apply does is recorded
(and, deletes running in reverse, an audit device is disabled only after every other delete).
Password policies precede the engines whose configs name them; rate limit quotas come after every
mount (Vault refuses a quota on a path that is not one) and last, so they throttle no earlier write.
"""

from __future__ import annotations

from vault_state.kinds import (
    audit_device,
    auth_method,
    auth_role,
    database,
    generic,
    identity,
    kubernetes_secrets,
    namespace,
    password_policy,
    pki,
    policy,
    quota,
    secrets_engine,
    ssh,
    sys_config,
    token_auth,
    token_role,
    totp,
    transit,
)
from vault_state.kinds.base import Kind
from vault_state.kinds.declared import DeclaredKind

KINDS: tuple[Kind, ...] = (
    namespace.KIND,  # first: everything in a namespace is created after it, and deleted before it
    audit_device.KIND,  # then the audit devices: the rest of the apply is recorded
    sys_config.AUDITED_HEADER,
    sys_config.CORS,
    sys_config.UI_HEADER,
    password_policy.KIND,  # before the engines whose configs name them
    secrets_engine.KIND,
    *pki.KINDS,
    transit.KIND,
    ssh.CA_KIND,
    ssh.ROLE_KIND,
    totp.KIND,
    database.CONNECTION,  # before the roles naming it: a static role's creation logs in to the database
    database.ROLE,
    database.STATIC_ROLE,
    kubernetes_secrets.CONFIG,
    kubernetes_secrets.ROLE,
    policy.KIND,
    auth_method.KIND,
    token_auth.KIND,
    auth_role.KIND,
    token_role.KIND,
    *identity.KINDS,  # after auth methods (aliases name their accessors) and policies
    generic.KIND,  # a generic path may configure anything the kinds before it create
    quota.KIND,  # last: after every mount, and throttling none of the apply's own writes
)
DECLARED: tuple[DeclaredKind, ...] = tuple(k for k in KINDS if isinstance(k, DeclaredKind))
"""The kinds that are pure declarations: export, docs and --target derive everything from them."""
ROOT_ONLY = frozenset(
    k.name for k in (audit_device.KIND, sys_config.AUDITED_HEADER, sys_config.CORS, sys_config.UI_HEADER,
                     token_auth.KIND, quota.KIND)
)
"""Server-wide kinds, configured in the root namespace only: never read inside a namespace."""
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
ORDER: dict[str, int] = {k.name: i for i, k in enumerate(KINDS)}
