"""The gateway: the one module that talks HTTP to Vault, through hvac's generic transport.

It reveals Sensitive values only when encoding a request body, turns HTTP errors into
`VaultApiError` naming the method and path (never the body), counts requests, and returns the
`warnings` Vault attaches to a write so the caller can surface them.
"""

from __future__ import annotations

import builtins
import contextlib
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import hvac
import requests
from hvac.adapters import RawAdapter

from vault_state.errors import ConfigurationError, VaultApiError, VaultConnectionError
from vault_state.plan.model import Call, Shown
from vault_state.progress import Silent, Tracker
from vault_state.sensitive import reveal_all
from vault_state.vault.connection import Connection
from vault_state.vault.consistency import IndexTracker, active_address
from vault_state.vault.parallel import DEFAULT_PARALLELISM, Workers
from vault_state.vault.permissions import ForbiddenReads
from vault_state.vault.retry import RetryPolicy, done_by_earlier_attempt, transient_reason

Answer = tuple[int, dict[str, Any]]  # (HTTP status, parsed JSON body or {})


class Gateway:
    def __init__(
        self, connection: Connection, timeout: float = 30.0, parallelism: int = DEFAULT_PARALLELISM,
        retry: RetryPolicy | None = None, follow_leader: bool = True,
    ) -> None:
        self.connection = connection
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.follow_leader = follow_leader  # send requests to the active node when sys/leader names one
        self.index = IndexTracker()
        self.forbidden: ForbiddenReads | None = None  # set while forbidden_reads_collected() is active
        self.faults_retried = 0
        self._target = ""  # the address requests go to; "" until discovered
        self._answered = False  # whether any node answered yet: refused connections fail fast before that
        self.workers = Workers(parallelism)  # one adapter (keep-alive session) per worker thread
        self.tracker: Tracker = Silent()
        self.requests_made = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def _adapter(self) -> Any:
        adapter = getattr(self._local, "adapter", None)
        if adapter is None:
            verify: bool | str = self.connection.ca_cert or True
            if self.connection.skip_verify:
                verify = False
            client = hvac.Client(
                url=self.connection.address,
                token=self.connection.token.reveal(),
                namespace=self.connection.namespace or None,
                verify=verify,
                timeout=self.timeout,
                adapter=RawAdapter,
            )
            adapter = self._local.adapter = client.adapter
        return adapter

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Send one request; returns (status, parsed JSON or {}).

        Transient faults (vault/retry.py) are retried with backoff, each retry sent to the active node
        as rediscovered; raises VaultConnectionError when no node answers within the retry policy.
        """
        kwargs: dict[str, Any] = {"raise_exception": False}
        if body is not None:
            kwargs["json"] = reveal_all(body)
        waited, lost_answer, retry = 0.0, False, -1
        while True:
            retry += 1
            answer = self._send(method, path, kwargs)
            if isinstance(answer, VaultConnectionError):
                lost_answer, status, payload = True, 0, dict[str, Any]()
                fault: str | None = str(answer) if self._answered else None
            else:
                status, payload = answer
                errors = [str(e) for e in payload.get("errors") or []]
                if lost_answer and done_by_earlier_attempt(method, path, status, errors):
                    return 204, {}
                fault = transient_reason(status, errors)
            if fault is None or not self.retry.allows(retry, waited):
                if isinstance(answer, VaultConnectionError):
                    raise answer
                return status, payload
            pause = self.retry.delay(retry)
            time.sleep(pause)
            waited += pause
            with self._lock:
                self.faults_retried += 1
                self._target = ""  # the leader may have changed: ask sys/leader again

    def _send(self, method: str, path: str, kwargs: dict[str, Any]) -> Answer | VaultConnectionError:
        """One HTTP exchange with the current target; a transport failure is returned, not raised."""
        with self._lock:
            self.requests_made += 1
        adapter = self._adapter()
        adapter.base_uri = self._target_address()
        try:
            response = adapter.request(method, f"/v1/{path}", headers=self.index.headers(), **kwargs)
        except requests.exceptions.SSLError as exc:
            raise VaultConnectionError(f"TLS error talking to {_host(exc, adapter.base_uri)}: {_reason(exc)}") from None
        except requests.exceptions.RequestException as exc:
            return VaultConnectionError(f"cannot reach {_host(exc, adapter.base_uri)}: {_reason(exc)}")
        except OSError as exc:  # e.g. an unreadable CA file
            raise ConfigurationError(f"cannot use the CA certificate: {exc.strerror or exc}") from None
        self._answered = True
        self.index.observe(method, response.headers)
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = {}
        return response.status_code, payload if isinstance(payload, dict) else {}

    def _target_address(self) -> str:
        """The configured address, or the active node's when sys/leader names one that answers."""
        with self._lock:
            if self._target:
                return self._target
        target = (self._discover_leader() if self.follow_leader else None) or self.connection.address
        with self._lock:
            self._target = target
        return target

    def _discover_leader(self) -> str | None:
        adapter = self._adapter()
        probe: dict[str, Any] = {"raise_exception": False, "timeout": 3}
        try:
            adapter.base_uri = self.connection.address
            leader = adapter.request("GET", "/v1/sys/leader", **probe).json()
            address = active_address(leader if isinstance(leader, dict) else {}, self.connection.address)
            if address is None:
                return None
            adapter.base_uri = address
            adapter.request("GET", "/v1/sys/leader", **probe)
            return address
        except (requests.exceptions.RequestException, ValueError, OSError):
            return None

    def read(self, path: str) -> dict[str, Any] | None:
        """GET `path`; None when Vault answers 404."""
        status, payload = self.request("GET", path)
        if status == 404 or self._forbidden_recorded(status, "GET", path):
            return None
        _raise_for(status, "GET", path, payload)
        return payload

    def read_many(self, paths: builtins.list[str]) -> builtins.list[dict[str, Any] | None]:
        """`read` of every path, at most `parallelism` at a time; results in path order."""
        self.tracker.expect(len(paths))
        return self.workers.map(self._read_tracked, paths)

    def _read_tracked(self, path: str) -> dict[str, Any] | None:
        payload = self.read(path)
        self.tracker.advance()
        return payload

    def list(self, path: str) -> builtins.list[str]:
        """LIST `path`; [] when there is nothing (Vault answers 404)."""
        status, payload = self.request("LIST", path)
        if status == 404 or self._forbidden_recorded(status, "LIST", path):
            return []
        _raise_for(status, "LIST", path, payload)
        keys: builtins.list[object] = (payload.get("data") or {}).get("keys") or []
        return [str(k) for k in keys]

    @contextlib.contextmanager
    def forbidden_reads_collected(self) -> Iterator[ForbiddenReads]:
        """Within the block, a 403 on a read is recorded (and read as absent), not raised;
        on leaving it, PermissionsError names every forbidden path."""
        self.forbidden = ForbiddenReads()
        try:
            yield self.forbidden
        finally:
            collected, self.forbidden = self.forbidden, None
        collected.check()

    def _forbidden_recorded(self, status: int, method: str, path: str) -> bool:
        if status != 403 or self.forbidden is None:
            return False
        self.forbidden.record(method, path)
        return True

    def execute(self, call: Call) -> builtins.list[str]:
        """Run one call; returns Vault's warnings for it, and the fields of its answer the call
        asks to show (as `Shown` lines)."""
        status, payload = self.request(call.method, call.path, call.body)
        _raise_for(status, call.method, call.path, payload)
        data = payload.get("data")
        data = data if isinstance(data, dict) else {}
        shown = [Shown(f"{name} = {str(data[name]).strip()}") for name in call.show if data.get(name)]
        return [str(w) for w in payload.get("warnings") or []] + shown


def _raise_for(status: int, method: str, path: str, payload: dict[str, Any]) -> None:
    if status < 400:
        return
    raise VaultApiError(method, path, status, [clean_error(str(e)) for e in payload.get("errors") or []])


def clean_error(message: str) -> str:
    """Vault's go-multierror wrapper ('1 error occurred:\\n\\t* ...\\n\\n') removed."""
    lines = [line.strip().removeprefix("* ").strip() for line in message.strip().splitlines()]
    kept = [line for line in lines if line and not line.endswith(("error occurred:", "errors occurred:"))]
    return "; ".join(kept) or message.strip()


def _host(exc: requests.exceptions.RequestException, fallback: str) -> str:
    """The server a failed request went to: a standby may have redirected it (307) to the leader."""
    url = getattr(exc.request, "url", None) or ""
    parts = urllib.parse.urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else fallback


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "CERTIFICATE_VERIFY_FAILED"):
        if marker in text:
            return marker.lower().replace("_", " ")
    return type(exc).__name__
