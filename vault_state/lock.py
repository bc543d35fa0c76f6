"""The apply lock: two applies against one server never interleave.

The lock is a KV v2 entry at `vault-state/data/lock` on a dedicated KV v2 mount `vault-state/`
(created by the first apply; plans, prune and export never show it, and the state file may not
declare it). It is taken with check-and-set (`cas: 0` creates only if absent), so exactly one
apply wins; it holds an id, the owner (user@host, pid), the time taken and an expiry after which
another apply may take it over (again with check-and-set). Releasing writes an empty entry, with
check-and-set on the version taken, so a lock that was force-unlocked meanwhile is left alone.
`plan` never takes it. Needed permissions: create/read/update on `vault-state/data/lock`, and
(once, to create the mount) update on `sys/mounts/vault-state`.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from vault_state.errors import VaultApiError, VaultStateError
from vault_state.kinds.base import Need, reading
from vault_state.plan.model import Call
from vault_state.spec.types import LOCK_MOUNT
from vault_state.vault.gateway import Gateway, clean_error
from vault_state.vault.permissions import forbidden_or_api_error

LOCK_DATA = f"{LOCK_MOUNT}/data/lock"
DEFAULT_TTL = 3600  # a crashed apply's lock may be taken over after an hour (or force-unlocked at once)
POLL = 0.5


def lock_needs() -> list[Need]:
    """What taking and releasing the lock asks for (vault-state required-policy)."""
    return [
        reading("sys/mounts", "apply lock: whether its mount exists"),
        Need(f"sys/mounts/{LOCK_MOUNT}", ("create", "update"), "apply lock and inventories: their KV v2 mount, "
             "made by the first apply"),
        Need(LOCK_DATA, ("create", "read", "update"), "apply lock: taken and released with check-and-set"),
    ]


class LockError(VaultStateError):
    """The lock is held by another run, or a force-unlock named the wrong id."""


@dataclass(frozen=True)
class LockInfo:
    id: str
    owner: str
    created: float
    expires: float

    def describe(self) -> str:
        def at(t: float) -> str:
            return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"ID {self.id}, held by {self.owner} since {at(self.created)}, expires {at(self.expires)}"

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LockInfo:
        return cls(str(data.get("id", "")), str(data.get("owner", "")),
                   float(data.get("created", 0)), float(data.get("expires", 0)))


def owner_name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (pid {os.getpid()})"


class ApplyLock:
    """Acquire with `acquire(timeout)`, release with `release()`; `clock`/`sleep` are for tests."""

    def __init__(self, gateway: Gateway, ttl: int = DEFAULT_TTL, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.gateway = gateway
        self.ttl = ttl
        self.clock = clock
        self.sleep = sleep
        self.held: LockInfo | None = None
        self.version = 0  # the entry's version this run wrote when taking the lock
        self.pending_id = ""  # the id an acquire in progress writes

    def acquire(self, timeout: float) -> LockInfo:
        """Take the lock, waiting up to `timeout` seconds while another live run holds it."""
        self._ensure_mount()
        deadline = time.monotonic() + timeout
        lock_id = self.pending_id = str(uuid.uuid4())  # one id per acquire: a retried write that landed is ours
        while True:
            holder, version = self._current()
            if holder is not None and holder.id == lock_id:
                self.held, self.version = holder, version
                return holder
            if holder is None or holder.expires < self.clock():
                mine = self._new_info(lock_id)
                written = self._write(asdict(mine), version)
                if written is not None:
                    self.held, self.version = mine, written
                    return mine
                continue  # someone else won the check-and-set: look again
            if time.monotonic() >= deadline:
                raise LockError(f"the apply lock is held: {holder.describe()}. Wait for that run, pass "
                                f"--lock-timeout to wait, or if it died: vault-state force-unlock {holder.id}")
            self.sleep(POLL)

    def release(self) -> None:
        """Empty the lock entry, with check-and-set on the version this run wrote: a lock that was
        force-unlocked or taken over meanwhile is left alone. No read, so no stale standby read."""
        if self.held is None:
            return
        self._write({}, self.version)
        self.held = None

    def abandon(self) -> None:
        """After an acquire was interrupted (Ctrl-C, SIGTERM): release the lock if our write landed."""
        if self.held is not None:
            self.release()
            return
        if not self.pending_id:  # stopped before writing (the mount could not be made): nothing is ours
            return
        holder, version = self._current()
        if holder is not None and self.pending_id and holder.id == self.pending_id:
            self._write({}, version)

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock whatever its owner, if its id is `lock_id`."""
        holder, version = self._current()
        if holder is None:
            raise LockError("the apply lock is not held; nothing to unlock")
        if holder.id != lock_id:
            raise LockError(f"the apply lock has another ID: {holder.describe()}")
        if self._write({}, version) is None:
            raise LockError("the apply lock changed while it was being unlocked; run force-unlock again")
        return holder

    def _new_info(self, lock_id: str) -> LockInfo:
        now = self.clock()
        return LockInfo(lock_id, owner_name(), now, now + self.ttl)

    def _ensure_mount(self) -> None:
        mounts = self.gateway.read("sys/mounts") or {}
        if f"{LOCK_MOUNT}/" in (mounts.get("data") or mounts):
            return
        try:
            self.gateway.execute(Call("POST", f"sys/mounts/{LOCK_MOUNT}", {
                "type": "kv", "options": {"version": "2"},
                "description": "vault-state apply lock (see docs/reliability.md)",
            }))
        except VaultApiError as exc:  # another apply created it first
            if not any("path is already in use" in m for m in exc.messages):
                raise

    def _current(self) -> tuple[LockInfo | None, int]:
        payload = self.gateway.read(LOCK_DATA)
        data = (payload or {}).get("data") or {}
        if not data.get("data"):
            return None, int((data.get("metadata") or {}).get("version") or 0)
        return LockInfo.from_data(data["data"]), int(data["metadata"]["version"])

    def _write(self, data: dict[str, Any], cas: int) -> int | None:
        """Write the entry if its current version is `cas` (0: absent); the new version, or None if not."""
        status, payload = self.gateway.request("POST", LOCK_DATA, {"options": {"cas": cas}, "data": data})
        errors = [clean_error(str(e)) for e in payload.get("errors") or []]
        if status == 400 and any("check-and-set" in e for e in errors):
            return None
        if status >= 400:
            raise forbidden_or_api_error("POST", LOCK_DATA, status, errors)
        return int((payload.get("data") or {}).get("version") or 0)


@contextlib.contextmanager
def held(lock: ApplyLock, timeout: float) -> Iterator[LockInfo]:
    """The lock held for the block, released on any exit: an error, Ctrl-C, or SIGTERM (made a
    KeyboardInterrupt while the lock is held, when running in the main thread)."""
    previous = _raise_on_sigterm()
    try:
        info = lock.acquire(timeout)
    except BaseException:  # interrupted between our check-and-set write and its answer: clean up
        with contextlib.suppress(VaultStateError):
            lock.abandon()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        raise
    try:
        yield info
    except VaultStateError as exc:
        _release_after(lock, info, exc)
        raise
    except BaseException:
        with contextlib.suppress(VaultStateError):
            lock.release()
        raise
    else:
        _release_after(lock, info, None)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _release_after(lock: ApplyLock, info: LockInfo, error: VaultStateError | None) -> None:
    """Release; when that fails, say so with the id to force-unlock, after the run's own error if any."""
    try:
        lock.release()
    except VaultStateError as exc:
        before = f"{error}\n" if error is not None else ""
        raise LockError(f"{before}the apply lock could not be released ({exc}); once the server is back: "
                        f"vault-state force-unlock {info.id}") from None


def _raise_on_sigterm() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)
