"""The shipped examples are the first thing a user runs: they must be clean and agree with ESO."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import EXAMPLES, Cli
from ruamel.yaml import YAML
from test_eso import documents, validate_manifest

STATE = EXAMPLES / "state.yaml"
STORE = """
external_secrets:
  server: https://vault.vault.svc:8200
  stores:
    - name: vault-backend
      secrets_engine: secret
      auth_method: kubernetes
      role: eso-role
      service_account: {name: external-secrets, namespace: external-secrets}
"""


def role_audience(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())["auth_methods"]["kubernetes"]["roles"]["eso-role"]["audience"]


def test_the_guide_example_has_no_lint_warning(offline_cli: Cli) -> None:
    result = offline_cli("lint", "-f", str(STATE), "--strict")
    assert (result.code, result.out, result.err) == (0, "", f"{STATE}: no warnings\n")


def test_the_guide_example_plans_and_applies_without_a_warning(cli: Cli) -> None:
    for command in (["plan"], ["apply", "--auto-approve"], ["plan"]):
        result = cli(*command, "-f", str(STATE))
        assert (result.code, result.err) == (0, ""), result.out


def test_eso_requests_the_audience_the_example_role_accepts(offline_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text((EXAMPLES / "ca.crt").read_text())
    (tmp_path / "state.yaml").write_text(STATE.read_text() + STORE)
    result = offline_cli("eso-manifests", "-f", str(tmp_path / "state.yaml"))
    assert (result.code, result.err) == (0, "")
    (store,) = documents(result.out)
    validate_manifest(store)
    account = store["spec"]["provider"]["vault"]["auth"]["kubernetes"]["serviceAccountRef"]
    assert account["audiences"] == [role_audience(STATE)] == ["vault"]


def test_the_eso_example_agrees_on_the_audience_too(offline_cli: Cli) -> None:
    result = offline_cli("eso-manifests", "-f", str(EXAMPLES / "eso.yaml"))
    assert (result.code, result.err) == (0, "")
    (store,) = documents(result.out)
    account = store["spec"]["provider"]["vault"]["auth"]["kubernetes"]["serviceAccountRef"]
    assert account["audiences"] == [role_audience(EXAMPLES / "eso.yaml")] == [role_audience(STATE)]
