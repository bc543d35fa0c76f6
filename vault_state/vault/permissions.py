"""Forbidden reads, collected: a token that may not read some paths gets one message naming them all.

While a `ForbiddenReads` collector is active, the gateway records a 403 on a GET or LIST instead of
raising it, and answers as if the object were absent; at the end of the read phase `check()` raises
`PermissionsError` naming every forbidden path, so no plan is ever made from a partial read.
"""

from __future__ import annotations

import threading

from vault_state.errors import VaultApiError, VaultStateError


class PermissionsError(VaultStateError):
    """The token may not read some paths the plan needs; the message names each of them."""

    def __init__(self, denied: list[str]) -> None:
        self.denied = denied
        lines = "\n".join(f"  {entry}" for entry in denied)
        noun = "path" if len(denied) == 1 else "paths"
        super().__init__(
            f"permission denied: the token may not read {len(denied)} {noun} that vault-state needs:\n{lines}\n"
            "Give the token's policy read (and list) capability on them, or use another token."
        )


CAPABILITIES_OF = {"GET": ("read",), "LIST": ("list",), "POST": ("create", "update"), "PUT": ("create", "update"),
                   "PATCH": ("patch",), "DELETE": ("delete",)}
"""The ACL capabilities a request takes, by method. A write is a create or an update to Vault
(which one depends on the endpoint and on whether the object exists): vault-state creates and
later updates the same paths, so it asks for both."""


class Forbidden(VaultApiError):
    """Vault refused a request with 403 "permission denied": the token's policies do not allow it."""

    def __str__(self) -> str:
        capabilities = " and ".join(CAPABILITIES_OF.get(self.method, ("the needed",)))
        sudo = " (and sudo)" if needs_sudo(self.path if self.method != "LIST" else f"{self.path}/") else ""
        return (f"permission denied: the token may not {self.method} {self.path} (HTTP 403): its policy needs "
                f"{capabilities}{sudo} on that path; `vault-state required-policy` prints the policy the file needs")


def forbidden_writes(denied: list[str]) -> str:
    """The apply's summary of the writes Vault refused with 403 (`METHOD path` each)."""
    lines = "\n".join(f"  {entry}" for entry in denied)
    noun = "path" if len(denied) == 1 else "paths"
    return (
        f"permission denied: the token may not write {len(denied)} {noun} that vault-state needs:\n{lines}\n"
        "Give the token's policy create and update (delete for a DELETE) on them, or use another token; "
        "`vault-state required-policy` prints the policy the file needs."
    )


def forbidden_or_api_error(method: str, path: str, status: int, messages: list[str]) -> VaultApiError:
    """The error for Vault's answer: `Forbidden` for a 403 "permission denied"."""
    denied = status == 403 and any("permission denied" in m for m in messages)
    return (Forbidden if denied else VaultApiError)(method, path, status, messages)


class ForbiddenReads:
    """The `METHOD path` of each read Vault refused with 403, in the order first seen."""

    def __init__(self) -> None:
        self._denied: dict[str, None] = {}
        self._lock = threading.Lock()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self._denied.setdefault(f"{method} {path}", None)

    def check(self) -> None:
        """Raise PermissionsError when any read was forbidden."""
        if self._denied:
            raise PermissionsError(sorted(self._denied, key=lambda e: e.split(" ", 1)[1]))


ROOT_PROTECTED = ("sys/auth/", "sys/remount", "sys/audit", "sys/audit/", "sys/config/cors", "sys/config/auditing/",
                  "sys/config/ui/headers/")
"""Vault's root-protected paths (and those under them, for a prefix ending in '/') among those
vault-state uses: a policy must grant `sudo` on them besides the capability of the operation."""


def needs_sudo(path: str) -> bool:
    """Whether `path` (after a namespace prefix, if any) is root-protected."""
    at = 0 if path.startswith("sys/") else path.find("/sys/") + 1
    if path.startswith("sys/") or at > 0:
        local = path[at:]
        return any(local == p or (p.endswith("/") and local.startswith(p)) for p in ROOT_PROTECTED)
    return False
