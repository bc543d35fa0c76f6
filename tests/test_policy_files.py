"""Policies read from .hcl files (`policies: {NAME: {file: PATH}}`) against a real OpenBao server:
applied and planned as inline text is, edits shown as a diff, problems located in the .hcl file
(or at the `file:` key when the file cannot be read), paths relative to the file that declares
them (peer files, overlays), and saved plans stale when a .hcl file changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, read

from vault_state.sandbox import DevServer
from vault_state.spec.many import load_states
from vault_state.spec.policies import PolicyFile

READ = 'path "apps/data/*" {\n  capabilities = ["read"]\n}\n'
STATE = """version: 1
secrets_engines:
  apps: {type: kv, version: 2}
policies:
  app:
    file: policies/app.hcl
  inline: 'path "apps/data/x" { capabilities = ["list"] }'
"""


def project(tmp_path: Path, state: str = STATE, hcl: str = READ) -> Path:
    (tmp_path / "policies").mkdir(exist_ok=True)
    (tmp_path / "policies" / "app.hcl").write_text(hcl)
    path = tmp_path / "state.yaml"
    path.write_text(state)
    return path


def test_policy_from_a_file_applies_and_plans_empty(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = project(tmp_path)
    planned = cli("plan", "-f", str(state))
    assert planned.code == 0, planned.err
    assert "+ policy/app" in planned.out
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    assert read(bao, "sys/policies/acl/app")["policy"] == READ
    again = cli("plan", "-f", str(state), "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes" in again.out


def test_editing_the_file_shows_the_diff(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = project(tmp_path)
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    (tmp_path / "policies" / "app.hcl").write_text(READ.replace('["read"]', '["read", "list"]'))
    planned = cli("plan", "-f", str(state), "--detailed-exitcode")
    assert planned.code == 2, planned.err
    assert planned.out.count("\n          -  capabilities = [\"read\"]\n") == 1, planned.out
    assert planned.out.count("\n          +  capabilities = [\"read\", \"list\"]\n") == 1
    document = json.loads(cli("plan", "-f", str(state), "--json").out)
    [change] = [c for c in document["changes"] if c["action"] != "no-op"]
    assert (change["id"], change["action"]) == ("policy/app", "update")
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    assert '"list"' in read(bao, "sys/policies/acl/app")["policy"]


def test_missing_file_is_located_at_its_file_key(offline_cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "state.yaml"
    state.write_text("version: 1\npolicies:\n  app: {file: policies/app.hcl}\n")
    result = offline_cli("validate", "-f", str(state))
    assert result.code == 1
    assert result.err == (
        f"{state}:3:15: policy 'app': file policies/app.hcl not found (looked at {tmp_path}/policies/app.hcl)\n"
    )
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "app.hcl").mkdir()
    result = offline_cli("validate", "-f", str(state))
    assert result.err == (
        f"{state}:3:15: policy 'app': file policies/app.hcl is a directory (looked at {tmp_path}/policies/app.hcl)\n"
    )


def test_plan_refuses_a_missing_file_before_reading_the_server(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = project(tmp_path)
    (tmp_path / "policies" / "app.hcl").unlink()
    result = cli("plan", "-f", str(state))
    assert result.code == 1
    assert result.err.startswith(f"{state}:6:11: policy 'app': file policies/app.hcl not found")
    assert "Traceback" not in result.err


def test_problems_in_the_file_are_located_in_it(
    offline_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative -f keeps the .hcl file's name relative too, as the editor and CI annotations want."""
    project(tmp_path, hcl='path "apps/data/*" {\n  capabilities = ["read", "reed"]\n  foo = 1\n}\n')
    monkeypatch.chdir(tmp_path)
    result = offline_cli("validate", "-f", "state.yaml")
    assert result.code == 1
    assert result.err == (
        "policies/app.hcl:2:27: policy 'app': invalid policy: path 'apps/data/*': invalid capability 'reed'\n"
        "policies/app.hcl:3:3: policy 'app': invalid policy: path 'apps/data/*': unknown key 'foo'\n"
    )


def test_lint_warnings_are_located_in_the_file(offline_cli: Cli, tmp_path: Path) -> None:
    state = project(tmp_path, hcl='path "apps/*" {\n  capabilities = ["read"]\n}\n')
    result = offline_cli("lint", "-f", str(state))
    assert f"{tmp_path}/policies/app.hcl:1:1: warning: policy 'app': path 'apps/*' is on KV v2 mount" in result.out + result.err


def test_placeholder_naming_an_unknown_auth_method_is_located_in_the_file(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    hcl = 'path "apps/data/{{identity.entity.aliases.${auth/nope/@accessor}.name}}" {\n  capabilities = ["read"]\n}\n'
    state = project(tmp_path, hcl=hcl)
    result = cli("plan", "-f", str(state))
    assert result.code == 1
    assert result.err == (
        f"{tmp_path}/policies/app.hcl:1:43: policy 'app': ${{auth/nope/@accessor}} names auth method 'nope', "
        "which this file does not declare and the server does not have\n"
    )


def test_saved_plan_is_stale_when_the_file_changed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = project(tmp_path)
    planfile = tmp_path / "plan.json"
    assert cli("plan", "-f", str(state), "-o", str(planfile)).code == 0
    assert "policies.app.file" in json.loads(planfile.read_text())["sources"]
    (tmp_path / "policies" / "app.hcl").write_text(READ.replace('["read"]', '["read", "list"]'))
    result = cli("apply", str(planfile))
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "refused: value source file policies/app.hcl (policies.app.file) changed since the plan was made"
    )
    assert bao.request("GET", "sys/policies/acl/app").status_code == 404
    (tmp_path / "policies" / "app.hcl").write_text(READ)
    assert cli("apply", str(planfile)).code == 0
    assert read(bao, "sys/policies/acl/app")["policy"] == READ


def test_paths_are_relative_to_the_file_that_declares_them(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A peer file of `-f DIR` in a subdirectory and an overlay elsewhere each name their own .hcl."""
    (tmp_path / "base" / "team").mkdir(parents=True)
    (tmp_path / "base" / "main.yaml").write_text("version: 1\npolicies:\n  a: {file: a.hcl}\n")
    (tmp_path / "base" / "a.hcl").write_text(READ)
    (tmp_path / "base" / "team" / "b.yaml").write_text("policies:\n  b: {file: b.hcl}\n")
    (tmp_path / "base" / "team" / "b.hcl").write_text(READ.replace("apps", "team"))
    (tmp_path / "prod").mkdir()
    (tmp_path / "prod" / "overlay.yaml").write_text("policies:\n  a: {file: a-prod.hcl}\n")
    (tmp_path / "prod" / "a-prod.hcl").write_text(READ.replace("apps", "prod"))
    files = ["-f", str(tmp_path / "base"), "--recursive", "--overlay", str(tmp_path / "prod" / "overlay.yaml")]
    result = cli("apply", *files, "--auto-approve")
    assert result.code == 0, result.err
    assert read(bao, "sys/policies/acl/a")["policy"] == READ.replace("apps", "prod")
    assert read(bao, "sys/policies/acl/b")["policy"] == READ.replace("apps", "team")
    assert cli("plan", *files, "--detailed-exitcode").code == 0
    (tmp_path / "prod" / "a-prod.hcl").write_text("path {\n")
    result = cli("plan", *files)
    assert result.code == 1
    assert result.err.startswith(f"{tmp_path}/prod/a-prod.hcl:1:7: policy 'a': invalid policy HCL: Unexpected end of file")


def test_adopt_and_namespaces(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """The file form is a mapping, so it takes `adopt:`; inside a namespace it reads its file as well."""
    state = project(tmp_path, "version: 1\nnamespaces:\n  team:\n    policies:\n"
                              "      app: {file: policies/app.hcl, adopt: true}\n")
    result = cli("apply", "-f", str(state), "--auto-approve")
    assert result.code == 0, result.err
    assert bao.request("GET", "team/sys/policies/acl/app").json()["data"]["policy"] == READ
    assert cli("plan", "-f", str(state), "--detailed-exitcode").code == 0


def test_policy_files_declares_one_policy_per_file(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A directory names its *.hcl, a glob its .hcl and .json files; each file is the policy of its name.
    Removing a file with `prune: {policies: true}` deletes its policy; the plan locates it at the pattern."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "reader.hcl").write_text(READ)
    (tmp_path / "policies" / "lister.hcl").write_text(READ.replace('"read"', '"list"'))
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "writer.json").write_text('{"path": {"apps/data/*": {"capabilities": ["update"]}}}\n')
    state = tmp_path / "state.yaml"
    state.write_text("version: 1\nprune: {policies: true}\npolicy_files: [policies, json/*.json]\n"
                     "policies:\n  inline: 'path \"x\" { capabilities = [\"read\"] }'\n")
    result = cli("apply", "-f", str(state), "--auto-approve")
    assert result.code == 0, result.err
    assert read(bao, "sys/policies/acl/reader")["policy"] == READ
    assert read(bao, "sys/policies/acl/lister")["policy"] == READ.replace('"read"', '"list"')
    assert read(bao, "sys/policies/acl/writer")["policy"] == '{"path": {"apps/data/*": {"capabilities": ["update"]}}}\n'
    assert cli("plan", "-f", str(state), "--detailed-exitcode").code == 0
    assert cli("validate", "-f", str(state)).out == f"{state}: valid (4 policies)\n"
    (tmp_path / "policies" / "lister.hcl").unlink()
    (tmp_path / "policies" / "reader.hcl").write_text(READ.replace('"read"', '"read", "list"'))
    document = json.loads(cli("plan", "-f", str(state), "--json").out)
    changed = {c["id"]: (c["action"], c["location"]) for c in document["changes"] if c["action"] != "no-op"}
    assert changed == {"policy/reader": ("update", f"{state}:3:16"), "policy/lister": ("delete", None)}
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    assert bao.request("GET", "sys/policies/acl/lister").status_code == 404


def test_policy_files_problems_are_located_in_the_matched_file(offline_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "Reader.hcl").write_text('path "a" {\n  capabilities = ["read", "reed"]\n}\n')
    state = tmp_path / "state.yaml"
    state.write_text("version: 1\npolicy_files: [policies/*.hcl]\n")
    result = offline_cli("validate", "-f", str(state))
    assert result.code == 1
    assert result.err == (
        f"{tmp_path}/policies/Reader.hcl:2:27: policy 'Reader': invalid policy: path 'a': invalid capability 'reed'\n"
    )
    (tmp_path / "policies" / "Reader.hcl").write_text('path "a" {\n  capabilities = ["read"]\n}\n')
    result = offline_cli("validate", "-f", str(state))
    assert (result.code, result.out) == (0, f"{state}: valid (1 policy)\n")
    assert result.err == f"{state}:2:16: warning: Vault stores policy names in lowercase: 'Reader' becomes 'reader'\n"


def test_policy_files_of_peer_files_add_up_each_relative_to_its_file(tmp_path: Path) -> None:
    """With -f DIR, each file's patterns match from its own directory, in a namespace too; the lists add up."""
    (tmp_path / "team" / "hcl").mkdir(parents=True)
    (tmp_path / "hcl").mkdir()
    (tmp_path / "hcl" / "root-reader.hcl").write_text(READ)
    (tmp_path / "team" / "hcl" / "team-reader.hcl").write_text(READ)
    (tmp_path / "team" / "hcl" / "ns-reader.hcl").write_text(READ)
    (tmp_path / "main.yaml").write_text("version: 1\npolicy_files: [hcl]\n")
    (tmp_path / "team" / "team.yaml").write_text(
        "policy_files: [hcl/team-*.hcl]\nnamespaces:\n  team:\n    policy_files: ['hcl/ns-*']\n")
    loaded = load_states([str(tmp_path)], recursive=True)
    assert sorted(loaded.state.policies) == ["root-reader", "team-reader"]
    assert list(loaded.state.namespaces["team"].policies) == ["ns-reader"]
    spec = loaded.state.policies["team-reader"]
    assert isinstance(spec, PolicyFile) and spec.shown == str(tmp_path / "team" / "hcl" / "team-reader.hcl")
    assert str(spec.declared) == f"{tmp_path}/team/team.yaml:1:16"


def test_export_policies_dir_writes_one_file_per_policy_and_plans_empty(
    cli: Cli, bao: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`export --policies-dir` writes DIR/NAME.hcl (a namespace's under DIR/NAMESPACE/) and names each
    with `{file:}` relative to the exported state file; that file plans empty."""
    bao.request("PUT", "sys/policies/acl/app", {"policy": READ})
    bao.request("POST", "sys/namespaces/team", {})
    bao.request("PUT", "team/sys/policies/acl/ns-app", {"policy": READ.replace("apps", "team")})
    monkeypatch.chdir(tmp_path)
    result = cli("export", "-o", "out/state.yaml", "--policies-dir", "out/policies")
    assert result.code == 0, result.err
    text = (tmp_path / "out" / "state.yaml").read_text()
    assert "  app: {file: policies/app.hcl}\n" in text
    assert "      ns-app: {file: policies/team/ns-app.hcl}\n" in text
    assert (tmp_path / "out" / "policies" / "app.hcl").read_text() == READ
    assert (tmp_path / "out" / "policies" / "team" / "ns-app.hcl").read_text() == READ.replace("apps", "team")
    assert (tmp_path / "out" / "policies" / "default.hcl").is_file()
    planned = cli("plan", "-f", "out/state.yaml", "--detailed-exitcode")
    assert planned.code == 0, planned.out + planned.err
    # standard output: the paths are relative to the working directory
    result = cli("export", "--policies-dir", "hcl")
    assert "  app: {file: hcl/app.hcl}\n" in result.out
    assert (tmp_path / "hcl" / "app.hcl").read_text() == READ


def test_saved_plan_is_stale_when_a_policy_files_file_changed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "reader.hcl").write_text(READ)
    state = tmp_path / "state.yaml"
    state.write_text("version: 1\npolicy_files: [policies]\n")
    planfile = tmp_path / "plan.json"
    assert cli("plan", "-f", str(state), "-o", str(planfile)).code == 0
    (tmp_path / "policies" / "reader.hcl").write_text(READ.replace('"read"', '"list"'))
    result = cli("apply", str(planfile))
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"refused: value source file {tmp_path}/policies/reader.hcl (policies.reader.file) changed since the plan "
        "was made"
    )
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 404
    # A file added to the directory since is a policy the plan did not show: stale too.
    (tmp_path / "policies" / "reader.hcl").write_text(READ)
    (tmp_path / "policies" / "writer.hcl").write_text(READ)
    result = cli("apply", str(planfile))
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"refused: value source file {tmp_path}/policies/writer.hcl (policies.writer.file) changed since the plan "
        "was made"
    )
    (tmp_path / "policies" / "writer.hcl").unlink()
    assert cli("apply", str(planfile)).code == 0
    assert read(bao, "sys/policies/acl/reader")["policy"] == READ


def test_an_overlays_policy_files_replace_the_base_list(tmp_path: Path) -> None:
    (tmp_path / "base" / "hcl").mkdir(parents=True)
    (tmp_path / "base" / "hcl" / "base-reader.hcl").write_text(READ)
    (tmp_path / "base" / "state.yaml").write_text("version: 1\npolicy_files: [hcl]\n")
    (tmp_path / "prod" / "hcl").mkdir(parents=True)
    (tmp_path / "prod" / "hcl" / "prod-reader.hcl").write_text(READ)
    (tmp_path / "prod" / "overlay.yaml").write_text("policy_files: [hcl/*.hcl]\n")
    loaded = load_states([str(tmp_path / "base" / "state.yaml")], overlays=[str(tmp_path / "prod" / "overlay.yaml")])
    assert list(loaded.state.policies) == ["prod-reader"]
    spec = loaded.state.policies["prod-reader"]
    assert isinstance(spec, PolicyFile) and str(spec.declared) == f"{tmp_path}/prod/overlay.yaml:1:16"
