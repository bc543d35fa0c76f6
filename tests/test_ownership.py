"""Stacks, the inventory and `prune: owned` against a real OpenBao: two stacks on one server never
delete each other's objects, conflicts are refused unless adopted, and a failed apply's inventory
covers what it did write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest
import requests
from conftest import REVIEWER_JWT, Cli, write_state

from vault_state.errors import VaultApiError
from vault_state.inventory import stored_part
from vault_state.kinds.auth import _TYPES as AUTH_TYPES
from vault_state.kinds.generic import GenericEndpoint
from vault_state.kinds.identity import Alias
from vault_state.kinds.registry import DECLARED
from vault_state.plan.model import Call
from vault_state.sandbox import DevServer
from vault_state.spec.auth import AnyAuth
from vault_state.spec.engines import SecretsEngine, Tune
from vault_state.spec.models import Namespace
from vault_state.spec.policies import PolicyFile, StructuredPolicy
from vault_state.vault.gateway import Gateway

RULE = 'path "kv/*" { capabilities = ["read"] }'


def policies(names: list[str], rule: str = RULE) -> str:
    return "policies:\n" + "".join(f"  {n}: '{rule}'\n" for n in names)


def inventory(bao: DevServer, stack: str, namespace: str = "") -> dict[str, Any]:
    """The part of a stack's inventory kept in `namespace` (the ids of the objects there)."""
    response = requests.get(f"{bao.address}/v1/vault-state/data/inventory/{stack}", timeout=10,
                            headers={"X-Vault-Token": bao.token, "X-Vault-Namespace": namespace})
    if response.status_code != 200:
        return {}
    data: dict[str, Any] = response.json()["data"]["data"]
    data["ids"], data["fingerprints"] = stored_part(data)
    return data


def live_policies(bao: DevServer) -> set[str]:
    return set(bao.request("LIST", "sys/policies/acl").json()["data"]["keys"]) - {"default", "root"}


def stack_file(tmp_path: Path, name: str, body: str, prune: str = "owned") -> Path:
    return write_state(tmp_path, f"version: 1\nstack: {name}\nprune: {prune}\n{body}", f"{name}.yaml")


def test_two_stacks_with_owned_prune_never_delete_each_other(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    bao.request("POST", "sys/policies/acl/by-hand", {"policy": RULE})
    a = stack_file(tmp_path, "team-a", policies(["a-one", "a-two"]))
    b = stack_file(tmp_path, "team-b", policies(["b-one"]))
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    assert cli("apply", "-f", str(b), "--auto-approve").code == 0
    assert inventory(bao, "team-a")["ids"] == ["policy/a-one", "policy/a-two"]
    assert inventory(bao, "team-b")["ids"] == ["policy/b-one"]
    assert inventory(bao, "team-b")["tool_version"] and inventory(bao, "team-b")["updated"].endswith("Z")

    a.write_text(f"version: 1\nstack: team-a\nprune: owned\n{policies(['a-one'])}")
    planned = cli("plan", "-f", str(a))
    assert planned.code == 0, planned.err
    assert planned.out.startswith("Stack: team-a (its inventory holds 2 ids)\n"
                                  "this plan deletes 1 of them: policy/a-two\n\n"
                                  "vault-state will perform the following actions:\n")
    assert "  - policy/a-two" in planned.out and "b-one" not in planned.out and "by-hand" not in planned.out
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    assert live_policies(bao) == {"a-one", "b-one", "by-hand"}
    assert inventory(bao, "team-a")["ids"] == ["policy/a-one"]
    assert "No changes" in cli("plan", "-f", str(b)).out

    # The same file with `prune: true` is authoritative for the whole kind: it would delete the others.
    a.write_text(f"version: 1\nstack: team-a\nprune: {{policies: true}}\n{policies(['a-one'])}")
    wide = cli("plan", "-f", str(a))
    assert "  - policy/b-one" in wide.out and "  - policy/by-hand" in wide.out


def test_the_plan_names_the_default_stack(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, f"version: 1\n{policies(['x'])}")
    planned = cli("plan", "-f", str(state), "--json")
    assert json.loads(planned.out)["stack"] == {
        "name": "default", "inventory_ids": 0, "deletes_owned": [], "inventory": "none", "unreadable_namespaces": [],
        "fingerprints": True,
    }
    # Every text plan says it first, on stdout with the plan (a file without `stack:` too).
    planned = cli("plan", "-f", str(state))
    assert (planned.err, planned.out.splitlines()[:3]) == (
        "", ["Stack: default (no inventory yet)", "", "vault-state will perform the following actions:"])
    assert bao.request("GET", "vault-state/data/inventory/default").status_code == 404  # plan never writes
    applied = cli("apply", "-f", str(state), "--auto-approve", "--no-fingerprints")
    assert applied.out.startswith("Stack: default (no inventory yet; --no-fingerprints: write-only values neither "
                                  "compared nor recorded)\n\n")
    assert cli("plan", "-f", str(state)).out == ("Stack: default (its inventory holds 1 id)\n"
                                                 "No changes. The server matches the state file.\n")
    markdown = cli("plan", "-f", str(state), "--format", "markdown").out
    assert markdown.startswith("### vault-state plan\n\nStack: default (its inventory holds 1 id)\n\n**No changes.**")


def test_a_second_stack_is_refused_until_it_adopts(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    a = stack_file(tmp_path, "team-a", policies(["common", "a-only"]))
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    other_rule = 'path "kv/*" { capabilities = ["list"] }'
    b = stack_file(tmp_path, "team-b", policies(["common"], other_rule))
    planned = cli("plan", "-f", str(b))
    assert planned.code == 1
    assert ("!! REFUSED: conflict: stack team-a owns it; add policy/common to `adopt:` to move it to stack "
            "team-b, or remove it from this file") in planned.out
    applied = cli("apply", "-f", str(b), "--auto-approve")
    assert applied.code != 0 and "nothing was changed" in applied.err
    assert '"read"' in bao.request("GET", "sys/policies/acl/common").json()["data"]["policy"]

    b.write_text(f"version: 1\nstack: team-b\nprune: owned\nadopt: [policy/common]\n{policies(['common'], other_rule)}")
    planned = cli("plan", "-f", str(b))
    assert planned.code == 0 and "!! adopted: ownership moves from stack team-a to stack team-b" in planned.out
    assert cli("apply", "-f", str(b), "--auto-approve").code == 0
    assert inventory(bao, "team-a")["ids"] == ["policy/a-only"] and inventory(bao, "team-b")["ids"] == ["policy/common"]
    # team-a no longer declaring it, with owned prune, leaves it to team-b.
    a.write_text(f"version: 1\nstack: team-a\nprune: owned\n{policies(['a-only'])}")
    assert "No changes" in cli("plan", "-f", str(a)).out


def test_a_conflict_left_as_it_is_is_a_note(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    a = stack_file(tmp_path, "team-a", policies(["common"]))
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    b = stack_file(tmp_path, "team-b", policies(["common"]))
    planned = cli("plan", "-f", str(b))
    assert planned.code == 0
    assert "note: policy/common: conflict: stack team-a owns it" in planned.out
    assert cli("apply", "-f", str(b), "--auto-approve").code == 0
    assert inventory(bao, "team-b")["ids"] == [] and inventory(bao, "team-a")["ids"] == ["policy/common"]


def test_namespaced_ids_are_owned_too(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    body = "namespaces:\n  team:\n    " + policies(["inner"]).replace("\n  ", "\n      ")
    a = stack_file(tmp_path, "ns", body)
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    # Each namespace keeps the ids of its own objects (docs/ownership.md#namespaces).
    assert inventory(bao, "ns")["ids"] == ["namespace/team"]
    assert inventory(bao, "ns", "team")["ids"] == ["policy/inner"]
    assert "Stack: ns (its inventory holds 2 ids)\nNo changes." in cli("plan", "-f", str(a)).out


def test_the_inventory_covers_what_a_failed_apply_wrote(
    cli: Cli, bao: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = stack_file(tmp_path, "faulty", "secrets_engines:\n  kv: {type: kv, version: 2}\n" + policies(["p1", "p2"]))
    execute = Gateway.execute

    def failing(self: Gateway, call: Call) -> list[str]:
        if call.path.startswith("sys/policies/acl/"):  # the second stage fails: the mount stays written
            raise VaultApiError(call.method, call.path, 500, ["injected fault"])
        return execute(self, call)

    monkeypatch.setattr(Gateway, "execute", failing)
    assert cli("apply", "-f", str(state), "--auto-approve").code == 1
    monkeypatch.setattr(Gateway, "execute", execute)
    assert inventory(bao, "faulty")["ids"] == ["secrets_engine/kv"]
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    assert inventory(bao, "faulty")["ids"] == ["policy/p1", "policy/p2", "secrets_engine/kv"]


def test_prune_forms(offline_cli: Cli, tmp_path: Path) -> None:
    for prune in ("owned", "true", "false", "{policies: owned, auth_roles: true}"):
        state = write_state(tmp_path, f"version: 1\nprune: {prune}\n")
        assert offline_cli("validate", "-f", str(state)).code == 0, prune
    bad = write_state(tmp_path, "version: 1\nprune: {policies: mine}\n")
    assert offline_cli("validate", "-f", str(bad)).code == 1
    bad_stack = write_state(tmp_path, "version: 1\nstack: 'a/b'\n")
    result = offline_cli("validate", "-f", str(bad_stack))
    assert result.code == 1 and "invalid stack name 'a/b'" in result.err


def test_the_mass_change_guard_refuses_a_truncated_file(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    names = [f"p{i:02}" for i in range(12)]
    state = stack_file(tmp_path, "big", policies(names))
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    state.write_text(f"version: 1\nstack: big\nprune: owned\n{policies(names[:7])}")
    refused = cli("apply", "-f", str(state), "--auto-approve")
    assert refused.code == 1
    assert ("refused: this plan deletes or replaces 5 of the 13 policy objects on the server (38%, more than 30%); "
            "pass --allow-mass-change if that is meant") in refused.err
    assert len(live_policies(bao)) == 12
    state.write_text(f"version: 1\nstack: big\nprune: owned\nmass_change: {{percent: 40}}\n{policies(names[:7])}")
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0  # the file's threshold lets it run
    assert len(live_policies(bao)) == 7
    state.write_text(f"version: 1\nstack: big\nprune: owned\nmass_change: {{minimum: 5}}\n{policies(names[:2])}")
    assert "5 of the 8 policy objects on the server (62%" in cli("apply", "-f", str(state), "--auto-approve").err
    assert cli("apply", "-f", str(state), "--auto-approve", "--allow-mass-change").code == 0
    assert live_policies(bao) == {"p00", "p01"}


def test_adopt_and_inventory_commands(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    bao.request("POST", "sys/policies/acl/by-hand", {"policy": RULE})
    a = stack_file(tmp_path, "team-a", policies(["a-one"]))
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    b = stack_file(tmp_path, "team-b", policies(["by-hand", "a-one", "new"]))
    assert cli("adopt", "-f", str(b), "policy/new").code == 1  # not on the server yet
    assert "not declared by" in cli("adopt", "-f", str(b), "policy/other").err
    adopted = cli("adopt", "-f", str(b), "--all")
    assert adopted.code == 0, adopted.err
    assert adopted.out == "adopted policy/a-one from stack team-a\nadopted policy/by-hand\nstack team-b owns 2 more ids\n"
    listed = cli("inventory")
    assert listed.code == 0
    lines = listed.out.splitlines()
    assert lines[0].startswith("team-a: 0 ids, 0 fingerprints (updated ") and lines[1].startswith("team-b: 2 ids")
    assert lines[2:] == ["  policy/a-one", "  policy/by-hand"]
    b.write_text(f"version: 1\nstack: team-b\nprune: owned\n{policies(['new'])}")
    planned = cli("plan", "-f", str(b))
    assert "  - policy/a-one" in planned.out and "  - policy/by-hand" in planned.out and "  + policy/new" in planned.out


ENGINE = "secrets_engines:\n  kv: {type: kv, version: 2, description: %s%s}\n"
TRANSIT = "  tr:\n    type: transit\n    transit:\n      keys:\n        k: {deletion_allowed: %s%s}\n"


def test_adopt_true_on_an_object_takes_it_over(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    a = stack_file(tmp_path, "team-a", ENGINE % ("a", "") + TRANSIT % ("false", ""))
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    b = stack_file(tmp_path, "team-b", ENGINE % ("b", "") + TRANSIT % ("true", ""))
    refused = cli("plan", "-f", str(b))
    assert refused.code == 1
    assert ("!! REFUSED: conflict: stack team-a owns it; add secrets_engine/kv to `adopt:` to move it to stack team-b"
            in refused.out)
    assert "add transit_key/tr/k to `adopt:`" in refused.out

    # `adopt: true` on the object means the same as its id in `adopt:`; it is not a value of the object.
    b.write_text(f"version: 1\nstack: team-b\nprune: owned\n{ENGINE % ('b', ', adopt: true')}"
                 f"{TRANSIT % ('true', ', adopt: true')}")
    planned = cli("plan", "-f", str(b))
    assert planned.code == 0, planned.out
    assert planned.out.count("!! adopted: ownership moves from stack team-a to stack team-b") == 2
    assert "adopt" not in json.dumps(json.loads(cli("plan", "-f", str(b), "--json").out)["changes"][0]["after"])
    assert cli("apply", "-f", str(b), "--auto-approve").code == 0
    assert inventory(bao, "team-a")["ids"] == ["secrets_engine/tr"]
    assert inventory(bao, "team-b")["ids"] == ["secrets_engine/kv", "transit_key/tr/k"]
    assert "adopt" not in cli("export").out
    # team-a's owned prune no longer deletes what team-b took over.
    a.write_text("version: 1\nstack: team-a\nprune: owned\nsecrets_engines:\n  tr: {type: transit}\n")
    assert "No changes" in cli("plan", "-f", str(a)).out


def test_every_object_model_takes_adopt() -> None:
    """Every kind whose file form is a mapping takes `adopt: true` (the one exception: token_auth's
    tune, the engines' and auth methods' own `tune` section's model)."""
    mapped = {kind.model for kind in DECLARED if kind.name != "token_auth"}
    mapped |= {SecretsEngine, Namespace, StructuredPolicy, PolicyFile, GenericEndpoint, Alias, *get_args(AnyAuth)}
    mapped |= {t.role_model for t in AUTH_TYPES.values() if t.role_model is not None}
    missing = sorted(m.__name__ for m in mapped if "adopt" not in m.model_fields)
    assert missing == []
    assert Tune.model_fields.keys().isdisjoint({"adopt"})


MOVED_K8S = """version: 1
stack: k8s
prune: owned
auth_methods:
  %s:
    type: kubernetes
    config:
      kubernetes_host: https://k8s.example:6443
      kubernetes_ca_cert: {file: ca.crt, sensitive: false}
      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}
    roles:
      r: {bound_service_account_names: [web], bound_service_account_namespaces: [prod]}
policies:
  %s: 'path "kv/*" { capabilities = ["read"] }'
"""


def test_moved_carries_ownership_and_fingerprints(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, MOVED_K8S % ("k8s-old", "old"))
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    assert inventory(bao, "k8s")["ids"] == ["auth_method/k8s-old", "auth_role/k8s-old/r", "policy/old"]
    old_print = inventory(bao, "k8s")["fingerprints"]["auth_method/k8s-old#config.token_reviewer_jwt"]

    moves = "moved:\n  - {from: auth_method/k8s-old, to: auth_method/k8s-new}\n  - {from: policy/old, to: policy/new}\n"
    state.write_text(MOVED_K8S % ("k8s-new", "new") + moves)
    planned = cli("plan", "-f", str(state))
    assert planned.code == 0, planned.out
    assert "  ~> auth_method/k8s-old -> auth_method/k8s-new\n" in planned.out
    assert "sensitive, changed" not in planned.out and "not tracked" not in planned.out
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    recorded = inventory(bao, "k8s")
    assert recorded["ids"] == ["auth_method/k8s-new", "auth_role/k8s-new/r", "policy/new"]
    assert list(recorded["fingerprints"]) == ["auth_method/k8s-new#config.token_reviewer_jwt"]
    assert recorded["fingerprints"]["auth_method/k8s-new#config.token_reviewer_jwt"] != old_print  # the MAC binds the id
    after = cli("plan", "-f", str(state))
    assert after.out == "Stack: k8s (its inventory holds 3 ids)\nNo changes. The server matches the state file.\n"

    # The carried fingerprint still tells a rotated JWT, and `prune: owned` owns the moved method.
    rotated = cli("plan", "-f", str(state), env={"TOKEN_REVIEWER_JWT": REVIEWER_JWT.replace("4f1c2b", "rotated")})
    assert "  ~ auth_method/k8s-new\n      ~ config.token_reviewer_jwt: (sensitive, changed)\n" in rotated.out
    state.write_text("version: 1\nstack: k8s\nprune: owned\n")
    gone = cli("plan", "-f", str(state))
    assert "  - auth_method/k8s-new" in gone.out and "  - policy/new" in gone.out
    # What apply deletes leaves the inventory with its fingerprints.
    assert cli("apply", "-f", str(state), "--auto-approve", "--allow-destroy").code == 0
    assert (inventory(bao, "k8s")["ids"], inventory(bao, "k8s")["fingerprints"]) == ([], {})


def test_moving_another_stacks_object_needs_adopt(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    a = stack_file(tmp_path, "team-a", policies(["joint"]))
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    moved = "moved:\n  - {from: policy/joint, to: policy/renamed}\n"
    b = stack_file(tmp_path, "team-b", policies(["renamed"]) + moved)
    refused = cli("plan", "-f", str(b))
    assert refused.code == 1
    assert ("!! REFUSED: conflict: stack team-a owns policy/joint; add policy/renamed to `adopt:` to move it to "
            "stack team-b, or remove the `moved:` entry") in refused.out
    b.write_text(f"version: 1\nstack: team-b\nadopt: [policy/renamed]\n{policies(['renamed'])}{moved}")
    planned = cli("plan", "-f", str(b))
    assert planned.code == 0 and "!! adopted: ownership moves from stack team-a to stack team-b" in planned.out
    assert cli("apply", "-f", str(b), "--auto-approve").code == 0
    assert inventory(bao, "team-a")["ids"] == [] and inventory(bao, "team-b")["ids"] == ["policy/renamed"]


def test_stacks_at_the_root_and_inside_a_namespace_see_each_others_objects(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    """Each namespace keeps the inventories of its own objects: a stack connected at the root that
    declares `namespaces: {team-a: ...}` and one connected with `--namespace team-a` find each
    other's ownership of the same objects there."""
    root = write_state(tmp_path, "version: 1\nstack: platform\nprune: owned\nnamespaces:\n  team-a:\n    "
                       + policies(["joint"]).replace("\n  ", "\n      "), "platform.yaml")
    assert cli("apply", "-f", str(root), "--auto-approve").code == 0
    assert inventory(bao, "platform")["ids"] == ["namespace/team-a"]
    assert inventory(bao, "platform", "team-a")["ids"] == ["policy/joint"]

    inside = stack_file(tmp_path, "team-a", policies(["joint", "own"], 'path "kv/*" { capabilities = ["list"] }'))
    refused = cli("plan", "-f", str(inside), "--namespace", "team-a")
    assert refused.code == 1
    assert refused.out.startswith("Stack: team-a (no inventory yet)\n")
    assert "!! REFUSED: conflict: stack platform owns it; add policy/joint to `adopt:`" in refused.out
    inside.write_text(inside.read_text().replace("policies:", "policies:\n  joint:\n    path: {kv/*: {capabilities: "
                                                  "[list]}}\n    adopt: true", 1).replace("  joint: 'path", "  x: 'path"))
    assert cli("validate", "-f", str(inside)).code == 0
    planned = cli("plan", "-f", str(inside), "--namespace", "team-a")
    assert planned.code == 0 and "!! adopted: ownership moves from stack platform to stack team-a" in planned.out
    assert cli("apply", "-f", str(inside), "--namespace", "team-a", "--auto-approve").code == 0
    assert sorted(inventory(bao, "team-a", "team-a")["ids"]) == ["policy/joint", "policy/own", "policy/x"]
    assert inventory(bao, "platform", "team-a")["ids"] == []

    # The root stack now sees team-a's objects in the namespace: a conflict, and never a delete.
    root.write_text(root.read_text() + "      own: 'path \"kv/*\" { capabilities = [\"read\"] }'\n")
    seen = cli("plan", "-f", str(root))
    assert "!! REFUSED: conflict: stack team-a owns it; add team-a:policy/own to `adopt:`" in seen.out
    root.write_text("version: 1\nstack: platform\nprune: owned\nnamespaces:\n  team-a: {}\n")
    assert cli("plan", "-f", str(root)).out == ("Stack: platform (its inventory holds 1 id)\n"
                                                "No changes. The server matches the state file.\n")
    listed = cli("inventory").out.splitlines()
    assert [line for line in listed if line.startswith("  ")] == [
        "  namespace/team-a", "  team-a:policy/joint", "  team-a:policy/own", "  team-a:policy/x"]
    # Owned prune deletes the namespace it owns only without other stacks' objects in it (Vault
    # deletes a namespace with everything inside).
    root.write_text("version: 1\nstack: platform\nprune: owned\n")
    guarded = cli("plan", "-f", str(root))
    assert guarded.code == 1
    assert ("!! REFUSED: prune: owned would delete, with the namespace, objects other stacks own: "
            "team-a:policy/joint (stack team-a), team-a:policy/own (stack team-a), team-a:policy/x (stack team-a); "
            "they leave it first (or adopt them), or use prune: {namespaces: true}") in guarded.out
    inside.write_text("version: 1\nstack: team-a\nprune: owned\n")
    assert cli("apply", "-f", str(inside), "--namespace", "team-a", "--auto-approve").code == 0
    assert cli("apply", "-f", str(root), "--auto-approve", "--allow-destroy").code == 0
    assert inventory(bao, "platform")["ids"] == []


def test_a_token_that_may_not_read_the_inventories_says_so(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, f"version: 1\n{policies(['x'])}")
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    rules = 'path "sys/policies/acl" { capabilities = ["list"] }\npath "sys/policies/acl/*" { capabilities = ["read"] }'
    bao.request("POST", "sys/policies/acl/policies-only", {"policy": rules})
    token = bao.request("POST", "auth/token/create", {"policies": ["policies-only"], "no_default_policy": True})
    env = {"VAULT_TOKEN": str(token.json()["auth"]["client_token"])}
    planned = cli("plan", "-f", str(state), env=env)
    assert (planned.code, planned.err) == (0, "")
    assert planned.out == ("Stack: default (its inventory is not readable with this token: no conflicts with other "
                           "stacks or fingerprints checked)\nNo changes. The server matches the state file.\n")
    assert json.loads(cli("plan", "-f", str(state), "--json", env=env).out)["stack"]["inventory"] == "unreadable"
    # A file that relies on ownership cannot plan without them.
    state.write_text(f"version: 1\nstack: default\n{policies(['x'])}")
    refused = cli("plan", "-f", str(state), env=env)
    assert refused.code == 1 and "vault-state/metadata/inventory" in refused.err and "403" in refused.err


def test_an_object_inside_a_moved_mount_keeps_its_owner(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    method = "auth_methods:\n  %s:\n    type: userpass\n%s"
    a = stack_file(tmp_path, "team-a", method % ("up-old", ""))
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    # team-b declares the same method as it is (a note, nothing written) and a user of its own in it.
    b = stack_file(tmp_path, "team-b", method % ("up-old", "    users:\n      bob: {password: {env: BOB}}\n"))
    applied = cli("apply", "-f", str(b), "--auto-approve", env={"BOB": "bob-pa55-SECRET-33"})
    assert applied.code == 0 and "note: auth_method/up-old: conflict: stack team-a owns it" in applied.out
    assert list(inventory(bao, "team-b")["fingerprints"]) == ["auth_role/up-old/bob#password"]

    a.write_text(f"version: 1\nstack: team-a\n{method % ('up-new', '')}"
                 "moved:\n  - {from: auth_method/up-old, to: auth_method/up-new}\n")
    assert cli("apply", "-f", str(a), "--auto-approve").code == 0
    assert inventory(bao, "team-a")["ids"] == ["auth_method/up-new"]
    assert inventory(bao, "team-b") | {"updated": "", "tool_version": ""} == {
        "stack": "team-b", "format": 2, "ids": ["auth_role/up-new/bob"], "fingerprints": {}, "updated": "", "tool_version": ""}


def test_an_inventory_of_an_earlier_version_is_read_and_moved_to_its_namespaces(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    body = "namespaces:\n  team:\n    " + policies(["inner"]).replace("\n  ", "\n      ")
    state = stack_file(tmp_path, "old", body)
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    # As earlier versions kept it: every id in the entry of the connection's namespace.
    bao.request("POST", "vault-state/data/inventory/old", {"data": {
        "stack": "old", "ids": ["namespace/team", "team:policy/inner"], "fingerprints": {}, "updated": "x"}})
    requests.delete(f"{bao.address}/v1/vault-state/metadata/inventory/old", timeout=10,
                    headers={"X-Vault-Token": bao.token, "X-Vault-Namespace": "team"})
    assert cli("plan", "-f", str(state)).out.startswith("Stack: old (its inventory holds 2 ids)\nNo changes.")
    state.write_text(state.read_text().replace("namespaces:", policies(["outer"]) + "namespaces:", 1))
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    assert inventory(bao, "old")["ids"] == ["namespace/team", "policy/outer"]
    assert inventory(bao, "old", "team")["ids"] == ["policy/inner"]


def test_inventories_unreadable_in_one_namespace_are_named(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, "version: 1\n" + policies(["top"]) + "namespaces:\n  team-a:\n    "
                        + policies(["inner"]).replace("\n  ", "\n      "))
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    # Policies everywhere, the inventories at the root only (a root policy names team-a's paths with its prefix).
    rules = "\n".join(f'path "{p}" {{ capabilities = [{c}] }}' for p, c in [
        ("sys/policies/acl", '"list"'), ("sys/policies/acl/*", '"read"'),
        ("sys/namespaces", '"list"'), ("sys/namespaces/*", '"read"'),
        ("team-a/sys/policies/acl", '"list"'), ("team-a/sys/policies/acl/*", '"read"'),
        ("vault-state/metadata/inventory", '"list"'), ("vault-state/data/inventory/*", '"read"')])
    bao.request("POST", "sys/policies/acl/root-inventories", {"policy": rules})
    token = bao.request("POST", "auth/token/create", {"policies": ["root-inventories"], "no_default_policy": True})
    planned = cli("plan", "-f", str(state), env={"VAULT_TOKEN": str(token.json()["auth"]["client_token"])})
    assert (planned.code, planned.err) == (0, ""), planned.err
    assert planned.out.splitlines()[0] == ("Stack: default (its inventory holds 2 ids; inventories in namespace team-a "
                                           "are not readable with this token: no conflicts checked there)")


def test_an_inventory_the_token_may_not_list_is_never_overwritten(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A file that does not rely on ownership plans without the inventories when the token may not
    list them; apply must then not write its stack's inventory over what it could not read."""
    assert cli("apply", "-f", str(stack_file(tmp_path, "default", policies(["keep"]))), "--auto-approve").code == 0
    assert inventory(bao, "default")["ids"] == ["policy/keep"]
    bao.request("POST", "sys/policies/acl/no-inventory-list", {"policy": (
        'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }\n'
        'path "vault-state/metadata/inventory" { capabilities = ["deny"] }\n')})
    token = bao.request("POST", "auth/token/create", {"policies": ["no-inventory-list"]}).json()["auth"]["client_token"]
    plain = write_state(tmp_path, "version: 1\n" + policies(["keep", "other"]), "plain.yaml")
    applied = cli("apply", "-f", str(plain), "--auto-approve", env={"VAULT_TOKEN": token})
    assert applied.code == 0, applied.err
    assert applied.out.startswith("Stack: default (its inventory is not readable with this token"), applied.out
    assert ("warning: the inventory of stack default was not updated in the namespace it connects to: the token "
            "may not list vault-state/metadata/inventory") in applied.err
    assert inventory(bao, "default")["ids"] == ["policy/keep"]  # what it could not read is still there
