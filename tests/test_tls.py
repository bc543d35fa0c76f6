"""TLS against a real OpenBao listener with a CA made for the test (`bao server -dev -dev-tls`):
VAULT_CACERT and --ca-cert are honoured, verification is on by default, disabling it warns."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from conftest import Cli, write_state

from vault_state.sandbox import bao_binary, free_port

STATE = "version: 1\npolicies:\n  reader: 'path \"kv/data/*\" { capabilities = [\"read\"] }'\n"


@dataclass
class TlsServer:
    address: str
    token: str
    ca: Path


@pytest.fixture
def tls_bao() -> Iterator[TlsServer]:
    directory = Path(tempfile.mkdtemp(prefix="vault-state-tls-"))
    port, token = free_port(), "root-tls-test"
    process = subprocess.Popen(
        [bao_binary(), "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={directory}", "-dev-no-store-token",
         f"-dev-root-token-id={token}", f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HOME": str(directory)})
    server = TlsServer(f"https://127.0.0.1:{port}", token, directory / "vault-ca.pem")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if server.ca.exists() and requests.get(f"{server.address}/v1/sys/health", verify=str(server.ca),
                                                       timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_ca_from_the_environment_or_the_flag(offline_cli: Cli, tls_bao: TlsServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    env = {"VAULT_ADDR": tls_bao.address, "VAULT_TOKEN": tls_bao.token}
    by_env = offline_cli("plan", "-f", state, env={**env, "VAULT_CACERT": str(tls_bao.ca)})
    assert (by_env.code, by_env.err) == (0, "") and "+ policy/reader" in by_env.out
    by_flag = offline_cli("plan", "-f", state, "--ca-cert", str(tls_bao.ca), env=env)
    assert (by_flag.code, by_flag.err) == (0, "")


def test_verification_is_on_by_default(offline_cli: Cli, tls_bao: TlsServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    result = offline_cli("plan", "-f", state, env={"VAULT_ADDR": tls_bao.address, "VAULT_TOKEN": tls_bao.token})
    assert result.code == 1
    assert result.err.strip() == f"error: TLS error talking to {tls_bao.address}: certificate verify failed"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_disabling_verification_warns(offline_cli: Cli, tls_bao: TlsServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    env = {"VAULT_ADDR": tls_bao.address, "VAULT_TOKEN": tls_bao.token}
    for result in (offline_cli("plan", "-f", state, "--tls-skip-verify", env=env),
                   offline_cli("plan", "-f", state, env={**env, "VAULT_SKIP_VERIFY": "true"})):
        assert result.code == 0
        assert result.err.startswith("warning: TLS verification is disabled")
