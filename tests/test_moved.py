"""Renames (`moved:`) against a real OpenBao server: a mount moves with sys/remount and keeps its
data and roles, a policy or role moves by create-then-delete, and a stale entry is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import requests
from conftest import Cli, read, write_state

from vault_state.sandbox import DevServer

POLICY = 'path "kv/data/*" { capabilities = ["read"] }'


def applied(cli: Cli, state: Path, *flags: str) -> str:
    result = cli("apply", "-f", str(state), "--auto-approve", *flags)
    assert result.code == 0, result.err + result.out
    return result.out


def planned(cli: Cli, state: Path) -> str:
    result = cli("plan", "-f", str(state))
    assert result.code in (0, 2), result.err + result.out
    return result.out


def test_kv_mount_rename_keeps_its_data(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, "version: 1\nsecrets_engines:\n  old-kv: {type: kv-v2}\n"))
    bao.request("POST", "old-kv/data/app", {"data": {"password": "kept"}})
    state = write_state(tmp_path, """
version: 1
prune: {secrets_engines: true}
secrets_engines:
  kv: {type: kv-v2, description: renamed}
moved:
  - {from: secrets_engine/old-kv, to: secrets_engine/kv}
""")
    out = planned(cli, state)
    assert "~> secrets_engine/old-kv -> secrets_engine/kv" in out
    assert '~ description: "" -> "renamed"' in out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in out
    document = json.loads(cli("plan", "-f", str(state), "--json").out)
    move = [c for c in document["changes"] if c["action"] != "no-op"]
    assert [(c["action"], c["id"], c["moved_from"]) for c in move] == [
        ("move", "secrets_engine/kv", "secrets_engine/old-kv")]
    applied(cli, state)  # no --allow-destroy: a move destroys nothing
    assert read(bao, "kv/data/app")["data"] == {"password": "kept"}
    assert "old-kv/" not in read(bao, "sys/mounts") and read(bao, "sys/mounts/kv")["description"] == "renamed"
    assert "No changes." in planned(cli, state)  # the entry stays in the file: already moved


def test_auth_method_rename_keeps_its_roles(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, """
version: 1
auth_methods:
  old-approle:
    type: approle
    roles:
      ci: {token_ttl: 1h}
"""))
    role_id = read(bao, "auth/old-approle/role/ci/role-id")["role_id"]
    secret_id = bao.request("POST", "auth/old-approle/role/ci/secret-id").json()["data"]["secret_id"]
    state = write_state(tmp_path, """
version: 1
prune: {auth_methods: true, auth_roles: true}
auth_methods:
  approle:
    type: approle
    roles:
      ci: {token_ttl: 2h}
moved:
  - {from: auth_method/old-approle, to: auth_method/approle}
""")
    out = planned(cli, state)
    assert "~> auth_method/old-approle -> auth_method/approle" in out
    assert "  ~ auth_role/approle/ci\n      ~ token_ttl: 3600 -> 7200" in out
    assert "auth_role/old-approle" not in out and "Plan: 0 to add, 2 to change, 0 to destroy." in out
    applied(cli, state)
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] == role_id  # the same role, moved
    assert read(bao, "auth/approle/role/ci")["token_ttl"] == 7200
    login = bao.request("POST", "auth/approle/login", {"role_id": role_id, "secret_id": secret_id})
    assert login.json()["auth"]["lease_duration"] == 7200  # the old secret ID logs in
    assert "No changes." in planned(cli, state)


def test_policy_rename_is_create_then_delete(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, f"version: 1\npolicies:\n  old-reader: '{POLICY}'\n"))
    state = write_state(tmp_path, f"""
version: 1
policies:
  reader: '{POLICY}'
moved:
  - {{from: policy/old-reader, to: policy/reader}}
""")
    out = planned(cli, state)
    assert out.index("  + policy/reader\n      # moved from policy/old-reader") < out.index(
        "  - policy/old-reader\n      # moved to policy/reader")
    document = json.loads(cli("plan", "-f", str(state), "--json").out)
    actions = [(c["action"], c["id"]) for c in document["changes"] if c["action"] != "no-op"]
    assert actions == [("create", "policy/reader"), ("delete", "policy/old-reader")]
    applied(cli, state)  # no prune: the move deletes the old policy all the same
    assert read(bao, "sys/policies/acl/reader")["policy"].startswith('path "kv/data/*"')
    assert bao.request("GET", "sys/policies/acl/old-reader").status_code == 404
    assert "No changes." in planned(cli, state)


def test_approle_role_rename_warns_of_a_new_role_id(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, "version: 1\nauth_methods:\n  approle:\n    type: approle\n"
                                       "    roles:\n      old-ci: {token_ttl: 1h}\n"))
    state = write_state(tmp_path, """
version: 1
prune: {auth_roles: true}
auth_methods:
  approle:
    type: approle
    roles:
      ci: {token_ttl: 1h}
moved:
  - {from: auth_role/approle/old-ci, to: auth_role/approle/ci}
""")
    out = planned(cli, state)
    assert ("!! auth_role/approle/ci gets a new role_id (set role_id to keep the old one) and the secret IDs "
            "issued for auth_role/approle/old-ci stop working") in out
    assert "  - auth_role/approle/old-ci\n      # moved to auth_role/approle/ci" in out
    applied(cli, state)
    assert read(bao, "auth/approle/role/ci")["token_ttl"] == 3600
    assert bao.request("GET", "auth/approle/role/old-ci").status_code == 404
    assert "No changes." in planned(cli, state)


def test_both_ids_existing_is_a_located_error(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    both = "version: 1\nsecrets_engines:\n  old-kv: {type: kv-v2}\n  kv: {type: kv-v2}\n"
    applied(cli, write_state(tmp_path, both))
    state = write_state(tmp_path, """version: 1
secrets_engines:
  kv: {type: kv-v2}
moved:
  - {from: secrets_engine/old-kv, to: secrets_engine/kv}
""")
    result = cli("plan", "-f", str(state))
    assert result.code == 1
    assert result.err.strip() == (
        f"{state}:5:5: moved: both secrets_engine/old-kv and secrets_engine/kv exist on the server; remove one "
        "of them by hand, or remove this entry to manage them apart")


def test_neither_id_existing_creates_the_new_one(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, f"""version: 1
policies:
  reader: '{POLICY}'
moved:
  - {{from: policy/old-reader, to: policy/reader}}
""")
    out = planned(cli, state)
    assert "  + policy/reader\n      !! moved from policy/old-reader, which does not exist: created as new" in out
    applied(cli, state)
    assert "No changes." in planned(cli, state)


def test_a_move_to_an_undeclared_id_is_a_located_error(cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, "version: 1\nmoved:\n  - {from: policy/a, to: policy/b}\n")
    result = cli("plan", "-f", str(state))
    assert result.code == 1
    assert result.err.strip() == f"{state}:3:5: moved: policy/b is not declared in the file; declare it there"


def test_a_namespaced_mount_moves_inside_its_namespace(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, "version: 1\nnamespaces:\n  team-a:\n    secrets_engines:\n"
                                       "      old-kv: {type: kv-v2}\n"))
    headers = {"X-Vault-Token": bao.token, "X-Vault-Namespace": "team-a"}
    requests.post(f"{bao.address}/v1/old-kv/data/app", json={"data": {"a": "1"}}, headers=headers, timeout=10)
    state = write_state(tmp_path, """version: 1
namespaces:
  team-a:
    secrets_engines:
      kv: {type: kv-v2}
moved:
  - {from: "team-a:secrets_engine/old-kv", to: "team-a:secrets_engine/kv"}
""")
    assert "~> team-a:secrets_engine/old-kv -> team-a:secrets_engine/kv" in planned(cli, state)
    applied(cli, state)
    answer = requests.get(f"{bao.address}/v1/kv/data/app", headers=headers, timeout=10).json()
    assert answer["data"]["data"] == {"a": "1"}
    assert "No changes." in planned(cli, state)


def test_a_builtin_policy_cannot_move(cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, f"version: 1\npolicies:\n  base: '{POLICY}'\nmoved:\n"
                                  "  - {from: policy/default, to: policy/base}\n")
    result = cli("plan", "-f", str(state))
    assert result.code == 1
    assert result.err.strip() == f"{state}:5:5: moved: policy/default is built in: it cannot be deleted, nor moved"


def test_the_plan_documents_of_a_move_follow_the_schema(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, f"version: 1\nsecrets_engines:\n  old-kv: {{type: kv-v2}}\n"
                                       f"policies:\n  old-reader: '{POLICY}'\n"))
    state = write_state(tmp_path, f"""version: 1
secrets_engines:
  kv: {{type: kv-v2}}
policies:
  reader: '{POLICY}'
moved:
  - {{from: secrets_engine/old-kv, to: secrets_engine/kv}}
  - {{from: policy/old-reader, to: policy/reader}}
""")
    document = json.loads(cli("plan", "-f", str(state), "--json").out)
    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "plan.schema.json").read_text())
    jsonschema.validate(document, schema)
    moved = {c["id"]: (c["action"], c.get("moved_from"), c.get("moved_to")) for c in document["changes"]}
    assert moved["secrets_engine/kv"] == ("move", "secrets_engine/old-kv", None)
    assert moved["policy/reader"] == ("create", "policy/old-reader", None)
    assert moved["policy/old-reader"] == ("delete", None, "policy/reader")
    assert document["summary"] == {"add": 1, "change": 1, "destroy": 1}
    markdown = cli("plan", "-f", str(state), "--format", "markdown").out
    assert "| `~>` | move | `secrets_engine/old-kv` -> `secrets_engine/kv` | |" in markdown


def test_prune_deletes_an_undeclared_role_of_a_moved_method_before_the_move(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    applied(cli, write_state(tmp_path, "version: 1\nauth_methods:\n  old:\n    type: approle\n    roles:\n"
                                       "      keep: {token_ttl: 1h}\n      drop: {token_ttl: 1h}\n"))
    state = write_state(tmp_path, """version: 1
prune: {auth_roles: true}
auth_methods:
  new:
    type: approle
    roles:
      keep: {token_ttl: 1h}
moved:
  - {from: auth_method/old, to: auth_method/new}
""")
    document = json.loads(cli("plan", "-f", str(state), "--json").out)
    actions = [(c["action"], c["id"]) for c in document["changes"] if c["action"] != "no-op"]
    assert actions == [("delete", "auth_role/old/drop"), ("move", "auth_method/new")]
    applied(cli, state)
    assert bao.request("LIST", "auth/new/role").json()["data"]["keys"] == ["keep"]
    assert "No changes." in planned(cli, state)


def test_a_saved_plan_with_a_move_applies(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, "version: 1\nauth_methods:\n  old:\n    type: userpass\n"))
    state = write_state(tmp_path, """version: 1
auth_methods:
  new: {type: userpass, description: people}
moved:
  - {from: auth_method/old, to: auth_method/new}
""")
    saved = tmp_path / "move.plan"
    assert cli("plan", "-f", str(state), "-o", str(saved)).code == 0
    result = cli("apply", str(saved))
    assert result.code == 0, result.err
    assert read(bao, "sys/auth")["new/"]["description"] == "people" and "old/" not in read(bao, "sys/auth")
    assert "No changes." in planned(cli, state)


def test_a_move_that_changes_the_type_is_refused(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, write_state(tmp_path, "version: 1\nsecrets_engines:\n  old-kv: {type: kv-v2}\n"))
    state = write_state(tmp_path, """version: 1
secrets_engines:
  kv: {type: transit}
moved:
  - {from: secrets_engine/old-kv, to: secrets_engine/kv}
""")
    result = cli("plan", "-f", str(state))
    assert result.code == 1 and "# replace" not in result.out
    assert ("  ~> secrets_engine/old-kv -> secrets_engine/kv\n      !! REFUSED: moved from secrets_engine/old-kv, but "
            'type cannot change on an enabled mount ("kv" -> "transit"): move it first') in result.out
    result = cli("apply", "-f", str(state), "--auto-approve", "--allow-destroy")
    assert result.code == 1 and "old-kv/" in read(bao, "sys/mounts")


def test_a_namespaced_auth_method_moves_with_its_roles(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    method = "type: approle\n        roles:\n          ci: {token_ttl: 1h}\n"
    applied(cli, write_state(tmp_path, f"version: 1\nnamespaces:\n  team-a:\n    auth_methods:\n      old:\n        {method}"))
    state = write_state(tmp_path, f"""version: 1
prune: {{auth_methods: true, auth_roles: true}}
namespaces:
  team-a:
    auth_methods:
      new:
        {method}moved:
  - {{from: "team-a:auth_method/old", to: "team-a:auth_method/new"}}
""")
    out = planned(cli, state)
    assert "~> team-a:auth_method/old -> team-a:auth_method/new" in out and "Plan: 0 to add, 1 to change, 0" in out
    applied(cli, state)
    headers = {"X-Vault-Token": bao.token, "X-Vault-Namespace": "team-a"}
    role = requests.get(f"{bao.address}/v1/auth/new/role/ci", headers=headers, timeout=10).json()
    assert role["data"]["token_ttl"] == 3600
    assert "No changes." in planned(cli, state)
