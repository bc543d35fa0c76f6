"""The gateway: the one module that talks HTTP to Vault, through hvac's generic transport.

It reveals Sensitive values only when encoding a request body, turns HTTP errors into
`VaultApiError` naming the method and path (never the body), counts requests, and returns the
`warnings` Vault attaches to a write so the caller can surface them.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
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
from vault_state.vault.permissions import Forbidden, ForbiddenReads, forbidden_or_api_error
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
        if connection.retry_budget is not None:  # --retry-budget, a target's retry_budget
            self.retry = dataclasses.replace(self.retry, budget=connection.retry_budget)
        self.follow_leader = follow_leader  # send requests to the active node when sys/leader names one
        self.index = IndexTracker()
        self.forbidden: ForbiddenReads | None = None  # set while forbidden_reads_collected() is active
        self.faults_retried = 0
        self._target = ""  # the address requests go to; "" until discovered
        self._answered = False  # whether any node answered yet: refused connections fail fast before that
        self._unreachable: VaultConnectionError | None = None  # the address's connection timed out, before any answer
        self.workers = Workers(parallelism)  # one adapter (keep-alive session) per worker thread
        self.tracker: Tracker = Silent()
        self.requests_made = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        # Requests in flight, whichever thread sends them (reads of several namespaces run at once).
        self._in_flight = threading.BoundedSemaphore(parallelism)

    def _adapter(self) -> Any:
        adapter = getattr(self._local, "adapter", None)
        if adapter is None:
            verify: bool | str = self.connection.ca_cert or True
            if self.connection.skip_verify:
                verify = False
            client = hvac.Client(
                url=self.connection.address,
                token=self.connection.token.reveal(),
                namespace=None,  # sent by _send on every request: it differs per call (namespaces in the file)
                verify=verify,
                timeout=(self.connection.connect_timeout, self.timeout),  # requests: (connect, read)
                adapter=RawAdapter,
            )
            adapter = self._local.adapter = client.adapter
        return adapter

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, namespace: str = "", patient: bool = True
    ) -> tuple[int, dict[str, Any]]:
        """Send one request in `namespace` (relative to the connection's); returns (status, parsed JSON or {}).

        Transient faults (vault/retry.py) are retried with backoff, each retry sent to the active node
        as rediscovered; raises VaultConnectionError when no node answers within the retry policy.
        """
        kwargs: dict[str, Any] = {"raise_exception": False}
        if body is not None:
            kwargs["json"] = reveal_all(body)
        waited, lost_answer, retry = 0.0, False, -1
        while True:
            retry += 1
            answer = self._send(method, path, kwargs, namespace)
            if isinstance(answer, VaultConnectionError):
                lost_answer, status, payload = True, 0, dict[str, Any]()
                fault: str | None = str(answer) if self._answered else None
            else:
                status, payload = answer
                errors = [str(e) for e in payload.get("errors") or []]
                if lost_answer and done_by_earlier_attempt(method, path, status, errors):
                    return 204, {}
                fault = transient_reason(status, errors)
                if not patient and status in (400, 404):  # "no handler for route": the mount may simply not exist
                    fault = None
            if fault is None or not self.retry.allows(retry, waited):
                if isinstance(answer, VaultConnectionError):
                    raise answer
                return status, payload
            pause = min(self.retry.delay(retry), self.retry.budget - waited)
            time.sleep(pause)
            waited += pause
            with self._lock:
                self.faults_retried += 1
                self._target = ""  # the leader may have changed: ask sys/leader again

    def _send(self, method: str, path: str, kwargs: dict[str, Any], namespace: str) -> Answer | VaultConnectionError:
        """One HTTP exchange with the current target; a transport failure is returned, not raised."""
        with self._lock:
            self.requests_made += 1
        adapter = self._adapter()
        adapter.base_uri = self._target_address()
        if self._unreachable is not None and not self._answered:
            return self._unreachable
        headers = self.index.headers()
        full = "/".join(part for part in (self.connection.namespace, namespace) if part)
        if full:
            headers = {**headers, "X-Vault-Namespace": full}
        try:
            with self._in_flight:
                response = adapter.request(method, f"/v1/{path}", headers=headers, **kwargs)
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
        probe: dict[str, Any] = {"raise_exception": False, "timeout": (self.connection.connect_timeout, 3.0)}
        try:
            adapter.base_uri = self.connection.address
            try:
                leader = adapter.request("GET", "/v1/sys/leader", **probe).json()
            except requests.exceptions.ConnectTimeout as exc:
                # Nothing accepted the connection within --connect-timeout (a host down or
                # firewalled drops packets): before any answer that is final, as a refusal is;
                # trying the same address again would wait as long once more.
                if not self._answered:
                    self._unreachable = VaultConnectionError(f"cannot reach {self.connection.address}: {_reason(exc)}")
                return None
            address = active_address(leader if isinstance(leader, dict) else {}, self.connection.address)
            if address is None:
                return None
            adapter.base_uri = address
            adapter.request("GET", "/v1/sys/leader", **probe)
            return address
        except (requests.exceptions.RequestException, ValueError, OSError):
            return None

    def read(self, path: str, namespace: str = "") -> dict[str, Any] | None:
        """GET `path`; None when Vault answers 404."""
        status, payload = self.request("GET", path, namespace=namespace)
        if status == 404 or self._forbidden_recorded(status, "GET", path, namespace):
            return None
        _raise_for(status, "GET", path, payload, namespace)
        return payload

    def read_many(self, paths: builtins.list[str], namespace: str = "") -> builtins.list[dict[str, Any] | None]:
        """`read` of every path, at most `parallelism` at a time; results in path order."""
        self.tracker.expect(len(paths))
        return self.workers.map(lambda path: self._read_tracked(path, namespace), paths)

    def _read_tracked(self, path: str, namespace: str) -> dict[str, Any] | None:
        payload = self.read(path, namespace)
        self.tracker.advance()
        return payload

    def list(self, path: str, namespace: str = "", patient: bool = True) -> builtins.list[str]:
        """LIST `path`; [] when there is nothing (Vault answers 404). `patient=False`: a mount that
        does not answer is taken as absent at once, not waited for (a mount that may not exist)."""
        status, payload = self.request("LIST", path, namespace=namespace, patient=patient)
        if status == 404 or self._forbidden_recorded(status, "LIST", path, namespace):
            return []
        _raise_for(status, "LIST", path, payload, namespace)
        keys: builtins.list[object] = (payload.get("data") or {}).get("keys") or []
        return [str(k) for k in keys]

    def check_namespace(self) -> None:
        """Raise ConfigurationError when --namespace/VAULT_NAMESPACE names a namespace the server does
        not have: its reads would all answer 404 and plan as an empty server."""
        if not self.connection.namespace:
            return
        status, payload = self.request("GET", "sys/namespaces?list=true")
        if status == 404 and "namespace not found" in (payload.get("errors") or []):
            raise ConfigurationError(
                f"namespace {self.connection.namespace!r} does not exist on {self.connection.address} "
                "(--namespace or VAULT_NAMESPACE): create it, or plan it from its parent's state file"
            )

    def within(self, namespace: str) -> NamespaceView:
        """A reader of `namespace` (relative to the connection's), for the kinds' reads."""
        return NamespaceView(self, namespace)

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

    def _forbidden_recorded(self, status: int, method: str, path: str, namespace: str) -> bool:
        if status != 403 or self.forbidden is None:
            return False
        self.forbidden.record(method, _joined(namespace, path))
        return True

    def execute(self, call: Call) -> builtins.list[str]:
        """Run one call; returns Vault's warnings for it, and the fields of its answer the call
        asks to show (as `Shown` lines)."""
        status, payload = self.request(call.method, call.path, call.body, call.namespace)
        _raise_for(status, call.method, call.path, payload, call.namespace)
        if call.until_gone:
            self._wait_gone(call)
        data = payload.get("data")
        data = data if isinstance(data, dict) else {}
        warnings = [str(w) for w in payload.get("warnings") or []]
        if call.until_moved:
            self._wait_moved(call, str(data.get("migration_id", "")))
            warnings = [w for w in warnings if not w.startswith("Mount move has been queued")]  # waited for
        shown = [Shown(f"{name} = {str(data[name]).strip()}") for name in call.show if data.get(name)]
        return warnings + shown

    def _wait_moved(self, call: Call, migration: str, limit: float = 120.0) -> None:
        """Poll sys/remount/status/ID until the move reports "success": OpenBao answers sys/remount
        at once with a migration_id and moves the mount in the background ("in-progress", then
        "success" or "failure")."""
        waited, pause = 0.0, 0.1
        while True:
            status, payload = self.request("GET", f"sys/remount/status/{migration}", namespace=call.namespace)
            _raise_for(status, "GET", f"sys/remount/status/{migration}", payload, call.namespace)
            info = (payload.get("data") or {}).get("migration_info") or {}
            state = str(info.get("status", ""))
            if state == "success":
                return
            if state == "failure" or waited >= limit:
                failed = state == "failure"
                detail = "the move failed (see the server log)" if failed else f"not done after {limit:.0f} s"
                raise VaultApiError(call.method, call.path, 500 if failed else 504,
                                    [f"migration {migration}: {detail}"])
            time.sleep(pause)
            waited, pause = waited + pause, min(pause * 2, 2.0)

    def _wait_gone(self, call: Call, limit: float = 120.0) -> None:
        """Poll until a GET of the call's path answers 404: OpenBao deletes a namespace in the
        background and answers the DELETE with status "in-progress"."""
        waited, pause = 0.0, 0.1
        while (answer := self.request("GET", call.path, namespace=call.namespace))[0] != 404:
            if answer[0] == 403:  # the token may delete but not read: waiting would never end
                _raise_for(answer[0], "GET", call.path, answer[1], call.namespace)
            if waited >= limit:
                raise VaultApiError(call.method, call.path, 504, [f"still present {limit:.0f} s after the delete"])
            time.sleep(pause)
            waited, pause = waited + pause, min(pause * 2, 2.0)


def waits_read(call: Call) -> builtins.list[str]:
    """The paths `execute` polls after `call` (the two waits above), for vault-state required-policy."""
    return ([call.path] if call.until_gone else []) + (["sys/remount/status/+"] if call.until_moved else [])


class NamespaceView:
    """The gateway's reads inside one namespace (X-Vault-Namespace), as the kinds' VaultReader."""

    def __init__(self, gateway: Gateway, namespace: str) -> None:
        self.gateway, self.namespace = gateway, namespace

    def read(self, path: str) -> dict[str, Any] | None:
        return self.gateway.read(path, self.namespace)

    def read_many(self, paths: builtins.list[str]) -> builtins.list[dict[str, Any] | None]:
        return self.gateway.read_many(paths, self.namespace)

    def list(self, path: str) -> builtins.list[str]:
        return self.gateway.list(path, self.namespace)

    def within(self, namespace: str) -> NamespaceView:
        return NamespaceView(self.gateway, "/".join(p for p in (self.namespace, namespace) if p))


def _raise_for(status: int, method: str, path: str, payload: dict[str, Any], namespace: str = "") -> None:
    """A refused request as an error naming it; a 403 names the path with the namespace it was sent in
    (relative to the connection's): the path a policy there grants."""
    if status < 400:
        return
    messages = [clean_error(str(e)) for e in payload.get("errors") or []]
    error = forbidden_or_api_error(method, path, status, messages)
    if isinstance(error, Forbidden):
        raise Forbidden(method, _joined(namespace, path), status, messages)
    raise error


def _joined(namespace: str, path: str) -> str:
    return f"{namespace}/{path}" if namespace else path


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
