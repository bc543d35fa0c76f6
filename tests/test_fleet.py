"""`plan --targets` and `apply --targets` over three real OpenBao servers at once: a base directory
and two overlays, a section per target in the file's order and a summary, the Markdown comment and
the JSON document, a canary that fails (no permission, a closed port) stopping the others unless
`--keep-going`, exit codes; and targets.yaml's located errors, without a server."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from conftest import Cli, read

from vault_state.fleet.targets import Target, load_targets
from vault_state.sandbox import DevServer, free_port

PLAN_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "plan.schema.json").read_text())
BAD = Path(__file__).resolve().parent / "bad" / "targets"
BASE = """version: 1
secrets_engines:
  apps: {type: kv, version: 2, description: application secrets}
policies:
  reader: 'path "apps/data/*" { capabilities = ["read"] }'
auth_methods:
  approle:
    type: approle
    roles:
      ci: {token_policies: [reader], token_ttl: 1h}
"""
PROD = """secrets_engines:
  apps: {description: production secrets}
auth_methods:
  approle:
    roles:
      ci: {token_ttl: 15m}
"""
STAGING = """secrets_engines:
  apps: {description: staging secrets}
policies:
  debug: 'path "sys/mounts" { capabilities = ["read"] }'
"""
TARGETS = """targets:
  prod-eu: {{address: '{0}', token_env: PROD_EU_TOKEN, files: [base/], overlays: [overlays/prod.yaml]}}
  prod-us: {{address: '{1}', token_env: PROD_US_TOKEN, files: [base/], overlays: [overlays/prod.yaml]}}
  staging: {{address: '{2}', token_env: STAGING_TOKEN, files: [base/], overlays: [overlays/staging.yaml]}}
"""
NAMES = ("prod-eu", "prod-us", "staging")


@dataclass
class Fleet:
    servers: list[DevServer]
    env: dict[str, str]
    targets: str  # relative to the directory the tests run in: paths in targets.yaml are relative to it

    def address(self, index: int) -> str:
        return self.servers[index].address


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    servers: list[DevServer] = []
    try:
        for _ in NAMES:
            servers.append(DevServer().start())
        home = tmp_path / "fleet"
        for name, text in {"base/platform.yaml": BASE, "overlays/prod.yaml": PROD, "overlays/staging.yaml": STAGING,
                           "targets.yaml": TARGETS.format(*(s.address for s in servers))}.items():
            (home / name).parent.mkdir(parents=True, exist_ok=True)
            (home / name).write_text(text)
        monkeypatch.chdir(tmp_path)
        env = {"PROD_EU_TOKEN": servers[0].token, "PROD_US_TOKEN": servers[1].token,
               "STAGING_TOKEN": servers[2].token, "VAULT_MAX_RETRIES": "0"}
        yield Fleet(servers, env, "fleet/targets.yaml")
    finally:
        for server in servers:
            server.stop()


def mounts(server: DevServer) -> dict[str, object]:
    return dict(server.request("GET", "sys/mounts").json()["data"])


def sections(out: str) -> dict[str, list[str]]:
    """The text report's sections: heading line -> its lines (the summary under 'Summary')."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("=== ") or line.startswith("Summary"):
            current = line
            found[current] = []
        elif current:
            found[current].append(line)
    return found


def test_plan_targets_prints_a_section_per_target_in_order_and_a_summary(offline_cli: Cli, fleet: Fleet) -> None:
    result = offline_cli("plan", "--targets", fleet.targets, "--detailed-exitcode", env=fleet.env)
    assert result.code == 2, result.err
    parts = sections(result.out)
    assert list(parts) == [f"=== prod-eu: {fleet.address(0)} ===", f"=== prod-us: {fleet.address(1)} ===",
                           f"=== staging: {fleet.address(2)} ===", "Summary (3 targets):"]
    for index in (0, 1):  # prod: the base with the prod overlay, located in each file
        lines = parts[f"=== {NAMES[index]}: {fleet.address(index)} ==="]
        assert "  + secrets_engine/apps  (fleet/base/platform.yaml:3:3)" in lines
        assert "      # description from fleet/overlays/prod.yaml:2:10" in lines
        assert '      description = "production secrets"' in lines
        assert "      # token_ttl from fleet/overlays/prod.yaml:6:12" in lines
        assert "      token_ttl = 900" in lines
        assert not any("debug" in line for line in lines)
        assert lines[-2:] == ["Plan: 4 to add, 0 to change, 0 to destroy.", ""]
    staging = parts[f"=== staging: {fleet.address(2)} ==="]
    assert '      description = "staging secrets"' in staging
    assert "  + policy/debug  (fleet/overlays/staging.yaml:4:3)" in staging
    assert "      token_ttl = 3600" in staging
    assert staging[-2:] == ["Plan: 5 to add, 0 to change, 0 to destroy.", ""]
    assert parts["Summary (3 targets):"] == [
        "  target   add  change  destroy  error",
        "  prod-eu    4       0        0",
        "  prod-us    4       0        0",
        "  staging    5       0        0",
    ]
    assert all(server.token not in result.out + result.err for server in fleet.servers)
    # Without --detailed-exitcode, changes exit 0; nothing was written to any server.
    assert offline_cli("plan", "--targets", fleet.targets, env=fleet.env).code == 0
    assert not any("apps/" in mounts(server) for server in fleet.servers)


def test_plan_targets_markdown_is_one_comment_with_a_section_per_target(offline_cli: Cli, fleet: Fleet) -> None:
    result = offline_cli("plan", "--targets", fleet.targets, "--format", "markdown", env=fleet.env)
    assert result.code == 0, result.err
    top = result.out.split("<details>")[0]
    assert top == (
        "### vault-state plan: 3 targets\n\n"
        "| target | add | change | destroy | error |\n"
        "|---|---:|---:|---:|---|\n"
        "| `prod-eu` | 4 | 0 | 0 |  |\n"
        "| `prod-us` | 4 | 0 | 0 |  |\n"
        "| `staging` | 5 | 0 | 0 |  |\n\n"
    )
    assert result.out.count("### vault-state plan") == 1
    assert result.out.count("<details>") == result.out.count("</details>") == 3
    summaries = [line for line in result.out.splitlines() if line.startswith("<details>")]
    assert summaries == [
        f"<details><summary><b>prod-eu</b> ({fleet.address(0)}): 4 to add, 0 to change, 0 to destroy</summary>",
        f"<details><summary><b>prod-us</b> ({fleet.address(1)}): 4 to add, 0 to change, 0 to destroy</summary>",
        f"<details><summary><b>staging</b> ({fleet.address(2)}): 5 to add, 0 to change, 0 to destroy</summary>",
    ]
    staging = result.out.split("<details>")[3]
    assert "| `+` | create | `policy/debug` | `fleet/overlays/staging.yaml:4:3` | |" in staging
    assert ("`fleet/base/platform.yaml:3:3`<br>`description` from `fleet/overlays/staging.yaml:2:10`"
            in staging)


def test_plan_targets_json_is_one_document_keyed_by_target(offline_cli: Cli, fleet: Fleet) -> None:
    result = offline_cli("plan", "--targets", fleet.targets, "--format", "json", "--detailed-exitcode",
                         env=fleet.env)
    assert result.code == 2, result.err
    document = json.loads(result.out)
    assert list(document["targets"]) == list(NAMES)
    for index, name in enumerate(NAMES):
        target = document["targets"][name]
        assert (target["address"], target["exit_code"], target["error"]) == (fleet.address(index), 2, None)
        jsonschema.validate(target["plan"], PLAN_SCHEMA)
        assert target["plan"]["files"] == (
            ["fleet/base/platform.yaml", "fleet/overlays/staging.yaml" if name == "staging"
             else "fleet/overlays/prod.yaml"])
    assert document["targets"]["staging"]["plan"]["summary"] == {"add": 5, "change": 0, "destroy": 0}


def test_an_unreachable_target_is_an_error_row_and_the_others_are_planned(
        offline_cli: Cli, fleet: Fleet, tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    text = (tmp_path / fleet.targets).read_text().replace(fleet.address(1), f"http://127.0.0.1:{closed}")
    (tmp_path / fleet.targets).write_text(text)
    result = offline_cli("plan", "--targets", fleet.targets, "--detailed-exitcode", env=fleet.env)
    assert result.code == 1  # an error beats changes
    parts = sections(result.out)
    assert parts[f"=== prod-us: http://127.0.0.1:{closed} ==="] == [
        f"error: cannot reach http://127.0.0.1:{closed}: connection refused", ""]
    assert parts["Summary (3 targets):"] == [
        "  target   add  change  destroy  error",
        "  prod-eu    4       0        0",
        f"  prod-us    -       -        -  cannot reach http://127.0.0.1:{closed}: connection refused",
        "  staging    5       0        0",
    ]
    markdown = offline_cli("plan", "--targets", fleet.targets, "--format", "markdown", env=fleet.env)
    assert markdown.code == 1
    assert f"| `prod-us` |  |  |  | cannot reach http://127.0.0.1:{closed}: connection refused |" in markdown.out
    assert (f"<details><summary><b>prod-us</b> (http://127.0.0.1:{closed}): error</summary>\n\n```text\n"
            f"cannot reach http://127.0.0.1:{closed}: connection refused\n```\n\n</details>") in markdown.out


def test_a_missing_token_variable_is_an_error_for_that_target(offline_cli: Cli, fleet: Fleet) -> None:
    env = {**fleet.env, "STAGING_TOKEN": ""}
    result = offline_cli("plan", "--targets", fleet.targets, env=env)
    assert result.code == 1
    assert sections(result.out)["Summary (3 targets):"][-1] == (
        "  staging    -       -        -  the variable STAGING_TOKEN (token_env) is not set or empty")


def _weak_token(server: DevServer) -> str:
    """A token of the server with the default policy only: it cannot read sys/mounts."""
    return str(server.request("POST", "auth/token/create", {"policies": ["default"]}).json()["auth"]["client_token"])


def test_apply_targets_stops_at_a_failing_canary(offline_cli: Cli, fleet: Fleet) -> None:
    weak = _weak_token(fleet.servers[0])
    result = offline_cli("apply", "--targets", fleet.targets, "--auto-approve", env={**fleet.env, "PROD_EU_TOKEN": weak})
    assert result.code == 1
    parts = sections(result.out)
    assert list(parts) == [f"=== prod-eu: {fleet.address(0)} ===", "Summary (3 targets):"]
    summary = parts["Summary (3 targets):"]
    assert summary[0] == "  target   add  change  destroy  result"
    assert summary[1] == "  prod-eu    -       -        -  failed: permission denied: the token may not GET sys/mounts (HTTP 403): its policy needs read on that path; `vault-state required-policy` prints the policy the file needs"
    assert summary[2:] == [
        "  prod-us    -       -        -  not run: an earlier target failed (--keep-going runs the rest)",
        "  staging    -       -        -  not run: an earlier target failed (--keep-going runs the rest)",
    ]
    assert not any("apps/" in mounts(server) for server in fleet.servers)
    assert weak not in result.out + result.err


def test_apply_targets_keep_going_applies_the_others(offline_cli: Cli, fleet: Fleet) -> None:
    closed = free_port()
    env = {**fleet.env}
    text = Path(fleet.targets).read_text().replace(fleet.address(0), f"http://127.0.0.1:{closed}")
    Path(fleet.targets).write_text(text)
    result = offline_cli("apply", "--targets", fleet.targets, "--auto-approve", "--keep-going", env=env)
    assert result.code == 1
    assert sections(result.out)["Summary (3 targets):"] == [
        "  target   add  change  destroy  result",
        f"  prod-eu    -       -        -  failed: cannot reach http://127.0.0.1:{closed}: connection refused",
        "  prod-us    4       0        0  ok",
        "  staging    5       0        0  ok",
    ]
    assert read(fleet.servers[1], "sys/mounts/apps")["description"] == "production secrets"
    assert read(fleet.servers[2], "sys/mounts/apps")["description"] == "staging secrets"
    assert read(fleet.servers[1], "auth/approle/role/ci")["token_ttl"] == 900
    assert read(fleet.servers[2], "sys/policy/debug") != {}
    again = offline_cli("plan", "--targets", fleet.targets, "--only", "prod-us", "--only", "stag*",
                        "--detailed-exitcode", env=env)
    assert again.code == 0, again.out
    assert list(sections(again.out)) == [f"=== prod-us: {fleet.address(1)} ===",
                                         f"=== staging: {fleet.address(2)} ===", "Summary (2 targets):"]


def test_apply_targets_applies_every_target_in_order(offline_cli: Cli, fleet: Fleet) -> None:
    result = offline_cli("apply", "--targets", fleet.targets, "--auto-approve", env=fleet.env)
    assert result.code == 0, result.err
    headings = [line for line in result.out.splitlines() if line.startswith("=== ")]
    assert headings == [f"=== {name}: {fleet.address(i)} ===" for i, name in enumerate(NAMES)]
    assert result.out.count("Apply complete! Resources:") == 3
    assert sections(result.out)["Summary (3 targets):"] == [  # the counts of the plan each target applied
        "  target   add  change  destroy  result",
        "  prod-eu    4       0        0  ok",
        "  prod-us    4       0        0  ok",
        "  staging    5       0        0  ok",
    ]
    assert [read(s, "sys/mounts/apps")["description"] for s in fleet.servers] == [
        "production secrets", "production secrets", "staging secrets"]
    assert offline_cli("plan", "--targets", fleet.targets, "--detailed-exitcode", env=fleet.env).code == 0


def test_apply_targets_without_approval_refuses_at_the_first(offline_cli: Cli, fleet: Fleet) -> None:
    result = offline_cli("apply", "--targets", fleet.targets, env=fleet.env)
    assert result.code == 1
    assert ("  prod-eu    4       0        0  failed: refusing to apply without confirmation: stdin is not a terminal; "
            "pass --auto-approve") in result.out
    assert not any("apps/" in mounts(server) for server in fleet.servers)


def test_a_target_logs_in_with_approle(offline_cli: Cli, fleet: Fleet, tmp_path: Path) -> None:
    """login: {method: approle, mount: ...}: credentials from VAULT_ROLE_ID and VAULT_SECRET_ID."""
    server = fleet.servers[2]
    server.request("POST", "sys/auth/fleet-login", {"type": "approle"})
    server.request("PUT", "sys/policy/admin", {"policy": 'path "*" { capabilities = ["create", "read", "update", '
                                                         '"delete", "list", "sudo"] }'})
    server.request("POST", "auth/fleet-login/role/vault-state", {"token_policies": ["admin"]})
    role_id = server.request("GET", "auth/fleet-login/role/vault-state/role-id").json()["data"]["role_id"]
    secret_id = server.request("POST", "auth/fleet-login/role/vault-state/secret-id").json()["data"]["secret_id"]
    targets = tmp_path / fleet.targets
    targets.write_text(targets.read_text().replace(
        "token_env: STAGING_TOKEN", "login: {method: approle, mount: fleet-login}"))
    env = {**fleet.env, "STAGING_TOKEN": "", "VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id}
    result = offline_cli("apply", "--targets", fleet.targets, "--only", "staging", "--auto-approve", env=env)
    assert result.code == 0, result.out + result.err
    assert sections(result.out)["Summary (1 target):"] == ["  target   add  change  destroy  result",
                                                          "  staging    5       0        0  ok"]
    assert read(server, "sys/mounts/apps")["description"] == "staging secrets"
    assert secret_id not in result.out + result.err
    # The login's token was revoked at the end: the role's tokens are all gone.
    accessors = server.request("LIST", "auth/token/accessors").json()["data"]["keys"]
    policies = [server.request("POST", "auth/token/lookup-accessor", {"accessor": a}).json()["data"]["policies"]
                for a in accessors]
    assert ["admin", "default"] not in policies


@pytest.mark.parametrize(("flags", "message"), [
    (["-f", "x.yaml"], "error: --targets: -f cannot be given with it; each target's come from t.yaml\n"),
    (["--overlay", "o.yaml", "--address", "http://x"],
     "error: --targets: --overlay, --address cannot be given with it; each target's come from t.yaml\n"),
    (["--only", "prod-*", "--only", "nope"],
     "error: --only nope: no target in t.yaml matches (targets: prod-eu, staging)\n"),
])
def test_targets_flag_problems(offline_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               flags: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text("targets:\n  prod-eu: {address: 'http://127.0.0.1:1', token_env: T, files: [a]}\n"
                              "  staging: {address: 'http://127.0.0.1:1', token_env: T, files: [a]}\n")
    result = offline_cli("plan", "--targets", "t.yaml", *flags)
    assert (result.code, result.out, result.err) == (1, "", message)


@pytest.mark.parametrize("command", [["plan", "--only", "prod-*"], ["apply", "--keep-going"]])
def test_fleet_flags_need_targets(offline_cli: Cli, command: list[str]) -> None:
    result = offline_cli(*command)
    assert (result.code, result.out, result.err) == (
        1, "", "error: --only and --keep-going choose among the targets of --targets FILE; give it\n")


# targets file in tests/bad/targets -> its whole stderr
ERRORS = {
    "bad_address": "bad_address.yaml:2:19: address: expected an address such as https://vault.example.com:8200",
    "bad_connect_timeout": "bad_connect_timeout.yaml:5:22: connect_timeout: expected at least 1s",
    "bad_retry_budget": "bad_retry_budget.yaml:5:19: retry_budget: invalid duration 'soon': use seconds (3600) or "
                        "units s, m, h, d (90s, 1h30m, 7d)",
    "bad_login_method": "bad_login_method.yaml:4:21: method: expected one of approle, jwt, kubernetes",
    "bad_name": "bad_name.yaml:2:3: a target's name is letters, digits, '_', '.', '-'",
    "bad_token_env": "bad_token_env.yaml:2:57: token_env: expected the name of an environment variable",
    "empty": "empty.yaml:1:1: the targets file is empty; it must start with 'targets:'",
    "empty_files": "empty_files.yaml:5:12: files: name at least one file or directory",
    "files_not_list": "files_not_list.yaml:2:76: files: expected a list ([a, b] or '- item' lines)",
    "login_bad_env_name": "login_bad_env_name.yaml:4:49: jwt_env: expected the name of an environment variable",
    "login_env_and_file": "login_env_and_file.yaml:7:7: give 'secret_id_env' or 'secret_id_file', not both",
    "login_key_of_other_method": "login_key_of_other_method.yaml:4:30: 'role' is for jwt and kubernetes logins, "
                                 "not approle",
    "login_unknown_key": "login_unknown_key.yaml:4:26: unknown key 'rol'; did you mean 'role'?",
    "login_no_method": "login_no_method.yaml:4:12: missing required key 'method'",
    "login_typo": "login_typo.yaml:4:57: unknown key 'secret_id_evn'; did you mean 'secret_id_env'?",
    "no_credential": "no_credential.yaml:2:9: how to get a token: give 'token_env' (the variable holding it) "
                     "or 'login'",
    "no_files": "no_files.yaml:3:5: missing required key 'files'",
    "no_targets": "no_targets.yaml:1:10: targets: name at least one target",
    "no_targets_key": "no_targets_key.yaml:1:1: missing required key 'targets'\n"
                      "no_targets_key.yaml:1:1: unknown key 'prod'",
    "token_and_login": "token_and_login.yaml:3:5: give 'token_env' or 'login', not both",
    "unknown_key": "unknown_key.yaml:6:5: unknown key 'overlay'; did you mean 'overlays'?",
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_targets_file_is_a_located_error(offline_cli: Cli, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    result = offline_cli("plan", "--targets", f"{name}.yaml")
    assert (result.code, result.out, result.err) == (1, "", ERRORS[name] + "\n")


def test_every_bad_targets_file_has_a_case() -> None:
    assert sorted(p.stem for p in BAD.glob("*.yaml")) == sorted(ERRORS)


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"


def test_the_example_fleet_is_valid_offline(offline_cli: Cli) -> None:
    fleet = load_targets(EXAMPLE / "targets.yaml")
    assert list(fleet.targets) == ["staging", "prod-eu", "prod-us"]
    for target in fleet.targets.values():
        assert all(Path(path).exists() for path in [*target.files, *target.overlays, target.ca_cert or "."])
        overlays = [flag for path in target.overlays for flag in ("--overlay", path)]
        result = offline_cli("lint", "--strict", *(f for path in target.files for f in ("-f", path)), *overlays)
        assert result.code == 0, result.out + result.err


def test_the_example_fleet_applies_to_real_servers(offline_cli: Cli, tmp_path: Path) -> None:
    """examples/fleet with its addresses pointed at three dev servers and tokens for its logins."""
    copy = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, copy)
    servers = [DevServer().start() for _ in range(3)]
    try:
        text = (copy / "targets.yaml").read_text()
        for index, address in enumerate(re.findall(r"address: (\S+)", text)):
            text = text.replace(address, servers[index].address)
        text = text.replace("login: {method: kubernetes, role: vault-state}", "token_env: PROD_TOKEN")
        (copy / "targets.yaml").write_text(text)
        # prod-eu and prod-us share PROD_TOKEN in this copy: give both servers the same root token.
        servers[2].request("POST", "auth/token/create", {"id": servers[1].token, "policies": ["root"]})
        env = {"STAGING_VAULT_TOKEN": servers[0].token, "PROD_TOKEN": servers[1].token, "VAULT_MAX_RETRIES": "0",
               "VAULT_CACERT": ""}
        targets = str(copy / "targets.yaml")
        applied = offline_cli("apply", "--targets", targets, "--auto-approve", env=env)
        assert applied.code == 0, applied.out + applied.err
        assert offline_cli("plan", "--targets", targets, "--detailed-exitcode", env=env).code == 0
        stored = [read(s, "apps/config") for s in servers]
        assert [(c["max_versions"], c["cas_required"]) for c in stored] == [(2, False), (20, True), (20, True)]
        hosts = [read(s, "auth/kubernetes/config")["kubernetes_host"] for s in servers]
        assert hosts == ["https://kubernetes.default.svc", "https://kubernetes.default.svc",
                         "https://kubernetes.us.internal:6443"]
        assert [read(s, "sys/policy/oncall-debug") != {} for s in servers] == [True, False, False]
    finally:
        for server in servers:
            server.stop()


def test_the_targets_table_in_the_docs_lists_every_field() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "fleets.md").read_text()
    table = text.split("## targets.yaml")[1].split("| field |")[1].split("\n\n")[0]
    documented = [row.split("|")[1].strip().strip("`") for row in table.splitlines()[2:]]
    assert documented == list(Target.model_fields)


def test_plan_targets_metrics_file_has_every_target(offline_cli: Cli, fleet: Fleet, tmp_path: Path) -> None:
    from test_metrics import samples, value

    closed = free_port()
    text = (tmp_path / fleet.targets).read_text().replace(fleet.address(1), f"http://127.0.0.1:{closed}")
    (tmp_path / fleet.targets).write_text(text)
    metrics = tmp_path / "fleet.prom"
    result = offline_cli("plan", "--targets", fleet.targets, "--metrics-file", str(metrics), env=fleet.env)
    assert result.code == 1
    found = samples(metrics.read_text())
    assert value(found, "vault_state_plan_success", target="prod-eu") == 1
    assert value(found, "vault_state_plan_success", target="prod-us") == 0
    assert value(found, "vault_state_server_reachable", target="prod-us") == 0
    assert value(found, "vault_state_drift", target="prod-eu") == 4
    assert value(found, "vault_state_drift", target="staging") == 5
    assert value(found, "vault_state_drift_objects", target="staging", kind="policy", action="create") == 2
    assert value(found, "vault_state_plan_phase_duration_seconds", target="staging", phase="read") is not None
    assert all(server.token not in metrics.read_text() for server in fleet.servers)
