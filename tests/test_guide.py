"""The guide's configuration (examples/state.yaml) from an empty server: plan, apply, plan empty."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, REVIEWER_JWT, Cli, read

from vault_state.sandbox import DevServer

STATE = str(EXAMPLES / "state.yaml")


def test_plan_lists_every_create_on_an_empty_server(cli: Cli) -> None:
    result = cli("plan", "-f", STATE)
    assert result.code == 0
    for rid in ("secrets_engine/secret", "policy/eso-policy", "auth_method/kubernetes", "auth_role/kubernetes/eso-role"):
        assert f"  + {rid}\n" in result.out
    assert "Plan: 4 to add, 0 to change, 0 to destroy." in result.out


def test_apply_then_plan_is_empty(cli: Cli, bao: DevServer) -> None:
    assert cli("apply", "-f", STATE, "--auto-approve").code == 0
    second = cli("plan", "-f", STATE, "--detailed-exitcode")
    assert second.code == 0, second.out
    assert "No changes." in second.out
    role = read(bao, "auth/kubernetes/role/eso-role")
    assert role["token_policies"] == ["eso-policy"] and role["token_ttl"] == 3600
    assert read(bao, "auth/kubernetes/config")["token_reviewer_jwt_set"] is True
    assert read(bao, "secret/config")["max_versions"] == 10
    assert "policies" not in role  # written with token_* names, not the legacy ones


def test_detailed_exitcode_is_2_with_changes(cli: Cli) -> None:
    assert cli("plan", "-f", STATE, "--detailed-exitcode").code == 2


def test_reviewer_jwt_never_printed(cli: Cli) -> None:
    outputs = [cli("plan", "-f", STATE), cli("plan", "-f", STATE, "--json"), cli("apply", "-f", STATE, "--auto-approve")]
    for result in outputs:
        assert REVIEWER_JWT not in result.out + result.err
    assert "(sensitive)" in outputs[0].out
    document = json.loads(outputs[1].out)
    auth = next(c for c in document["changes"] if c["id"] == "auth_method/kubernetes")
    assert auth["after"]["config"]["token_reviewer_jwt"] == "(sensitive)"


def test_console_script_and_module_entry_points(bao: DevServer, tmp_path: Path) -> None:
    env = {**bao.env(), "TOKEN_REVIEWER_JWT": REVIEWER_JWT, "PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    script = shutil.which("vault-state", path=env["PATH"])
    assert script is not None
    first = subprocess.run([script, "apply", "-f", STATE, "--auto-approve"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(
        [sys.executable, "-m", "vault_state", "plan", "-f", STATE], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and "No changes." in again.stdout
