"""Identity (entities, aliases, groups) and templated policies, against a real OpenBao server.

Everything is named in the file; the tests check on the server that the ids Vault needs
(mount accessors, canonical ids, member ids) were resolved, that a real login gets what the
file grants, and that bad references are located errors with nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, read

from vault_state.apply import apply_stages
from vault_state.plan.deferred import UNKNOWN, Deferred, Fact, UnsettledFact, fact, settle_call
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.plan.planner import plan
from vault_state.sandbox import DevServer
from vault_state.spec.models import Prune

PASSWORD = "alice-pass-SECRET-7"
ENV = {"ALICE_PASSWORD": PASSWORD}
TEMPLATED = (
    'path "secret/data/{{identity.entity.aliases.${auth/userpass/@accessor}.name}}/*" {\n'
    '  capabilities = ["read"]\n'
    "}\n"
)


def write(tmp: Path, doc: dict[str, Any], name: str = "state.yaml") -> Path:
    path = tmp / name
    path.write_text(json.dumps({"version": 1, **doc}, indent=1))  # JSON is YAML
    return path


def userpass(*users: str) -> dict[str, Any]:
    return {"userpass": {"type": "userpass", "users": {u: {"password": {"env": "ALICE_PASSWORD"}} for u in users}}}


def apply(cli: Cli, state: Path, *extra: str) -> str:
    result = cli("apply", "-f", str(state), "--auto-approve", *extra, env=ENV)
    assert result.code == 0, result.out + result.err
    return result.out


def assert_empty(cli: Cli, state: Path) -> None:
    result = cli("plan", "-f", str(state), "--detailed-exitcode", env=ENV)
    assert result.code == 0 and "No changes." in result.out, result.out + result.err


def accessor(bao: DevServer, mount: str) -> str:
    return str(read(bao, "sys/auth")[f"{mount}/"]["accessor"])


def login(bao: DevServer, user: str) -> dict[str, Any]:
    response = bao.request("POST", f"auth/userpass/login/{user}", {"password": PASSWORD})
    auth: dict[str, Any] = response.json()["auth"]
    return auth


def test_alias_to_a_mount_of_the_same_apply_and_a_templated_policy_grant_a_real_login(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    doc = {
        "secrets_engines": {"secret": {"type": "kv-v2"}},
        "policies": {"own-secrets": TEMPLATED},
        "auth_methods": userpass("alice"),
        "identity": {"entities": {"alice": {
            "policies": ["own-secrets"], "metadata": {"team": "payments"},
            "aliases": [{"mount": "userpass", "name": "alice"}],
        }}},
    }
    state = write(tmp_path, doc)
    planned = cli("plan", "-f", str(state), env=ENV)
    assert planned.code == 0, planned.err
    assert f'mount_accessor = "{UNKNOWN}"' in planned.out
    assert f"secret/data/{{{{identity.entity.aliases.{UNKNOWN}.name}}}}/*" in planned.out
    # The policy naming the new auth method is written after it, before the roles.
    order = [line.strip() for line in planned.out.splitlines() if line.startswith("  + ")]
    assert order.index("+ policy/own-secrets") > order.index("+ auth_method/userpass")
    assert order.index("+ policy/own-secrets") < order.index("+ auth_role/userpass/alice")
    apply(cli, state)
    assert_empty(cli, state)

    acc = accessor(bao, "userpass")
    policy = read(bao, "sys/policies/acl/own-secrets")["policy"]
    assert f"identity.entity.aliases.{acc}.name" in policy and "${" not in policy
    entity = read(bao, "identity/entity/name/alice")
    (alias,) = entity["aliases"]
    assert (alias["mount_accessor"], alias["canonical_id"], alias["name"]) == (acc, entity["id"], "alice")

    # An alias renamed behind the tool's back shows its name, and is repaired in place.
    bao.request("POST", f"identity/entity-alias/id/{alias['id']}",
                {"name": "al", "mount_accessor": acc, "canonical_id": entity["id"]})
    drifted = cli("plan", "-f", str(state), env=ENV)
    assert '~ identity_entity_alias/alice/userpass' in drifted.out and '~ name: "al" -> "alice"' in drifted.out
    apply(cli, state)
    assert_empty(cli, state)
    assert read(bao, "identity/entity/name/alice")["aliases"][0]["id"] == alias["id"]

    # A real login through userpass lands on the declared entity and the templated path grants
    # alice her own secrets and nobody else's.
    bao.request("POST", "secret/data/alice/db", {"data": {"v": "mine"}})
    bao.request("POST", "secret/data/bob/db", {"data": {"v": "not mine"}})
    auth = login(bao, "alice")
    assert auth["entity_id"] == entity["id"] and "own-secrets" in auth["identity_policies"]
    token = {"X-Vault-Token": auth["client_token"]}
    import requests

    mine = requests.get(f"{bao.address}/v1/secret/data/alice/db", headers=token, timeout=10)
    other = requests.get(f"{bao.address}/v1/secret/data/bob/db", headers=token, timeout=10)
    assert mine.status_code == 200 and mine.json()["data"]["data"] == {"v": "mine"}
    assert other.status_code == 403

    # With the mount live, a placeholder resolves at plan time: the plan shows the real accessor.
    doc["policies"]["second"] = TEMPLATED
    shown = cli("plan", "-f", str(write(tmp_path, doc)), env=ENV)
    assert f"identity.entity.aliases.{acc}.name" in shown.out and UNKNOWN not in shown.out


def test_group_members_are_names_in_the_file_and_ids_on_the_server(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    # `admins` names `ops`, created in the same apply: written after it.
    doc: dict[str, Any] = {"identity": {
        "entities": {"alice": {}, "bob": {}},
        "groups": {
            "admins": {"policies": ["admin"], "member_entities": ["alice"], "member_groups": ["ops"]},
            "ops": {"member_entities": ["bob", "alice"]},
        },
    }}
    state = write(tmp_path, doc)
    apply(cli, state, "--parallelism", "4")
    assert_empty(cli, state)
    ids = {n: read(bao, f"identity/entity/name/{n}")["id"] for n in ("alice", "bob")}
    admins, ops = read(bao, "identity/group/name/admins"), read(bao, "identity/group/name/ops")
    assert admins["member_entity_ids"] == [ids["alice"]] and admins["member_group_ids"] == [ops["id"]]
    assert sorted(ops["member_entity_ids"]) == sorted(ids.values())

    # Drift: a member removed behind the tool's back shows by name, never by id, and is repaired.
    bao.request("POST", "identity/group/name/ops", {"member_entity_ids": [ids["bob"]]})
    drifted = cli("plan", "-f", str(state), env=ENV)
    assert '~ member_entities: ["bob"] -> ["alice", "bob"]' in drifted.out, drifted.out
    assert ids["alice"] not in drifted.out
    apply(cli, state)
    assert_empty(cli, state)

    # Removing members from the file removes them on the server.
    doc["identity"]["groups"]["ops"] = {}
    apply(cli, write(tmp_path, doc))
    assert not read(bao, "identity/group/name/ops")["member_entity_ids"]


def test_external_group_alias_and_a_type_change_re_creates_the_group(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    doc: dict[str, Any] = {"auth_methods": userpass(), "identity": {"groups": {"platform": {"policies": ["p"]}}}}
    apply(cli, write(tmp_path, doc))
    old_id = read(bao, "identity/group/name/platform")["id"]

    doc["identity"]["groups"]["platform"] = {
        "type": "external", "policies": ["p"], "alias": {"mount": "userpass", "name": "platform-team"},
    }
    state = write(tmp_path, doc)
    planned = cli("plan", "-f", str(state), env=ENV)
    assert "-/+ identity_group/platform" in planned.out, planned.out
    assert "identity_group/platform: changing type re-creates the group: its id changes and its alias is re-created" \
        in planned.out
    assert "+ identity_group_alias/platform" in planned.out
    apply(cli, state)  # a group holds no data: no --allow-destroy needed
    assert_empty(cli, state)
    group = read(bao, "identity/group/name/platform")
    assert group["id"] != old_id and group["type"] == "external"
    assert (group["alias"]["name"], group["alias"]["mount_accessor"]) == ("platform-team", accessor(bao, "userpass"))

    # The alias renamed behind the tool's back is repaired in place.
    bao.request("POST", f"identity/group-alias/id/{group['alias']['id']}",
                {"name": "other", "mount_accessor": accessor(bao, "userpass"), "canonical_id": group["id"]})
    drifted = cli("plan", "-f", str(state), env=ENV)
    assert '~ name: "other" -> "platform-team"' in drifted.out, drifted.out
    apply(cli, state)
    assert_empty(cli, state)


def test_an_alias_a_login_created_moves_to_the_declared_entity_and_the_plan_says_so(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    base: dict[str, Any] = {"auth_methods": userpass("alice")}
    apply(cli, write(tmp_path, base))
    first = login(bao, "alice")  # Vault creates entity_<id> with the alias userpass/alice
    created = read(bao, f"identity/entity/id/{first['entity_id']}")["name"]

    doc = {**base, "identity": {"entities": {"alice": {"aliases": [{"mount": "userpass", "name": "alice"}]}}}}
    state = write(tmp_path, doc)
    planned = cli("plan", "-f", str(state), env=ENV)
    assert f'~ entity: "{created}" -> "alice"' in planned.out, planned.out
    assert (f"identity_entity_alias/alice/userpass: the alias userpass/alice belongs to entity '{created}' on the "
            "server (merged, renamed or created by a login); apply moves it to 'alice'") in planned.out
    apply(cli, state)
    assert_empty(cli, state)
    assert login(bao, "alice")["entity_id"] == read(bao, "identity/entity/name/alice")["id"]
    # The entity the login created is not in the file: left alone without prune.
    assert read(bao, f"identity/entity/name/{created}")


def test_prune_deletes_login_entities_and_undeclared_aliases_only_when_asked(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    base: dict[str, Any] = {"auth_methods": userpass("alice", "bob"), "identity": {"entities": {"alice": {
        "aliases": [{"mount": "userpass", "name": "alice"}],
    }}}}
    apply(cli, write(tmp_path, base))
    created = read(bao, f"identity/entity/id/{login(bao, 'bob')['entity_id']}")["name"]
    alice = read(bao, "identity/entity/name/alice")
    # A second alias on alice, made behind the tool's back.
    bao.request("POST", "sys/auth/up2", {"type": "userpass"})
    bao.request("POST", "identity/entity-alias",
                {"name": "al", "mount_accessor": accessor(bao, "up2"), "canonical_id": alice["id"]})

    state = write(tmp_path, base)
    assert_empty(cli, state)  # prune off: nothing deleted

    pruned = write(tmp_path, {**base, "prune": {"identity_entities": True, "identity_entity_aliases": True}})
    planned = cli("plan", "-f", str(pruned), env=ENV)
    assert f"- identity_entity/{created}" in planned.out and "- identity_entity_alias/alice/up2" in planned.out
    assert "identity_entity_alias/alice/userpass" not in planned.out
    apply(cli, pruned)
    assert_empty(cli, pruned)
    assert not read(bao, f"identity/entity/name/{created}")
    assert [a["name"] for a in read(bao, "identity/entity/name/alice")["aliases"]] == ["alice"]


BAD: dict[str, tuple[str, str]] = {
    "alias mount": (
        'version: 1\nidentity:\n  entities:\n    alice:\n      aliases:\n        - {mount: oidc, name: a}\n',
        "6:19: entity 'alice': alias mount 'oidc' is an auth method this file does not declare and the server "
        "does not have",
    ),
    "group alias mount": (
        "version: 1\nidentity:\n  groups:\n    ext:\n      type: external\n      alias: {mount: ldap, name: x}\n",
        "6:22: group 'ext': alias mount 'ldap' is an auth method this file does not declare and the server "
        "does not have",
    ),
    "member entity": (
        "version: 1\nidentity:\n  groups:\n    admins:\n      member_entities: [alice, carol]\n",
        "5:32: group 'admins' names entity 'carol', which this file does not declare and the server does not have",
    ),
    "member group": (
        "version: 1\nidentity:\n  groups:\n    admins:\n      member_groups:\n        - ops\n",
        "6:11: group 'admins' names group 'ops', which this file does not declare and the server does not have",
    ),
    "name case": (
        "version: 1\nidentity:\n  entities:\n    alice: {}\n",
        "4:5: entity 'alice' is 'Alice' on the server (Vault finds names in any case and keeps the case first "
        "written): write 'Alice'",
    ),
    "placeholder": (
        'version: 1\npolicies:\n  p: |\n    path "a/{{identity.entity.aliases.${auth/kubernetes/@accessor}.name}}" {\n'
        '      capabilities = ["read"]\n    }\n',
        "4:39: policy 'p': ${auth/kubernetes/@accessor} names auth method 'kubernetes', which this file does not "
        "declare and the server does not have",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_unknown_names_are_located_errors_and_nothing_is_written(
    name: str, cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    text, message = BAD[name]
    if name == "member entity":
        bao.request("POST", "identity/entity/name/alice", {})  # on the server only: a known name
    if name == "name case":
        bao.request("POST", "identity/entity/name/Alice", {})
    state = tmp_path / "state.yaml"
    state.write_text(text)
    before = {p: bao.request("LIST", p).json().get("data") for p in ("identity/entity/name", "identity/group/name")}
    for command in (("plan",), ("apply", "--auto-approve")):
        result = cli(*command, "-f", str(state))
        assert (result.code, result.err.strip()) == (1, f"{state}:{message}"), result.err
    assert {p: bao.request("LIST", p).json().get("data") for p in before} == before
    assert "p" not in bao.request("LIST", "sys/policies/acl").json()["data"]["keys"]


# --- the facts mechanism, without a server --------------------------------------------------------

USERPASS = ResourceId("auth_method", "userpass")


def test_a_deferred_value_settles_what_is_known_and_shows_the_rest() -> None:
    text = Deferred(("a.", Fact(USERPASS, "accessor"), ".b"))
    assert text.shown == f"a.{UNKNOWN}.b"
    assert text.settle(lambda f: None) == text
    assert text.settle(lambda f: "auth_userpass_1") == "a.auth_userpass_1.b"
    call = Call("POST", "identity/entity-alias", {"mount_accessor": fact(USERPASS, "accessor"), "name": "x"})
    assert settle_call(call, lambda f: "acc").body == {"mount_accessor": "acc", "name": "x"}
    with pytest.raises(UnsettledFact, match="needs the accessor of auth_method/userpass, which does not exist"):
        settle_call(call, lambda f: None)


def test_the_planner_fills_live_facts_and_waits_for_created_objects() -> None:
    policy = ResourceId("policy", "p")
    desired = {
        USERPASS: Resource(USERPASS, {"type": "userpass"}),
        policy: Resource(policy, {"policy": Deferred(("x ", Fact(USERPASS, "accessor")))}),
    }
    live = {USERPASS: Resource(USERPASS, {"type": "userpass"}, facts={"accessor": "auth_userpass_9"})}
    settled = plan(desired, live, Prune())
    (change,) = settled.actionable
    assert change.after is not None and change.after.values == {"policy": "x auth_userpass_9"}

    created = plan(desired, {}, Prune())
    assert [c.id for c in created.changes] == [USERPASS, policy]  # the policy waits for the mount
    assert created.changes[1].after is not None
    assert isinstance(created.changes[1].after.values["policy"], Deferred)


def test_a_change_needing_one_of_its_own_stage_starts_a_new_stage() -> None:
    def group(name: str, *needs: str) -> Change:
        rid = ResourceId("identity_group", name)
        after = Resource(rid, {}, needs=tuple(ResourceId("identity_group", n) for n in needs))
        return Change(rid, Action.CREATE, None, after)

    stages = apply_stages((group("a"), group("b"), group("c", "a"), group("d")))
    assert [[c.id.path for c in stage] for stage in stages] == [["a", "b"], ["c", "d"]]


def test_a_saved_plan_with_values_known_after_apply_applies_and_json_shows_them(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    doc = {
        "policies": {"own": TEMPLATED},
        "auth_methods": userpass(),
        "identity": {
            "entities": {"alice": {"aliases": [{"mount": "userpass", "name": "alice"}]}},
            "groups": {"ext": {"type": "external", "alias": {"mount": "userpass", "name": "team"}}},
        },
    }
    state = write(tmp_path, doc)
    shown = cli("plan", "-f", str(state), "--json", env=ENV)
    changes = {c["id"]: c for c in json.loads(shown.out)["changes"]}
    assert changes["identity_entity_alias/alice/userpass"]["after"]["mount_accessor"] == UNKNOWN
    assert UNKNOWN in changes["policy/own"]["after"]["policy"]
    saved = tmp_path / "plan.json"
    assert cli("plan", "-f", str(state), "--out", str(saved), env=ENV).code == 0
    applied = cli("apply", str(saved), env=ENV)
    assert applied.code == 0, applied.out + applied.err
    assert_empty(cli, state)
    acc = accessor(bao, "userpass")
    group = read(bao, "identity/group/name/ext")
    assert (group["alias"]["name"], group["alias"]["mount_accessor"]) == ("team", acc)
    assert f"aliases.{acc}.name" in read(bao, "sys/policies/acl/own")["policy"]


def test_an_entity_policy_the_file_and_server_lack_is_a_warning(offline_cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "state.yaml"
    state.write_text("version: 1\nidentity:\n  groups:\n    g:\n      policies: [admin]\n")
    result = offline_cli("validate", "-f", str(state))
    assert result.code == 0
    assert result.err == (
        f"{state}:5:18: warning: group 'g' names policy 'admin', which this file does not declare [unknown-policy]\n"
    )
