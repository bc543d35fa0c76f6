"""Test fixtures: a real OpenBao dev server per test, and the CLI run in-process.

Each test that needs a server gets a fresh `bao server -dev` (about 0.2 s to start) emptied to a
production-like state, so tests never share state. The user's ~/.vault-token is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vault_state.cli import main
from vault_state.sandbox import DevServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REVIEWER_JWT = "eyJhbGciOiJSUzI1NiJ9.reviewer-jwt-SECRET-4f1c2b.signature"


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """CA, server certificate and key for the fake Kubernetes API (tests/kube_fake.py)."""
    from kube_fake import make_certs

    return make_certs(tmp_path_factory.mktemp("kube-certs"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL on 127.0.0.1 (tests/pg_server.py), shared by the tests of one worker."""
    from pg_server import Postgres

    server = Postgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oidc(certs: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local OIDC provider over TLS (tests/oidc_fake.py): discovery document, JWKS, signed tokens."""
    from oidc_fake import FakeOidc

    provider = FakeOidc(*certs, workdir=tmp_path_factory.mktemp("oidc")).start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def bao() -> Iterator[DevServer]:
    server = DevServer().start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    """Runs `vault-state ARGS` in-process against one server, with the given environment."""

    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    server: DevServer | None

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        with self.monkeypatch.context() as patch:
            for name in ("VAULT_ADDR", "VAULT_TOKEN", "BAO_ADDR", "BAO_TOKEN", "VAULT_NAMESPACE"):
                patch.delenv(name, raising=False)
            if self.server is not None:
                for key, value in self.server.env().items():
                    patch.setenv(key, value)
            patch.setenv("TOKEN_REVIEWER_JWT", REVIEWER_JWT)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            patch.setenv("HOME", os.environ.get("VAULT_STATE_TEST_HOME", "/nonexistent-home"))
            self.capsys.readouterr()
            code = main(list(args))
            captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def cli(bao: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch, bao)


@pytest.fixture
def offline_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch, None)


def write_state(tmp_path: Path, text: str, name: str = "state.yaml") -> Path:
    """Write a state file (and the example CA next to it) and return its path."""
    (tmp_path / "ca.crt").write_text((EXAMPLES / "ca.crt").read_text())
    path = tmp_path / name
    path.write_text(text)
    return path


def read(server: DevServer, path: str) -> dict[str, Any]:
    response = server.request("GET", path)
    return response.json().get("data", {}) if response.status_code == 200 else {}
