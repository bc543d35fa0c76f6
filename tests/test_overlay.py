"""Overlays (`--overlay FILE`): the merge rules (maps by key, lists and single values replaced,
`null` removes), located errors naming the overlay file, and plans against a real OpenBao server
whose lines name the overlay for every value it set."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import Cli, read

from vault_state.errors import InputError
from vault_state.sandbox import DevServer
from vault_state.spec.many import load_states
from vault_state.spec.types import FileSource

BAD = Path(__file__).resolve().parent / "bad" / "overlays"
PLAN_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "plan.schema.json").read_text())
READ = 'path "apps/data/*" { capabilities = ["read"] }'
BASE = f"""version: 1
secrets_engines:
  apps:
    type: kv
    version: 2
    description: application secrets
    tune: {{default_lease_ttl: 1h}}
policies:
  reader: '{READ}'
  debug: 'path "sys/*" {{ capabilities = ["read"] }}'
auth_methods:
  approle:
    type: approle
    roles:
      ci: {{token_policies: [reader, debug], token_ttl: 1h, secret_id_ttl: 10m}}
  people:
    type: userpass
    users:
      alice: {{password: {{env: ALICE_PASSWORD}}, token_policies: [reader]}}
"""
PROD = """secrets_engines:
  apps:
    description: production secrets
    tune: {max_lease_ttl: 24h}
policies:
  debug: null
auth_methods:
  approle:
    roles:
      ci:
        token_policies: [reader]
        token_ttl: 15m
      deploy: {token_policies: [reader]}
  people:
    users:
      alice: {password: {file: alice.txt}}
"""


def _write(directory: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return [str(directory / name) for name in files]


def test_maps_merge_by_key_lists_and_values_are_replaced_null_removes(tmp_path: Path) -> None:
    base, prod = _write(tmp_path, {"base.yaml": BASE, "prod.yaml": PROD})
    state = load_states([base], overlays=[prod]).state
    apps = state.secrets_engines["apps"]
    assert (apps.type, apps.version, apps.description) == ("kv", 2, "production secrets")
    assert (apps.tune.default_lease_ttl, apps.tune.max_lease_ttl) == (3600, 86400)  # a map: merged by key
    assert sorted(state.policies) == ["reader"]  # null removed `debug`
    roles = state.auth_methods["approle"].roles  # type: ignore[union-attr]
    ci = roles["ci"]
    assert (ci.token_policies, ci.token_ttl, ci.secret_id_ttl) == (["reader"], 900, 600)  # the list replaced
    assert sorted(roles) == ["ci", "deploy"]
    alice = state.auth_methods["people"].users["alice"]  # type: ignore[union-attr]
    # A value source is one value: {file:} replaces {env:}, it is not merged into {env:, file:}.
    assert alice.password == FileSource(file="alice.txt")
    assert alice.token_policies == ["reader"]


def test_overlays_apply_in_order_and_may_redeclare_what_the_base_declares(tmp_path: Path) -> None:
    base, first, second = _write(tmp_path, {
        "base.yaml": BASE,
        # Not a peer: declaring the base's policy again replaces it, it is no "declared twice" error.
        "first.yaml": "policies:\n  reader: 'path \"a/*\" { capabilities = [\"list\"] }'\n  debug: null\n",
        "second.yaml": "policies:\n  debug: 'path \"b/*\" { capabilities = [\"read\"] }'\n"
                       "secrets_engines:\n  apps: {description: second}\n",
    })
    loaded = load_states([base], overlays=[first, second])
    assert loaded.state.policies["reader"] == 'path "a/*" { capabilities = ["list"] }'
    assert loaded.state.policies["debug"] == 'path "b/*" { capabilities = ["read"] }'  # removed, then added again
    assert loaded.state.secrets_engines["apps"].description == "second"
    assert loaded.files == [Path(base), Path(first), Path(second)]
    # Every value is located in the file that set it last.
    assert str(loaded.source.locate(("policies", "reader"), key=True)) == f"{first}:2:3"
    assert str(loaded.source.locate(("policies", "debug"), key=True)) == f"{second}:2:3"
    assert str(loaded.source.locate(("secrets_engines", "apps", "description"))) == f"{second}:4:23"
    assert str(loaded.source.locate(("secrets_engines", "apps", "type"))) == f"{base}:4:11"
    assert str(loaded.source.locate(("auth_methods", "approle", "roles", "ci"), key=True)) == f"{base}:15:7"


def test_an_overlay_over_a_directory_of_peer_files(tmp_path: Path) -> None:
    _write(tmp_path, {
        "base/a.yaml": "version: 1\npolicies:\n  reader: 'path \"a/*\" { capabilities = [\"read\"] }'\n",
        "base/b.yaml": "policies:\n  writer: 'path \"a/*\" { capabilities = [\"update\"] }'\n",
        "prod.yaml": "policies:\n  writer: null\n  admin: 'path \"*\" { capabilities = [\"sudo\"] }'\n",
    })
    loaded = load_states([str(tmp_path / "base")], overlays=[str(tmp_path / "prod.yaml")])
    assert sorted(loaded.state.policies) == ["admin", "reader"]
    assert str(loaded.source.locate(("policies", "reader"), key=True)) == f"{tmp_path}/base/a.yaml:3:3"
    assert str(loaded.source.locate(("policies", "admin"), key=True)) == f"{tmp_path}/prod.yaml:3:3"


def test_the_merged_state_is_validated_as_a_whole(tmp_path: Path) -> None:
    """Each part is fine alone; together they are not. A problem of the whole object is located at
    the object (declared by the base), one of a value at the value (set by the overlay)."""
    base, prod = _write(tmp_path, {
        "base.yaml": BASE,
        "prod.yaml": "secrets_engines:\n  apps:\n    version: null\n    kv_config: {max_versions: 5}\n"
                     "auth_methods:\n  people:\n    type: approle\n",
    })
    with pytest.raises(InputError) as raised:
        load_states([base], overlays=[prod])
    assert sorted(str(d) for d in raised.value.diagnostics) == [
        f"{base}:18:5: unknown key 'users'",
        f"{base}:4:5: apps: 'kv_config' applies to kv version 2 engines only",
    ]


# overlay in tests/bad/overlays (merged over base.yaml there) -> its whole stderr, "FILE:LINE:COL: message"
ERRORS: dict[str, str] = {
    "nothing_to_remove": "nothing_to_remove.yaml:3:3: nothing to remove: 'policies.raeder' is not in the files "
                         "the overlay applies to",
    "unknown_key": "unknown_key.yaml:3:5: unknown key 'descripton'; did you mean 'description'?",
    "unknown_key_top": "unknown_key_top.yaml:1:1: unknown key 'polices'; did you mean 'policies'?",
    # Inside an auth method (a union by `type`): still located in the overlay that set the value.
    "bad_duration": "bad_duration.yaml:5:20: token_ttl: invalid duration '5x': use seconds (3600) or units "
                    "s, m, h, d (90s, 1h30m, 7d)",
    "not_mapping": "not_mapping.yaml:1:1: an overlay must be a mapping of state-file keys such as 'policies'",
    "empty": "empty.yaml:1:1: the overlay is empty; write the keys it changes",
    "wrong_version": "wrong_version.yaml:1:10: version: unsupported format version 2; write 'version: 1'",
    # What is missing is missing from the object, which the base declares: located there.
    "removes_required": "base.yaml:4:9: missing required key 'type'",
    "invalid_yaml": "invalid_yaml.yaml:3:1: invalid YAML: found unexpected end of stream (while scanning a "
                    "quoted scalar started at line 2, column 11)",
    "missing": "missing.yaml:1:1: cannot read the overlay: No such file or directory",
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_overlay_is_a_located_error(offline_cli: Cli, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    result = offline_cli("validate", "-f", "base.yaml", "--overlay", f"{name}.yaml")
    assert (result.code, result.out, result.err) == (1, "", ERRORS[name] + "\n")


def test_every_bad_overlay_file_has_a_case() -> None:
    assert sorted(p.stem for p in BAD.glob("*.yaml") if p.stem != "base") == sorted(set(ERRORS) - {"missing"})


def test_plan_lines_name_the_overlay_for_the_values_it_set(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    # The overlay's {file: alice.txt} is read next to the overlay, not next to the base.
    base, prod, _ = _write(tmp_path, {"base.yaml": BASE, "overlays/prod.yaml": PROD,
                                      "overlays/alice.txt": "alice-PASSWORD-1"})
    assert cli("apply", "-f", base, "--auto-approve", env={"ALICE_PASSWORD": "x"}).code == 0
    text = cli("plan", "-f", base, "--overlay", prod)
    assert text.code == 0, text.err
    assert text.out.splitlines()[4:12] == [
        f"  ~ secrets_engine/apps  ({base}:3:3)",
        f"      # description from {prod}:3:5",
        f"      # tune.max_lease_ttl from {prod}:4:12",
        '      ~ description: "application secrets" -> "production secrets"',
        "      ~ tune.max_lease_ttl: 0 -> 86400",
        "",
        f"  ~ auth_role/approle/ci  ({base}:15:7)",
        f"      # token_policies from {prod}:11:9",
    ]
    assert f"  + auth_role/approle/deploy  ({prod}:13:7)" in text.out.splitlines()
    assert "alice-PASSWORD-1" not in text.out + text.err
    document = json.loads(cli("plan", "-f", base, "--overlay", prod, "--format", "json").out)
    jsonschema.validate(document, PLAN_SCHEMA)
    assert document["files"] == [base, prod]
    overlaid = {c["id"]: c.get("overlaid") for c in document["changes"] if c["action"] != "no-op"}
    assert overlaid == {
        "secrets_engine/apps": {"description": f"{prod}:3:5", "tune.max_lease_ttl": f"{prod}:4:12"},
        "auth_role/approle/ci": {"token_policies": f"{prod}:11:9", "token_ttl": f"{prod}:12:9"},
        "auth_role/approle/deploy": None,  # added by the overlay: its own location is there
        # a write-only password: its fingerprint differs, so it is sent, from the overlay's {file:}
        "auth_role/people/alice": {"password": f"{prod}:16:15"},
    }
    markdown = cli("plan", "-f", base, "--overlay", prod, "--format", "markdown").out
    assert (f"| `~` | update | `secrets_engine/apps` | `{base}:3:3`<br>`description` from `{prod}:3:5`"
            f"<br>`tune.max_lease_ttl` from `{prod}:4:12` | `description`, `tune.max_lease_ttl` |") in markdown


def test_a_saved_plan_merges_the_same_overlays_at_apply(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    base, prod, _ = _write(tmp_path, {"base.yaml": BASE, "prod.yaml": PROD, "alice.txt": "alice-PASSWORD-1"})
    planfile = str(tmp_path / "plan.json")
    assert cli("apply", "-f", base, "--auto-approve", env={"ALICE_PASSWORD": "x"}).code == 0
    assert cli("plan", "-f", base, "--overlay", prod, "-o", planfile).code == 0
    other = cli("apply", planfile, "--overlay", base)
    assert (other.code, other.err) == (1, f"error: the saved plan was made with --overlay {prod}; leave out --overlay\n")
    Path(prod).write_text(PROD.replace("15m", "20m"))
    stale = cli("apply", planfile)
    assert stale.code == 1 and f"refused: the state file {prod} changed since the plan was made" in stale.err
    Path(prod).write_text(PROD)
    applied = cli("apply", planfile)
    assert applied.code == 0, applied.err
    assert read(bao, "auth/approle/role/ci")["token_ttl"] == 900
    assert read(bao, "sys/policy/debug") != {}  # removed from the file, but prune is off: kept
    assert cli("plan", "-f", base, "--overlay", prod, "--detailed-exitcode").code == 0
