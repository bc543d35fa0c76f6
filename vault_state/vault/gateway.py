"""The gateway: the one module that talks HTTP to Vault, through hvac's generic transport.

It reveals Sensitive values only when encoding a request body, turns HTTP errors into
`VaultApiError` naming the method and path (never the body), counts requests, and returns the
`warnings` Vault attaches to a write so the caller can surface them.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any

import hvac
import requests
from hvac.adapters import RawAdapter

from vault_state.errors import ConfigurationError, VaultApiError, VaultConnectionError
from vault_state.plan.model import Call
from vault_state.sensitive import reveal_all
from vault_state.vault.connection import Connection


class Gateway:
    def __init__(self, connection: Connection, timeout: float = 30.0) -> None:
        self.connection = connection
        self.timeout = timeout
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
        """Send one request; returns (status, parsed JSON or {}). Raises for transport errors only."""
        with self._lock:
            self.requests_made += 1
        kwargs: dict[str, Any] = {"raise_exception": False}
        if body is not None:
            kwargs["json"] = reveal_all(body)
        try:
            response = self._adapter().request(method, f"/v1/{path}", **kwargs)
        except requests.exceptions.SSLError as exc:
            raise VaultConnectionError(f"TLS error talking to {self.connection.address}: {_reason(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise VaultConnectionError(f"cannot reach {self.connection.address}: {_reason(exc)}") from None
        except OSError as exc:  # e.g. an unreadable CA file
            raise ConfigurationError(f"cannot use the CA certificate: {exc.strerror or exc}") from None
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = {}
        return response.status_code, payload if isinstance(payload, dict) else {}

    def read(self, path: str) -> dict[str, Any] | None:
        """GET `path`; None when Vault answers 404."""
        status, payload = self.request("GET", path)
        if status == 404:
            return None
        _raise_for(status, "GET", path, payload)
        return payload

    def list(self, path: str) -> builtins.list[str]:
        """LIST `path`; [] when there is nothing (Vault answers 404)."""
        status, payload = self.request("LIST", path)
        if status == 404:
            return []
        _raise_for(status, "LIST", path, payload)
        keys: builtins.list[object] = (payload.get("data") or {}).get("keys") or []
        return [str(k) for k in keys]

    def execute(self, call: Call) -> builtins.list[str]:
        """Run one call; returns Vault's warnings for it."""
        status, payload = self.request(call.method, call.path, call.body)
        _raise_for(status, call.method, call.path, payload)
        return [str(w) for w in payload.get("warnings") or []]


def _raise_for(status: int, method: str, path: str, payload: dict[str, Any]) -> None:
    if status < 400:
        return
    raise VaultApiError(method, path, status, [clean_error(str(e)) for e in payload.get("errors") or []])


def clean_error(message: str) -> str:
    """Vault's go-multierror wrapper ('1 error occurred:\\n\\t* ...\\n\\n') removed."""
    lines = [line.strip().removeprefix("* ").strip() for line in message.strip().splitlines()]
    kept = [line for line in lines if line and not line.endswith(("error occurred:", "errors occurred:"))]
    return "; ".join(kept) or message.strip()


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "CERTIFICATE_VERIFY_FAILED"):
        if marker in text:
            return marker.lower().replace("_", " ")
    return type(exc).__name__
