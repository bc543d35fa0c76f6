"""Generic endpoints against a real OpenBao server: declared keys only, as Vault returns them.

OIDC keys and roles (identity/oidc/...), a kubernetes secrets engine's config (a write-only JWT)
and a KV v1 secret (where a write-only value can be read back, to prove it was sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema
from conftest import Cli, read, write_state
from test_plan_formats import SCHEMA

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.generic_paths import _static_owner, owner
from vault_state.kinds.places import EngineSingleton, UnderEngine
from vault_state.kinds.token_role import TokenRole
from vault_state.sandbox import DevServer
from vault_state.spec.engines import SecretsEngine
from vault_state.spec.models import StateFile

NOTE = "!! generic: compares declared keys only"
KEY = """\
version: 1
generic:
  identity/oidc/key/app:
    data: {algorithm: RS256, rotation_period: ROTATION, verification_ttl: 86400, allowed_client_ids: ["*"]}
"""


def plan_is_empty(cli: Cli, state: Path, env: dict[str, str] | None = None) -> bool:
    result = cli("plan", "-f", str(state), "--detailed-exitcode", env=env)
    assert result.code in (0, 2), result.err
    return result.code == 0 and "No changes." in result.out


def apply(cli: Cli, state: Path, env: dict[str, str] | None = None) -> str:
    result = cli("apply", "-f", str(state), "--auto-approve", env=env)
    assert result.code == 0, result.out + result.err
    return result.out + result.err


def test_an_oidc_key_and_its_role_apply_in_file_order_and_converge(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, KEY.replace("ROTATION", "86400") + """\
  identity/oidc/role/ci:
    data: {key: app, ttl: 3600, template: '{"team": "a"}'}
""")
    planned = cli("plan", "-f", str(state))
    assert "  + generic/identity/oidc/key/app\n      " + NOTE + "\n" in planned.out
    assert '      rotation_period = 86400\n' in planned.out and '      key = "app"\n' in planned.out
    document = json.loads(cli("plan", "-f", str(state), "--format", "json").out)
    jsonschema.validate(document, SCHEMA)
    assert [c["warnings"] for c in document["changes"]] == [["generic: compares declared keys only"]] * 2
    # The role names the key: Vault refuses it ("cannot find key") unless the key is written first.
    apply(cli, state)
    assert read(bao, "identity/oidc/key/app")["rotation_period"] == 86400
    role = read(bao, "identity/oidc/role/ci")
    assert role["key"] == "app" and role["ttl"] == 3600 and role["client_id"]  # client_id: Vault's, undeclared
    assert plan_is_empty(cli, state)


def test_a_duration_written_as_24h_is_a_perpetual_diff(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """Vault takes "24h" and returns 86400: a generic endpoint normalises nothing, so the file must
    hold the value as Vault returns it (docs/state-file.md, `generic`)."""
    state = write_state(tmp_path, KEY.replace("ROTATION", "24h"))
    apply(cli, state)
    assert read(bao, "identity/oidc/key/app")["rotation_period"] == 86400
    for _ in range(2):  # applying again changes nothing on the server and the diff stays
        planned = cli("plan", "-f", str(state))
        assert planned.out.count(" ~ ") == 2, planned.out  # the change and its one field
        assert '  ~ generic/identity/oidc/key/app\n      ' + NOTE + '\n      ~ rotation_period: 86400 -> "24h"\n' in planned.out
        apply(cli, state)


def test_drift_on_a_declared_key_is_repaired_and_undeclared_keys_are_ignored(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    state = write_state(tmp_path, "version: 1\ngeneric:\n  identity/oidc/key/app:\n    data: {algorithm: RS256}\n")
    apply(cli, state)
    bao.request("POST", "identity/oidc/key/app", {"verification_ttl": 7200})
    assert plan_is_empty(cli, state)  # not declared: not compared, never reset
    bao.request("POST", "identity/oidc/key/app", {"algorithm": "ES256"})
    planned = cli("plan", "-f", str(state))
    assert '  ~ generic/identity/oidc/key/app\n      ' + NOTE + '\n      ~ algorithm: "ES256" -> "RS256"\n' in planned.out
    apply(cli, state)
    key = read(bao, "identity/oidc/key/app")
    assert key["algorithm"] == "RS256" and key["verification_ttl"] == 7200
    assert plan_is_empty(cli, state)


def test_a_write_only_field_is_sent_and_never_compared_or_printed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A KV v1 secret returns what was written, so it shows that a write-only key is sent; the
    server's copy is dropped unread, never compared, and its value never printed."""
    env = {"SA_JWT": "eyJ.sa-jwt-SECRET-77.sig"}
    state = write_state(tmp_path, """\
version: 1
secrets_engines:
  kv: {type: kv, version: 1}
generic:
  kv/app:
    data:
      host: https://127.0.0.1:6443
      service_account_jwt: {env: SA_JWT}
    write_only_fields: [service_account_jwt]
""")
    planned = cli("plan", "-f", str(state), env=env)
    assert "      service_account_jwt = (sensitive)  # write-only: sent, never read back or compared\n" in planned.out
    shown = apply(cli, state, env) + cli("plan", "-f", str(state), "--format", "json", env=env).out
    assert "SECRET-77" not in shown
    assert read(bao, "kv/app") == {"host": "https://127.0.0.1:6443", "service_account_jwt": env["SA_JWT"]}
    assert plan_is_empty(cli, state, env)
    # Never read back; a new value shows through its fingerprint (docs/ownership.md), unless turned off.
    assert "~ service_account_jwt: (sensitive, changed)" in cli("plan", "-f", str(state), env={"SA_JWT": "another"}).out
    assert "No changes." in cli("plan", "-f", str(state), "--no-fingerprints", env={"SA_JWT": "another"}).out


def test_sensitive_values_are_sent_and_compared_but_never_printed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A KV v1 secret returns what was written: the write-only password proves it was sent; the
    user name from a sensitive source is compared, its diff printed as (sensitive)."""
    env = {"KV_USER": "user-SECRET-31", "KV_PASS": "pass-SECRET-32"}
    state = write_state(tmp_path, """\
version: 1
secrets_engines:
  kv1: {type: kv, version: 1}
generic:
  kv1/app:
    data: {user: {env: KV_USER}, password: {env: KV_PASS}, port: 5432}
    write_only_fields: [password]
""")
    saved = tmp_path / "plan.json"
    assert cli("plan", "-f", str(state), "-o", str(saved), env=env).code == 0
    out = saved.read_text() + apply(cli, state, env)
    assert read(bao, "kv1/app") == {"user": "user-SECRET-31", "password": "pass-SECRET-32", "port": 5432}
    assert plan_is_empty(cli, state, env)
    bao.request("POST", "kv1/app", {"user": "someone-SECRET-33", "password": "x", "port": 5432})
    planned = cli("plan", "-f", str(state), env=env)
    assert "      ~ user: (sensitive) -> (sensitive)\n" in planned.out
    out += planned.out + cli("plan", "-f", str(state), "--format", "json", env=env).out
    assert "SECRET" not in out
    apply(cli, state, env)
    assert read(bao, "kv1/app")["password"] == "pass-SECRET-32"  # sent again with the update


def test_ignore_fields_leave_keys_inside_a_declared_value_out(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    text = """\
version: 1
secrets_engines:
  kv1: {type: kv, version: 1}
generic:
  kv1/app:
    data: {config: {a: 1}}
"""
    state = write_state(tmp_path, text)
    apply(cli, state)
    bao.request("POST", "kv1/app", {"config": {"a": 1, "added": "by the server"}})
    planned = cli("plan", "-f", str(state))
    assert '      ~ config.added: "by the server" -> (none)\n' in planned.out  # a declared map compares whole
    ignoring = write_state(tmp_path, text + "    ignore_fields: [config.added]\n", "ignoring.yaml")
    assert plan_is_empty(cli, ignoring)


def test_deleted_only_with_delete_true_and_prune(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    apply(cli, write_state(tmp_path, KEY.replace("ROTATION", "86400")))
    forgotten = write_state(tmp_path, "version: 1\nprune: {generic: true}\n", "forgotten.yaml")
    assert plan_is_empty(cli, forgotten)  # an entry removed from the file is forgotten, never deleted

    tombstone = "version: 1\ngeneric:\n  identity/oidc/key/app: {delete: true}\n"
    without_prune = write_state(tmp_path, tombstone, "without-prune.yaml")
    planned = cli("plan", "-f", str(without_prune))
    assert planned.err == (
        f"{without_prune}:3:3: warning: generic path 'identity/oidc/key/app' says delete: true, "
        "but prune: {generic: true} is not set: it is not deleted\n"
    )
    assert "No changes." in planned.out

    with_prune = write_state(tmp_path, tombstone + "prune: {generic: true}\n", "with-prune.yaml")
    planned = cli("plan", "-f", str(with_prune))
    assert "  - generic/identity/oidc/key/app\n\nPlan: 0 to add, 0 to change, 1 to destroy.\n" in planned.out
    document = json.loads(cli("plan", "-f", str(with_prune), "--format", "json").out)
    jsonschema.validate(document, SCHEMA)
    (change,) = [c for c in document["changes"] if c["action"] == "delete"]
    assert change["location"] == f"{with_prune}:3:3"
    apply(cli, with_prune)
    assert bao.request("GET", "identity/oidc/key/app").status_code == 404
    assert plan_is_empty(cli, with_prune)  # already gone: nothing to do


def test_export_writes_no_generic_entries_and_target_selects_one(cli: Cli, tmp_path: Path) -> None:
    """Export cannot know which paths a generic endpoint would name, so it writes none."""
    state = write_state(tmp_path, KEY.replace("ROTATION", "86400") + """\
  identity/oidc/key/other:
    data: {algorithm: ES256}
""")
    targeted = cli("plan", "-f", str(state), "--target", "generic/identity/oidc/key/other")
    assert "+ generic/identity/oidc/key/other" in targeted.out and "key/app" not in targeted.out
    apply(cli, state)
    exported = cli("export")
    assert exported.code == 0 and "\ngeneric:" not in exported.out and "identity/oidc/key" not in exported.out


def test_a_refused_path_fails_apply_before_any_write(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, """\
version: 1
policies:
  readers: 'path "secret/*" { capabilities = ["read"] }'
generic:
  sys/policies/acl/writers:
    data: {policy: 'path "secret/*" { capabilities = ["update"] }'}
""")
    result = cli("apply", "-f", str(state), "--auto-approve")
    assert result.code == 1 and result.out == ""
    assert result.err == (
        f"{state}:5:3: generic path 'sys/policies/acl/writers' is managed by a typed kind: "
        "declare it under policies instead\n"
    )
    assert bao.request("GET", "sys/policies/acl/readers").status_code == 404


def test_empty_data_creates_the_endpoint_with_vaults_defaults(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, "version: 1\ngeneric:\n  identity/oidc/key/plain:\n    data: {}\n")
    assert "+ generic/identity/oidc/key/plain" in cli("plan", "-f", str(state)).out
    apply(cli, state)
    assert read(bao, "identity/oidc/key/plain")["algorithm"] == "RS256"
    assert plan_is_empty(cli, state)


def test_an_endpoint_under_a_replaced_engine_is_written_again(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    text = """\
version: 1
secrets_engines:
  kv1: {type: kv, version: 1, local: LOCAL}
generic:
  kv1/app:
    data: {a: b}
"""
    first = write_state(tmp_path, text.replace("LOCAL", "false"))
    targeted = cli("plan", "-f", str(first), "--target", "generic/kv1/app")
    assert "+ secrets_engine/kv1" in targeted.out and "+ generic/kv1/app" in targeted.out  # its mount comes along
    apply(cli, first)
    replaced = write_state(tmp_path, text.replace("LOCAL", "true"), "replaced.yaml")
    planned = cli("plan", "-f", str(replaced))
    assert "-/+ secrets_engine/kv1" in planned.out and "  + generic/kv1/app\n" in planned.out
    result = cli("apply", "-f", str(replaced), "--auto-approve", "--allow-destroy")
    assert result.code == 0, result.out + result.err
    assert read(bao, "kv1/app") == {"a": "b"}
    assert plan_is_empty(cli, replaced)


@dataclass(frozen=True)
class FixedPlace:
    """A place of one object at a fixed path, as a server-wide setting's kind would declare it."""

    section: str
    path: str


def test_owned_paths_come_from_the_kinds_places() -> None:
    """Any kind placed at a fixed path or under engines of a type owns its paths, with no list to keep."""
    kinds = [
        DeclaredKind("k", "ks", TokenRole, UnderEngine("transit", ("transit", "keys"), "keys")),
        DeclaredKind("c", "cs", TokenRole, EngineSingleton("ssh", ("ssh", "ca"), "config/ca")),
        DeclaredKind("s", "", TokenRole, FixedPlace("sys_config.cors", "sys/config/cors")),  # type: ignore[arg-type]
        DeclaredKind("t", "", TokenRole, FixedPlace("token_auth.tune", "sys/auth/token/tune")),  # type: ignore[arg-type]
    ]
    state = StateFile(version=1, secrets_engines={
        "tr": SecretsEngine(type="transit"), "ss": SecretsEngine(type="ssh"), "kv": SecretsEngine(type="kv"),
    })
    assert owner("tr/keys/app", state, kinds) == "secrets_engines.tr.transit.keys"
    assert owner("ss/config/ca", state, kinds) == "secrets_engines.ss.ssh.ca"
    assert owner("kv/keys/app", state, kinds) is None  # not a transit engine
    assert owner("tr/encrypt/app", state, kinds) is None
    assert _static_owner("sys/config/cors", kinds) == "sys_config.cors"
    assert _static_owner("sys/auth/token/tune", kinds) == "token_auth.tune"  # the longest prefix
    assert _static_owner("sys/auth/ldap/tune", kinds) == "auth_methods"
    assert _static_owner("sys/config/ui/headers/X", kinds) is None
