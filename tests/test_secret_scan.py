"""No secret in any output: every command runs with known secret values in env and file sources, and
its stdout, stderr, saved plan file, JSON plan, export and any exception message are scanned for them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from conftest import REVIEWER_JWT, Cli, write_state

from vault_state.inventory import stored_part
from vault_state.sandbox import DevServer

PASSWORD = "alice-pa55word-SECRET-81d3"
FILE_PASSWORD = "bob-file-SECRET-2c77e1"
SECRETS = (REVIEWER_JWT, PASSWORD, FILE_PASSWORD)
# Scanned outputs, for docs/reliability.md.
SCANNED = {"outputs": 0, "leaks": 0}

STATE = """
version: 1
secrets_engines:
  kv: {type: kv, version: 2}
policies:
  reader: 'path "kv/data/*" { capabilities = ["read"] }'
auth_methods:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://k8s.example:6443
      kubernetes_ca_cert: {file: ca.crt, sensitive: false}
      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}
    roles:
      eso: {bound_service_account_names: [eso], bound_service_account_namespaces: [eso], audience: vault}
  people:
    type: userpass
    users:
      alice: {password: {env: ALICE_PASSWORD}, token_policies: [reader]}
      bob: {password: {file: bob-password.txt}}
"""


def scan(*texts: str) -> None:
    for text in texts:
        SCANNED["outputs"] += 1
        leaked = [s for s in SECRETS if s in text]
        SCANNED["leaks"] += len(leaked)
        assert not leaked, f"secret printed: {text[:2000]}"


def test_no_command_prints_a_secret(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    (tmp_path / "bob-password.txt").write_text(FILE_PASSWORD + "\n")
    env = {"ALICE_PASSWORD": PASSWORD}
    planfile, exported = tmp_path / "saved.plan", tmp_path / "exported.yaml"
    runs = [
        ("validate", "-f", str(state)),
        ("lint", "-f", str(state)),
        ("schema",),
        ("plan", "-f", str(state)),
        ("plan", "-f", str(state), "--json"),
        ("plan", "-f", str(state), "-o", str(planfile)),
        ("apply", "-f", str(state), "--auto-approve"),
        ("plan", "-f", str(state), "--json"),
        ("export",),
        ("export", "-o", str(exported)),
    ]
    codes = []
    for args in runs:
        result = cli(*args, env=env)
        codes.append(result.code)
        assert result.code in (0, 2) or args[0] != "apply", [line for line in result.out.splitlines() if "FAILED" in line]
        scan(result.out, result.err)
    scan(planfile.read_text(errors="replace"), exported.read_text())
    # An apply that fails (the server refuses a changed user's policy list) must not print the secrets either.
    broken = STATE.replace("token_policies: [reader]", "token_policies: [reader], token_type: no-such-type")
    failed = cli("apply", "-f", str(write_state(tmp_path, broken, "broken.yaml")), "--auto-approve", env=env)
    scan(failed.out, failed.err)
    assert codes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert failed.code == 1
    # The inventory holds fingerprints of the three write-only values: keyed MACs, never the values.
    inventory = bao.request("GET", "vault-state/data/inventory/default").json()["data"]["data"]
    _, prints = stored_part(inventory)
    assert sorted(prints) == [
        "auth_method/kubernetes#config.token_reviewer_jwt", "auth_role/people/alice#password",
        "auth_role/people/bob#password",
    ]
    assert all(value.startswith("vault:v1:") for value in prints.values())
    text = json.dumps(inventory)
    scan(text)
    assert not [s for s in SECRETS if base64.b64encode(s.encode()).decode() in text]  # not even encoded
    assert SCANNED["leaks"] == 0
