"""Several state files as one state (`-f DIR`, repeated `-f`) against a real OpenBao server: a
directory plans and applies like the same objects in one file, every change and problem names the
file it came from, an object declared twice or a setting that disagrees is located in both files,
and a saved plan goes stale when any of the files changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from conftest import Cli, read

from vault_state.sandbox import DevServer

PLAN_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "plan.schema.json").read_text())
POLICY = 'path "apps/data/*" { capabilities = ["read"] }'
ONE_FILE = f"""version: 1
prune: {{policies: true}}
secrets_engines:
  apps: {{type: kv, version: 2, description: apps of every team}}
policies:
  platform-admin: '{POLICY}'
  team-a-reader: '{POLICY}'
  team-b-reader: '{POLICY}'
auth_methods:
  people:
    type: userpass
    users:
      alice: {{password: {{env: ALICE_PASSWORD}}, token_policies: [team-a-reader]}}
namespaces:
  team-a:
    custom_metadata: {{owner: team-a}}
    policies:
      a-reader: '{POLICY}'
      a-writer: '{POLICY}'
"""
# The same objects, one file per team under teams/ and the platform's in platform.yaml.
PLATFORM = f"""version: 1
prune: {{policies: true}}
secrets_engines:
  apps: {{type: kv, version: 2, description: apps of every team}}
policies:
  platform-admin: '{POLICY}'
auth_methods:
  people:
    type: userpass
    users:
      alice: {{password: {{env: ALICE_PASSWORD}}, token_policies: [team-a-reader]}}
namespaces:
  team-a:
    custom_metadata: {{owner: team-a}}
"""
TEAM_A = f"""policies:
  team-a-reader: '{POLICY}'
namespaces:
  team-a:
    policies:
      a-reader: '{POLICY}'
      a-writer: '{POLICY}'
"""
TEAM_B = f"""policies:
  team-b-reader: '{POLICY}'
"""
ENV = {"ALICE_PASSWORD": "alice-PASSWORD-SECRET-4f1e"}


def layout(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def split(tmp_path: Path) -> Path:
    """platform.yaml and teams/*.yaml, as the CODEOWNERS-friendly layout of docs/many-files.md."""
    return layout(tmp_path / "state", {"platform.yaml": PLATFORM, "teams/team-a.yaml": TEAM_A,
                                       "teams/team-b.yml": TEAM_B})


def plan_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("plan", "--json", *args, env=ENV)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def without_locations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in change.items() if k != "location"} for change in document["changes"]]


def test_a_directory_plans_and_applies_like_one_file(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = split(tmp_path)
    one = tmp_path / "one.yaml"
    one.write_text(ONE_FILE)
    from_dir = plan_json(cli, "-f", str(state), "--recursive")
    from_one = plan_json(cli, "-f", str(one))
    assert without_locations(from_dir) == without_locations(from_one)
    assert from_dir["summary"] == {"add": 9, "change": 0, "destroy": 0}
    assert from_dir["files"] == [str(state / "platform.yaml"), str(state / "teams/team-a.yaml"),
                                 str(state / "teams/team-b.yml")]
    assert "files" not in from_one
    jsonschema.validate(from_dir, PLAN_SCHEMA)
    # The same directory as repeated -f: the same state.
    repeated = plan_json(cli, "-f", str(state / "platform.yaml"), "-f", str(state / "teams"))
    assert repeated == from_dir

    result = cli("apply", "-f", str(state), "--recursive", "--auto-approve", env=ENV)
    assert result.code == 0, result.err
    assert "Apply complete! Resources: 9 added, 0 changed, 0 destroyed." in result.out
    assert read(bao, "sys/mounts/apps")["description"] == "apps of every team"
    assert read(bao, "sys/policies/acl/team-b-reader")["policy"].strip() == POLICY
    for args in (("-f", str(one)), ("-f", str(state), "--recursive")):
        result = cli("plan", *args, env=ENV)
        assert result.code == 0 and "No changes." in result.out, result.out + result.err


def test_text_json_and_markdown_name_each_changes_file(cli: Cli, tmp_path: Path) -> None:
    state = split(tmp_path)
    document = plan_json(cli, "-f", str(state), "--recursive")
    where = {c["id"]: c["location"] for c in document["changes"]}
    team_a, team_b, platform = state / "teams/team-a.yaml", state / "teams/team-b.yml", state / "platform.yaml"
    assert where == {
        "secrets_engine/apps": f"{platform}:4:3",
        "policy/platform-admin": f"{platform}:6:3",
        "auth_method/people": f"{platform}:8:3",
        "auth_role/people/alice": f"{platform}:11:7",
        "namespace/team-a": f"{platform}:13:3",
        "policy/team-a-reader": f"{team_a}:2:3",
        "team-a:policy/a-reader": f"{team_a}:6:7",
        "team-a:policy/a-writer": f"{team_a}:7:7",
        "policy/team-b-reader": f"{team_b}:2:3",
    }
    text = cli("plan", "-f", str(state), "--recursive", env=ENV).out
    assert f"  + policy/team-b-reader  ({team_b}:2:3)\n" in text
    assert f"  + team-a:policy/a-writer  ({team_a}:7:7)\n" in text
    markdown = cli("plan", "-f", str(state), "--recursive", "--format", "markdown", env=ENV).out
    assert "| | action | id | declared at | changed fields |\n" in markdown
    assert f"| `+` | create | `policy/team-b-reader` | `{team_b}:2:3` | |\n" in markdown


def test_one_file_plans_name_no_file_in_text(cli: Cli, tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text(ONE_FILE)
    text = cli("plan", "-f", str(one), env=ENV).out
    assert "  + policy/team-b-reader\n" in text
    markdown = cli("plan", "-f", str(one), "--format", "markdown", env=ENV).out
    assert "| | action | id | changed fields |\n" in markdown


def test_recursive_reads_subdirectories(offline_cli: Cli, tmp_path: Path) -> None:
    state = split(tmp_path)
    result = offline_cli("validate", "-f", str(state))  # platform.yaml only: team-a-reader is in teams/
    assert result.code == 0
    assert result.out == f"{state}: valid (1 namespace, 1 secrets engine, 1 policy, 1 auth method, 1 auth role)\n"
    assert result.err == (f"{state / 'platform.yaml'}:11:65: warning: role 'alice' names policy 'team-a-reader', "
                          "which this file does not declare [unknown-policy]\n")
    layout(state, {".github/workflow.yaml": "on: push\n", "teams/.team-a.yaml.swp.yaml": "not: state\n"})
    result = offline_cli("validate", "-f", str(state), "--recursive")  # hidden files and directories left out
    assert result.out == f"{state}: valid (1 namespace, 1 secrets engine, 5 policies, 1 auth method, 1 auth role)\n"
    result = offline_cli("validate", "-f", str(tmp_path))
    assert (result.code, result.out) == (1, "")
    assert result.err == (f"error: -f {tmp_path}: no *.yaml or *.yml file in this directory "
                          "(add --recursive to read its subdirectories)\n")


def test_a_file_source_is_relative_to_its_own_file(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = layout(tmp_path / "state", {
        "platform.yaml": "version: 1\n",
        "teams/team-a.yaml": "secrets_engines:\n  a: {type: kv, description: {file: about.txt, sensitive: false}}\n",
        "teams/about.txt": "team a's secrets",
        "about.txt": "the platform's description, not team a's",
    })
    result = cli("apply", "-f", str(state), "--recursive", "--auto-approve")
    assert result.code == 0, result.err
    assert read(bao, "sys/mounts/a")["description"] == "team a's secrets"


def test_a_saved_plan_from_a_directory(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state, planfile = split(tmp_path), tmp_path / "plan.json"
    result = cli("plan", "-f", str(state), "--recursive", "-o", str(planfile), env=ENV)
    assert result.code == 0, result.err
    saved = json.loads(planfile.read_text())
    assert sorted(saved["state_files"]) == [str(state / "platform.yaml"), str(state / "teams/team-a.yaml"),
                                            str(state / "teams/team-b.yml")]
    assert (saved["inputs"], saved["recursive"]) == ([str(state)], True)

    (state / "teams/team-b.yml").write_text(TEAM_B + "  team-b-writer: 'path \"b/*\" { capabilities = [\"read\"] }'\n")
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 1
    assert result.err == (
        f"refused: the state file {state / 'teams/team-b.yml'} changed since the plan was made\n"
        f"error: the saved plan {planfile} is stale; nothing was changed. Run plan again and review it\n"
    )
    assert read(bao, "sys/policies/acl/team-a-reader") == {}

    (state / "teams/team-b.yml").write_text(TEAM_B)  # back as it was: the plan applies
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 0, result.err
    assert read(bao, "sys/policies/acl/team-b-reader")["policy"].strip() == POLICY

    # A file added to the directory is something the plan did not read.
    result = cli("plan", "-f", str(state), "--recursive", "-o", str(planfile), env=ENV)
    assert result.code == 0, result.err
    (state / "teams/team-c.yaml").write_text("policies: {}\n")
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 1
    assert result.err.startswith(
        f"refused: the state file {state / 'teams/team-c.yaml'} was added since the plan was made\n"
    )


def test_duplicates_and_disagreements_are_located_in_both_files(offline_cli: Cli, tmp_path: Path) -> None:
    state = layout(tmp_path / "state", {
        "a.yaml": f"""version: 1
prune: {{policies: true}}
lint: {{admin_policies: [admin]}}
policies:
  reader: '{POLICY}'
secrets_engines:
  apps: {{type: kv}}
sys_config:
  cors: {{enabled: true, allowed_origins: ['*']}}
namespaces:
  team-a:
    custom_metadata: {{owner: a}}
    policies:
      reader: '{POLICY}'
""",
        "b.yaml": f"""version: 1
prune: {{policies: false}}
lint: {{admin_policies: [admin]}}
policies:
  reader: '{POLICY}'
  writer: '{POLICY}'
secrets_engines:
  apps: {{type: kv}}
sys_config:
  cors: {{enabled: true, allowed_origins: ['*']}}
namespaces:
  team-a:
    custom_metadata: {{owner: b}}
    policies:
      reader: '{POLICY}'
      writer: '{POLICY}'
""",
    })
    a, b = state / "a.yaml", state / "b.yaml"
    result = offline_cli("validate", "-f", str(state))
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        f"{b}:2:1: 'prune' is set differently at {a}:2:1; the files must agree, or set it in one file only",
        f"{b}:5:3: policy 'reader' is also declared at {a}:5:3",
        f"{b}:8:3: secrets engine 'apps' is also declared at {a}:7:3",
        f"{b}:10:3: sys_config.cors is also declared at {a}:9:3",
        f"{b}:13:5: 'custom_metadata' in namespace team-a is set differently at {a}:12:5; the files must "
        "agree, or set it in one file only",
        f"{b}:15:7: policy 'reader' in namespace team-a is also declared at {a}:14:7",
    ]


def test_each_files_own_mistakes_are_located_in_it(offline_cli: Cli, tmp_path: Path) -> None:
    state = layout(tmp_path / "state", {
        "a.yaml": "version: 1\npolicies:\n  reader: [not, text]\n",
        "b.yaml": "polices: {}\n",
        "c.yaml": "- a list\n",
    })
    result = offline_cli("validate", "-f", str(state))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{state / 'a.yaml'}:3:11: reader: expected policy HCL text, a mapping with 'path', or {{file: PATH}}",
        f"{state / 'b.yaml'}:1:1: unknown key 'polices'; did you mean 'policies'?",
        f"{state / 'c.yaml'}:1:1: the state file must be a mapping of keys such as 'version', 'policies'",
    ]


def test_a_missing_version_and_semantic_problems_after_merging(offline_cli: Cli, tmp_path: Path) -> None:
    state = layout(tmp_path / "state", {"a.yaml": "policies: {}\n", "b.yaml": "secrets_engines: {}\n"})
    result = offline_cli("validate", "-f", str(state))
    assert result.err == f"{state / 'a.yaml'}:1:1: missing required key 'version' (the format version; write 'version: 1')\n"
    # A role in one file naming an auth method's role declared in another: located in its own file.
    layout(state, {
        "a.yaml": "version: 1\nauth_methods:\n  people: {type: userpass}\n",
        "b.yaml": "auth_methods:\n  people: {type: userpass}\n",
    })
    result = offline_cli("validate", "-f", str(state))
    assert result.err == f"{state / 'b.yaml'}:2:3: auth method 'people' is also declared at {state / 'a.yaml'}:3:3\n"


def test_lint_and_policy_text_problems_point_into_their_own_file(offline_cli: Cli, tmp_path: Path) -> None:
    state = layout(tmp_path / "state", {
        "a.yaml": 'version: 1\npolicies:\n  ok: |\n    path "a/*" { capabilities = ["read"] }\n',
        "b.yaml": 'policies:\n  admin: |\n    path "x/*" { capabilities = ["read"] }\n'
                  '    path "sys/*" { capabilities = ["sudo"] }\n',
    })
    result = offline_cli("lint", "-f", str(state))
    assert result.out == (f"{state / 'b.yaml'}:4:1: warning: policy 'admin' grants sudo on 'sys/*'; list it in "
                          "lint.admin_policies if it is meant to administer the server [admin-capability]\n")
    assert result.err == f"{state}: 1 warning\n"
    (state / "c.yaml").write_text('policies:\n  broken: |\n    path "x/*" { capabilities = ["read"] }\n'
                                  '    path "y/*" { capabilities = ["rea"] }\n')
    result = offline_cli("validate", "-f", str(state))
    assert result.err == f"{state / 'c.yaml'}:4:1: policy 'broken': invalid policy: path 'y/*': invalid capability 'rea'\n"
