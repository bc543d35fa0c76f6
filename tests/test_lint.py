"""`vault-state lint`: each rule on a failing and a passing file, exit codes, and lint warnings in plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, write_state

from vault_state.lint import RULES, lint_state
from vault_state.spec.loader import load_text

LINT = Path(__file__).resolve().parent / "lint"

EXPECTED = {
    "kv2-path-without-data": [
        "8:1: warning: policy 'eso-policy': path 'secret/*' is on KV v2 mount 'secret' but lacks data/ or metadata/; "
        "KV v2 secrets are read at 'secret/data/*' [kv2-path-without-data]",
        "11:1: warning: policy 'eso-policy': path 'secret/test-app' is on KV v2 mount 'secret' but lacks data/ or "
        "metadata/; KV v2 secrets are read at 'secret/data/test-app' [kv2-path-without-data]",
        "19:7: warning: policy 'team': path 'secret/team/*' is on KV v2 mount 'secret' but lacks data/ or metadata/; "
        "KV v2 secrets are read at 'secret/data/team/*' [kv2-path-without-data]",
    ],
    "unknown-policy": [
        "9:38: warning: role 'ci' names policy 'eso-policy-v2', which this file does not declare [unknown-policy]",
    ],
    "ttl-above-mount-max": [
        "8:20: warning: role 'ci': token_ttl 2h is above the auth method's max_lease_ttl 1h; "
        "Vault caps its tokens at 1h [ttl-above-mount-max]",
        "9:24: warning: role 'ci': token_max_ttl 4h is above the auth method's max_lease_ttl 1h; "
        "Vault caps its tokens at 1h [ttl-above-mount-max]",
        "11:14: warning: role 'legacy': ttl 1h30m is above the auth method's max_lease_ttl 1h; "
        "Vault caps its tokens at 1h [ttl-above-mount-max]",
    ],
    "wildcard-binding": [
        "7:39: warning: role 'any-name': bound_service_account_names contains '*': "
        "any service account of its namespaces can log in [wildcard-binding]",
        "14:13: warning: role 'any-namespace': bound_service_account_namespaces contains '*': "
        "service accounts of any namespace can log in [wildcard-binding]",
    ],
    "admin-capability": [
        "4:1: warning: policy 'ops' grants create, update, delete on 'sys/policies/acl/*', which can change the "
        "server's configuration (sys/); list it in lint.admin_policies if it is meant to administer the server "
        "[admin-capability]",
        "7:1: warning: policy 'ops' grants sudo on 'auth/token/create-orphan'; list it in lint.admin_policies if it "
        "is meant to administer the server [admin-capability]",
        "12:7: warning: policy 'everything' grants create on '*', which can change the server's configuration "
        "(sys/); list it in lint.admin_policies if it is meant to administer the server [admin-capability]",
        "15:7: warning: policy 'auditors' grants sudo on 'sys/audit'; list it in lint.admin_policies if it is "
        "meant to administer the server [admin-capability]",
    ],
    "missing-audience": [
        "6:7: warning: role 'eso-role' has no audience, so service account tokens issued for any audience can "
        "log in; Vault logs a warning for such roles [missing-audience]",
    ],
    "kv-version-1": [
        "4:11: warning: secrets engine 'secret': KV version 1: did you mean version 2? 'type: kv' without "
        "'version' creates version 1 (no versioning; set 'version: 1' to keep it) [kv-version-1]",
    ],
}

MISSING_AUDIENCE = (
    "warning: role 'eso-role' has no audience, so service account tokens issued for any audience can log in; "
    "Vault logs a warning for such roles [missing-audience]"
)


def test_every_rule_is_tested() -> None:
    assert set(EXPECTED) == set(RULES)


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_rule_warns_on_the_failing_file(offline_cli: Cli, rule: str) -> None:
    path = LINT / f"{rule}.bad.yaml"
    result = offline_cli("lint", "-f", str(path))
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"{path}:{line}" for line in EXPECTED[rule]]
    count = len(EXPECTED[rule])
    assert result.err.strip() == f"{path}: {count} warning{'s' if count > 1 else ''}"


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_rule_is_quiet_on_the_passing_file(offline_cli: Cli, rule: str) -> None:
    path = LINT / f"{rule}.good.yaml"
    result = offline_cli("lint", "-f", str(path), "--strict")
    assert (result.code, result.out) == (0, ""), result.out + result.err
    assert result.err.strip() == f"{path}: no warnings"


def test_strict_exits_1_on_any_warning(offline_cli: Cli) -> None:
    path = str(LINT / "missing-audience.bad.yaml")
    assert offline_cli("lint", "-f", path).code == 0
    strict = offline_cli("lint", "--strict", "-f", path)
    assert strict.code == 1
    assert strict.out.splitlines() == [f"{path}:6:7: {MISSING_AUDIENCE}"]


def test_load_errors_exit_1(offline_cli: Cli, tmp_path: Path) -> None:
    path = write_state(tmp_path, "version: 1\npolicies:\n  broken: 'path \"a\" { capabilities = [\"fly\"] }'\n")
    result = offline_cli("lint", "-f", str(path))
    assert result.code == 1
    assert result.out == ""
    assert result.err.splitlines() == [
        f"{path}:3:11: policy 'broken': invalid policy: path 'a': invalid capability 'fly'"
    ]


def test_the_guide_example_has_no_warning(offline_cli: Cli) -> None:
    path = str(EXAMPLES / "state.yaml")
    result = offline_cli("lint", "-f", path, "--strict")
    assert (result.code, result.out) == (0, "")


def test_warnings_of_all_rules_are_sorted_and_include_load_warnings(offline_cli: Cli, tmp_path: Path) -> None:
    path = write_state(
        tmp_path,
        "version: 1\n"
        "secrets_engines:\n  secret: {type: kv, version: 2}\n"
        "policies:\n"
        "  Readers: 'path \"secret/app\" { capabilities = [\"read\"] }'\n"
        "auth_methods:\n"
        "  kubernetes:\n    type: kubernetes\n    roles:\n"
        "      app:\n"
        "        bound_service_account_names: [app]\n"
        "        bound_service_account_namespaces: [\"*\"]\n"
        "        token_policies: [readers, nope]\n",
    )
    result = offline_cli("lint", "-f", str(path), "--strict")
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{path}:5:3: warning: Vault stores policy names in lowercase: 'Readers' becomes 'readers'",
        f"{path}:5:12: warning: policy 'Readers': path 'secret/app' is on KV v2 mount 'secret' but lacks data/ or "
        "metadata/; KV v2 secrets are read at 'secret/data/app' [kv2-path-without-data]",
        f"{path}:10:7: warning: role 'app' has no audience, so service account tokens issued for any audience can "
        "log in; Vault logs a warning for such roles [missing-audience]",
        f"{path}:12:44: warning: role 'app': bound_service_account_namespaces contains '*': service accounts of any "
        "namespace can log in [wildcard-binding]",
        f"{path}:13:35: warning: role 'app' names policy 'nope', which this file does not declare [unknown-policy]",
    ]


@pytest.mark.parametrize(
    ("path", "warns"),
    [
        ("sys/*", True),
        ("sys/policies/acl/*", True),
        ("*", True),
        ("s*", True),
        ("sys", False),
        ("system/data/*", False),
        ("secret/data/sys/*", False),
    ],
)
def test_admin_capability_paths(path: str, warns: bool) -> None:
    loaded = load_text(f"version: 1\npolicies:\n  p:\n    path:\n      {json.dumps(path)}: {{capabilities: [update]}}\n",
                       "s.yaml")
    found = [d.rule for d in lint_state(loaded.state, loaded.source)]
    assert found == (["admin-capability"] if warns else [])


def test_admin_capability_legacy_policy_and_case_insensitive_exemption() -> None:
    text = "version: 1\npolicies:\n  Root-Ish: 'path \"sys/raw/*\" { policy = \"sudo\" }'\n"
    loaded = load_text(text, "s.yaml")
    assert [str(d) for d in lint_state(loaded.state, loaded.source)] == [
        "s.yaml:3:13: warning: policy 'Root-Ish' grants create, update, delete on 'sys/raw/*', which can change the "
        "server's configuration (sys/); list it in lint.admin_policies if it is meant to administer the server "
        "[admin-capability]",
        "s.yaml:3:13: warning: policy 'Root-Ish' grants sudo on 'sys/raw/*'; list it in lint.admin_policies if it is "
        "meant to administer the server [admin-capability]",
    ]
    exempt = load_text(text + "lint: {admin_policies: [root-ish]}\n", "s.yaml")
    assert lint_state(exempt.state, exempt.source) == []


def test_plan_prints_lint_warnings(cli: Cli, tmp_path: Path) -> None:
    path = write_state(
        tmp_path,
        "version: 1\n"
        "secrets_engines:\n  secret: {type: kv, version: 2}\n"
        "policies:\n"
        "  eso-policy: |\n"
        "    path \"secret/*\" {\n"
        "      capabilities = [\"read\"]\n"
        "    }\n"
        "auth_methods:\n"
        "  approle:\n    type: approle\n    roles:\n"
        "      ci:\n        token_policies: [eso-policy, nowhere]\n",
    )
    kv2 = (
        f"{path}:6:1: warning: policy 'eso-policy': path 'secret/*' is on KV v2 mount 'secret' but lacks data/ or "
        "metadata/; KV v2 secrets are read at 'secret/data/*' [kv2-path-without-data]"
    )
    unknown = (
        f"{path}:14:38: warning: role 'ci' names policy 'nowhere', which this file does not declare "
        "and the server does not have [unknown-policy]"
    )
    result = cli("plan", "-f", str(path))
    assert result.code == 0, result.err
    assert result.err.splitlines() == [kv2, unknown]
    assert "Plan: 4 to add, 0 to change, 0 to destroy." in result.out
    document = json.loads(cli("plan", "-f", str(path), "--json").out)
    assert document["warnings"] == [kv2, unknown]
