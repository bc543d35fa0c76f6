"""Connection settings, found as the vault CLI finds them: flags, then VAULT_*/BAO_* variables, then ~/.vault-token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vault_state.errors import ConfigurationError
from vault_state.sensitive import Sensitive

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a TCP connection: a server that drops packets (down, firewalled) fails after this."""


@dataclass(frozen=True)
class Connection:
    address: str
    token: Sensitive
    namespace: str = ""
    ca_cert: str = ""
    skip_verify: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retry_budget: float | None = None
    """At most this many seconds of waiting between retries of one request (None: the retry policy's own)."""


def _env(env: Mapping[str, str], name: str) -> str:
    return env.get(f"VAULT_{name}") or env.get(f"BAO_{name}") or ""


def connection_from(
    env: Mapping[str, str],
    *,
    address: str | None = None,
    token: str | None = None,
    namespace: str | None = None,
    ca_cert: str | None = None,
    skip_verify: bool | None = None,
    home: Path | None = None,
    connect_timeout: float | None = None,
    retry_budget: float | None = None,
) -> Connection:
    """Flags override the environment; the token falls back to ~/.vault-token like the vault CLI."""
    addr = address or _env(env, "ADDR")
    if not addr:
        raise ConfigurationError("no server address: set VAULT_ADDR (or BAO_ADDR) or pass --address")
    secret = token or _env(env, "TOKEN") or _token_file(home or Path.home())
    if not secret:
        raise ConfigurationError("no token: set VAULT_TOKEN (or BAO_TOKEN), pass --token, or log in first")
    skip = skip_verify if skip_verify is not None else _truthy(_env(env, "SKIP_VERIFY"))
    return Connection(
        address=addr.rstrip("/"),
        token=Sensitive(secret.strip()),
        namespace=(namespace if namespace is not None else _env(env, "NAMESPACE")).strip("/"),
        ca_cert=ca_cert or _env(env, "CACERT"),
        skip_verify=skip,
        connect_timeout=DEFAULT_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
        retry_budget=retry_budget,
    )


def _token_file(home: Path) -> str:
    try:
        return (home / ".vault-token").read_text().strip()
    except OSError:
        return ""


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")
