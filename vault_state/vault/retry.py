"""When to retry a request to Vault and how long to wait: a pure policy, no I/O.

Transient faults are those a Vault cluster produces while it heals itself: a node that is down,
sealed or standby during a leader change (connection refused/reset, 5xx), a standby that has not
caught up with the index we sent (429, 412), and a mount just enabled through a standby, whose
router answers 404 "no handler for route" and then 400 "Waiting for the primary to upgrade" for
about a second. Everything else (400, 403, other 404s) is permanent and fails at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Messages of a 400/404 that only mean "the mount is not ready on this node yet" (OpenBao 2.7).
_NOT_READY = (
    "no handler for route",
    "waiting for the primary to upgrade",
    "upgrading from non-versioned to versioned data",
)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter: try `attempts` times, waiting at most `budget` seconds.

    The defaults wait 10-21 s in all before giving up: longer than a raft leader election (3-5 s here).
    """

    attempts: int = 15
    base: float = 0.1
    cap: float = 2.0
    budget: float = 30.0

    def delay(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `retry` (0-based): uniform in [d/2, d], d = min(cap, base * 2**retry).

        Half of the wait is fixed so that a few retries always span a leader election; the random
        half spreads concurrent clients apart.
        """
        step: float = min(self.cap, self.base * 2.0**retry)
        return step / 2 + rand() * step / 2

    def allows(self, retry: int, waited: float) -> bool:
        """Whether retry number `retry` may be made after `waited` seconds of waiting so far."""
        return retry + 1 < self.attempts and waited < self.budget

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RetryPolicy:
        """VAULT_MAX_RETRIES (as the vault CLI reads it) bounds the retries; invalid values keep the default."""
        raw = env.get("VAULT_MAX_RETRIES") or env.get("BAO_MAX_RETRIES") or ""
        if raw.strip().isdigit():
            return cls(attempts=int(raw) + 1)
        return cls()


def transient_reason(status: int, errors: list[str]) -> str | None:
    """Why an HTTP answer is worth retrying, or None when it is a success or a permanent error."""
    if status in (429, 412):
        return f"HTTP {status} (standby not caught up)"
    if status >= 500:
        return f"HTTP {status}"
    text = " ".join(errors).lower()
    if status in (400, 404) and any(marker in text for marker in _NOT_READY):
        return f"HTTP {status} (mount not ready on this node)"
    return None


def done_by_earlier_attempt(method: str, path: str, status: int, errors: list[str]) -> bool:
    """After a lost answer, whether this error only says the earlier attempt of the same call worked.

    Enabling a secrets engine or an auth method is the one non-idempotent write: if the node applied
    it and then died before answering, the retry gets 400 "path is already in use".
    """
    enabling = method in ("POST", "PUT") and path.startswith(("sys/mounts/", "sys/auth/"))
    return enabling and status == 400 and any("path is already in use" in e for e in errors)
