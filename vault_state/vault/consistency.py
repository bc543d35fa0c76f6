"""Read-after-write consistency on an HA cluster: which node to talk to and which index to ask for.

A standby serves reads from its own copy, which lags the leader by up to ~100 ms. Two remedies,
both used: talk to the active node when sys/leader names one we can reach, and send the last
`X-Vault-Index` a write returned with `X-Vault-Inconsistent: forward-active-node`, so a standby
that has not caught up forwards the read to the active node instead of answering stale data.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

INDEX = "X-Vault-Index"
INCONSISTENT = "X-Vault-Inconsistent"
_READS = ("GET", "LIST", "HEAD")


class IndexTracker:
    """The last X-Vault-Index seen on a write answer, shared by every thread of one run."""

    def __init__(self) -> None:
        self._index = ""
        self._lock = threading.Lock()

    def headers(self) -> dict[str, str]:
        """Headers for the next request: none before the first write."""
        with self._lock:
            index = self._index
        return {INDEX: index, INCONSISTENT: "forward-active-node"} if index else {}

    def observe(self, method: str, headers: Mapping[str, str]) -> None:
        """Remember the index of a write's answer (reads may come from a lagging standby)."""
        index = headers.get(INDEX, "")
        if index and method.upper() not in _READS:
            with self._lock:
                self._index = index


def active_address(leader: Mapping[str, Any], configured: str) -> str | None:
    """The active node's API address from a sys/leader answer, when it is another node than `configured`."""
    if not leader.get("ha_enabled") or leader.get("is_self"):
        return None
    address = str(leader.get("leader_address") or "").rstrip("/")
    if not address.startswith(("http://", "https://")) or address == configured.rstrip("/"):
        return None
    return address
