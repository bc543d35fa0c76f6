"""Which API paths a generic endpoint may name: well-formed, not an action, not owned by a typed kind.

`check_path` runs when the file is validated (the path alone); `owner` needs the whole file, since
which paths a typed kind writes depends on the engines and auth methods the file declares.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spec.models imports the generic kind's model, which validates with check_path
    from vault_state.kinds.declared import DeclaredKind
    from vault_state.spec.models import Sections

_SEGMENT = re.compile(r"[A-Za-z0-9_.\-@+=:,~]+")

# Paths that are actions or storage, not configuration: a POST there seals, rekeys, revokes,
# writes raw storage or mints tokens. Matched by whole segments, ignoring case.
BUILTIN: dict[str, str] = {
    **dict.fromkeys(
        ("sys/seal", "sys/unseal", "sys/step-down", "sys/init", "sys/generate-root", "sys/generate-recovery-token",
         "sys/rekey", "sys/rekey-recovery-key", "sys/rotate", "sys/raw", "sys/storage", "sys/replication"),
        "an operation on the server (seal, root token, rekey, raw storage), not configuration",
    ),
    **dict.fromkeys(
        ("sys/leases", "sys/revoke", "sys/revoke-prefix", "sys/revoke-force", "sys/renew", "sys/remount",
         "sys/wrapping", "sys/tools", "sys/capabilities", "sys/capabilities-self", "sys/capabilities-accessor",
         "sys/control-group", "sys/plugins/reload", "sys/pprof", "sys/internal"),
        "an operation (leases, remount, wrapping, tools), not configuration",
    ),
    "auth/token": "the built-in token auth method: its writes create, renew and revoke tokens",
    "cubbyhole": "private to the token that writes it",
    "vault-state": "vault-state's own mount (the apply lock)",
}

# The kinds that are not DeclaredKinds write these paths (see their calls()).
MOUNT_OWNED = {
    "sys/mounts": "secrets_engines",
    "sys/auth": "auth_methods",
    "sys/policies/acl": "policies",
    "sys/policy": "policies",  # the legacy path of the same ACL policies
}


def check_path(path: str) -> str:
    """A generic endpoint's API path: segments joined by '/', nothing that would change the URL, no
    action endpoint, and no path a typed kind writes whatever the file holds. Raises ValueError."""
    if path.startswith("/"):
        raise ValueError(f"invalid generic path {path!r}: write the API path without a leading '/'")
    segments = path.split("/")
    if "" in segments:
        raise ValueError(f"invalid generic path {path!r}: empty segment ('//' or a trailing '/')")
    if any(seg in (".", "..") for seg in segments):
        raise ValueError(f"invalid generic path {path!r}: '.' and '..' segments are not allowed")
    if not all(_SEGMENT.fullmatch(seg) for seg in segments):
        raise ValueError(
            f"invalid generic path {path!r}: use letters, digits and _ . - @ + = : , ~ in segments joined by '/'"
        )
    section = _static_owner(path)
    if section is not None:
        raise ValueError(owned_message(path, section))
    for prefix, why in BUILTIN.items():
        if _under(path.lower(), prefix):
            raise ValueError(f"generic path {path!r} is refused: {prefix} is {why}")
    return path


def owned_message(path: str, section: str) -> str:
    return f"generic path {path!r} is managed by a typed kind: declare it under {section} instead"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _static_owner(path: str, kinds: Sequence[DeclaredKind] | None = None) -> str | None:
    """The section declaring what `path` configures when a typed kind writes it, whatever the file
    holds: the top-level kinds' paths, mounts, policies, auth methods' config and roles. The
    longest prefix wins (`sys/auth/token/tune` belongs to a kind of its own if one declares it)."""
    from vault_state.kinds.registry import DECLARED  # the registry imports this kind: only at run time

    owned = dict(MOUNT_OWNED)
    for kind in DECLARED if kinds is None else kinds:  # places not in engines: objects at or under a fixed path
        path_of, section = getattr(kind.place, "path", None), getattr(kind.place, "section", None)
        if not hasattr(kind.place, "engine_type") and isinstance(path_of, str) and isinstance(section, str):
            owned[path_of] = section
    matches = [prefix for prefix in owned if _under(path, prefix)]
    return owned[max(matches, key=len)] if matches else _auth_owner(path)


def owner(path: str, state: Sections, kinds: Sequence[DeclaredKind] | None = None) -> str | None:
    """The section declaring what `path` configures when a typed kind writes it under an engine the
    file declares (`secrets_engines.transit.transit.keys`), or None."""
    for prefix, section in _engine_owned(state, kinds):
        if _under(path, prefix):
            return section
    return None


def _engine_owned(state: Sections, kinds: Sequence[DeclaredKind] | None) -> Iterator[tuple[str, str]]:
    """(path prefix, section) of every path a kind placed in engines writes (any place with an
    `engine_type`, a `section` tuple and a `path` under the mount), from its declaration."""
    from vault_state.kinds.registry import DECLARED

    for kind in DECLARED if kinds is None else kinds:
        engine_type = getattr(kind.place, "engine_type", None)
        section, below = getattr(kind.place, "section", ()), getattr(kind.place, "path", "")
        for mount, engine in state.secrets_engines.items():
            if engine_type is not None and engine.type == engine_type:
                yield f"{mount}/{below}", "secrets_engines." + ".".join((mount, *section))
    for mount, engine in state.secrets_engines.items():
        if engine.kv_version == 2:
            yield f"{mount}/config", f"secrets_engines.{mount}.kv_config"


def _auth_owner(path: str) -> str | None:
    """An auth method's config and roles belong in auth_methods, whichever method the path names
    (role segments come from the auth types: role, users, certs)."""
    from vault_state.kinds.auth import _TYPES

    parts = path.split("/")
    if parts[0] != "auth" or len(parts) < 3 or parts[1] == "token":
        return None
    if parts[-1] == "config":
        return f"auth_methods.{'/'.join(parts[1:-1])}.config"
    segments = {t.role_segment for t in _TYPES.values()}
    for index in range(2, len(parts) - 1):  # a role, or an operation on one (an approle's secret-id)
        if parts[index] in segments:
            return f"auth_methods.{'/'.join(parts[1:index])}.{'users' if parts[index] == 'users' else 'roles'}"
    return None
