"""Logging in without a static token: `--login approle|jwt|kubernetes`, once per run, revoked at exit.

Credentials come from the environment or a file, never from flags (flags show in `ps`):
  approle     VAULT_ROLE_ID and VAULT_SECRET_ID
  jwt         --login-role (or VAULT_LOGIN_ROLE) and the token in VAULT_JWT (e.g. a CI's OIDC token)
  kubernetes  --login-role (or VAULT_LOGIN_ROLE) and the service account token file
              (--login-jwt-file, default /var/run/secrets/kubernetes.io/serviceaccount/token)
The auth mount defaults to the method's name (--login-mount to change it). A renewable token is
renewed at two thirds of its lease during long runs, and revoked with auth/token/revoke-self when
the command ends, whatever the outcome.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from vault_state.errors import ConfigurationError, VaultApiError, VaultStateError
from vault_state.kinds.base import Need
from vault_state.sensitive import Sensitive
from vault_state.vault.connection import Connection
from vault_state.vault.gateway import Gateway
from vault_state.vault.retry import RetryPolicy

METHODS = ("approle", "jwt", "kubernetes")
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


@dataclass(frozen=True)
class Credential:
    """Where one login credential is read: an environment variable (`env`) or a file (`file`, its
    content without surrounding whitespace). Never a value: credentials are not written in files or flags."""

    env: str = ""
    file: str = ""

    def read(self, env: Mapping[str, str], what: str) -> str:
        if self.file:
            try:
                value = Path(self.file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(f"cannot read the {what} file {self.file}: {exc.strerror or exc}") from None
            if not value:
                raise ConfigurationError(f"the {what} file {self.file} is empty")
            return value
        return _need(env, self.env)


@dataclass(frozen=True)
class LoginSettings:
    method: str
    mount: str = ""
    role: str = ""
    jwt_file: str = SERVICE_ACCOUNT_TOKEN
    role_id: Credential = Credential(env="VAULT_ROLE_ID")
    secret_id: Credential = Credential(env="VAULT_SECRET_ID")
    jwt: Credential | None = None
    """jwt and kubernetes: where the JWT is; None: VAULT_JWT (jwt) or `jwt_file` (kubernetes)."""


def login_body(settings: LoginSettings, env: Mapping[str, str]) -> dict[str, object]:
    """The login request's body, its secrets wrapped as Sensitive; ConfigurationError names what is missing."""
    if settings.method == "approle":
        return {"role_id": settings.role_id.read(env, "role ID"),
                "secret_id": Sensitive(settings.secret_id.read(env, "secret ID"))}
    role = settings.role or env.get("VAULT_LOGIN_ROLE", "")
    if not role:
        raise ConfigurationError(f"--login {settings.method} needs a role: pass --login-role or set VAULT_LOGIN_ROLE")
    if settings.jwt is not None:
        return {"role": role, "jwt": Sensitive(settings.jwt.read(env, "JWT"))}
    if settings.method == "jwt":
        return {"role": role, "jwt": Sensitive(_need(env, "VAULT_JWT"))}
    try:
        jwt = Path(settings.jwt_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the service account token {settings.jwt_file}: "
                                 f"{exc.strerror or exc}") from None
    return {"role": role, "jwt": Sensitive(jwt)}


@dataclass(frozen=True)
class Login:
    token: Sensitive
    lease_seconds: int
    renewable: bool


def log_in(connection: Connection, settings: LoginSettings, env: Mapping[str, str]) -> Login:
    """POST auth/<mount>/login; the client token (as Sensitive) and its lease."""
    body = login_body(settings, env)
    mount = (settings.mount or settings.method).strip("/")
    gateway = Gateway(connection, parallelism=1, retry=RetryPolicy.from_env(env))
    status, payload = gateway.request("POST", f"auth/{mount}/login", body)
    if status >= 400:
        errors = [str(e) for e in payload.get("errors") or []]
        raise VaultApiError("POST", f"auth/{mount}/login", status, errors) from None
    auth = payload.get("auth") or {}
    token = str(auth.get("client_token") or "")
    if not token:
        raise ConfigurationError(f"--login {settings.method}: the server returned no token")
    return Login(Sensitive(token), int(auth.get("lease_duration") or 0), bool(auth.get("renewable")))


class Renewer:
    """Renews the run's token at two thirds of its lease while a long run goes on (auth/token/renew-self).

    A failed renewal is not an error of the run: the token may still be valid, and if it expires
    the next request fails with the server's message.
    """

    def __init__(self, connection: Connection, lease_seconds: int) -> None:
        self.connection = connection
        self.lease_seconds = lease_seconds
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vault-state-renew", daemon=True)

    def start(self) -> Renewer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(max(self.lease_seconds * 2 / 3, 0.5)):
            try:
                status, payload = Gateway(self.connection, parallelism=1).request("POST", "auth/token/renew-self", {})
            except VaultStateError:
                continue
            if status < 400:
                self.renewals += 1
                self.lease_seconds = int((payload.get("auth") or {}).get("lease_duration") or self.lease_seconds)


def login_needs() -> list[Need]:
    """What a run that logs in asks for with its own token (vault-state required-policy --login):
    Vault's default policy grants both, a token without it needs them."""
    why = "--login: the run's own token"
    return [Need("auth/token/renew-self", ("update",), f"{why}, renewed during a long run"),
            Need("auth/token/revoke-self", ("update",), f"{why}, revoked at exit")]


def revoke(connection: Connection) -> None:
    """Revoke the connection's own token (and so its child tokens and leases)."""
    Gateway(connection, parallelism=1).request("POST", "auth/token/revoke-self", {})


def _need(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


@contextlib.contextmanager
def logged_in(connection: Connection, settings: LoginSettings, env: Mapping[str, str]) -> Iterator[Sensitive]:
    """A token for the block, revoked when it ends (an error revoking is not raised over the block's)."""
    login = log_in(connection, settings, env)
    own = dataclasses.replace(connection, token=login.token)
    renewer = Renewer(own, login.lease_seconds).start() if login.renewable and login.lease_seconds else None
    try:
        yield login.token
    finally:
        if renewer is not None:
            renewer.stop()
        with contextlib.suppress(VaultStateError):
            revoke(own)
