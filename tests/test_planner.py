"""The pure planner: (desired, live, prune) in, ordered changes out. No server, no I/O.

Values have the shapes the kinds really produce (secrets engines through `spec_values`), so the
kinds' replace rules are exercised as they are in a real plan.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vault_state.errors import Location
from vault_state.kinds.secrets_engine import live_values_of, spec_values
from vault_state.plan.model import Action, Change, FieldDiff, Plan, Resource, ResourceId
from vault_state.plan.planner import plan
from vault_state.sensitive import Sensitive
from vault_state.spec.engines import SecretsEngine
from vault_state.spec.models import Prune

NO_PRUNE = Prune()
PRUNE_ALL = Prune(policies=True, auth_roles=True, secrets_engines=True, auth_methods=True)
TUNE = {
    "default_lease_ttl": 0,
    "max_lease_ttl": 0,
    "listing_visibility": "",
    "passthrough_request_headers": [],
    "allowed_response_headers": [],
    "audit_non_hmac_request_keys": [],
    "audit_non_hmac_response_keys": [],
}


# --- resources with the kinds' real value shapes ---------------------------------------------


def engine(path: str, **spec: Any) -> Resource:
    """A secrets engine as `spec_values` builds it from the file."""
    return Resource(ResourceId("secrets_engine", path), spec_values(SecretsEngine(**spec)))


def engine_with(resource: Resource, **changes: Any) -> Resource:
    """`resource` with some values replaced; `tune__x=1` sets tune.x."""
    values = {**resource.values, "tune": dict(resource.values["tune"])}
    for key, value in changes.items():
        if key.startswith("tune__"):
            values["tune"][key.removeprefix("tune__")] = value
        else:
            values[key] = value
    return replace(resource, values=values)


def policy(name: str, text: str = 'path "secret/data/*" {\n  capabilities = ["read"]\n}\n') -> Resource:
    return Resource(ResourceId("policy", name), {"policy": text})


def auth_method(path: str, kind: str = "kubernetes", **extra: Any) -> Resource:
    values = {
        "type": kind,
        "description": "",
        "local": False,
        "seal_wrap": False,
        "tune": {**TUNE, "token_type": "default-service"},
        **extra,
    }
    return Resource(ResourceId("auth_method", path), values)


def role(mount: str, name: str, **values: Any) -> Resource:
    base = {"token_ttl": 0, "token_policies": [], "bound_service_account_names": ["eso"]}
    return Resource(ResourceId("auth_role", f"{mount}/{name}"), {**base, **values})


def snapshot(*resources: Resource) -> dict[ResourceId, Resource]:
    return {r.id: r for r in resources}


def summary(result: Plan) -> list[tuple[str, str]]:
    return [(str(c.id), c.action.value) for c in result.changes]


def paths(change: Change) -> list[str]:
    return [d.path for d in change.diffs]


def only(result: Plan) -> Change:
    assert len(result.changes) == 1, summary(result)
    return result.changes[0]


# --- the table: (desired, live, prune) -> [(id, action, diff paths)] -------------------------

KV2 = engine("secret", type="kv", version=2)
KV1 = engine("secret", type="kv", version=1)
TRANSIT = engine("transit", type="transit")

# A None diff list: not checked (the create of a whole engine, shown in "create").
Expected = list[tuple[str, str, list[str] | None]]
CASES: dict[str, tuple[list[Resource], list[Resource], Prune, Expected]] = {
    "create": (
        [TRANSIT],
        [],
        NO_PRUNE,
        [
            (
                "secrets_engine/transit",
                "create",
                [
                    "description", "external_entropy_access", "force_no_cache", "kv_config", "local",
                    "seal_wrap",
                    *[f"tune.{k}" for k in sorted(TUNE)],
                    "type", "version",
                ],
            )
        ],
    ),
    "no-op": ([TRANSIT, policy("p")], [TRANSIT, policy("p")], PRUNE_ALL, [
        ("secrets_engine/transit", "no-op", []),
        ("policy/p", "no-op", []),
    ]),
    "update tune": (
        [engine_with(TRANSIT, tune__default_lease_ttl=3600, description="keys")],
        [TRANSIT],
        NO_PRUNE,
        [("secrets_engine/transit", "update", ["description", "tune.default_lease_ttl"])],
    ),
    "update list": (
        [engine_with(TRANSIT, tune__passthrough_request_headers=["X-A", "X-B"])],
        [TRANSIT],
        NO_PRUNE,
        [("secrets_engine/transit", "update", ["tune.passthrough_request_headers"])],
    ),
    "update kv_config": (
        [engine("secret", type="kv", version=2, kv_config={"max_versions": 10})],
        [KV2],
        NO_PRUNE,
        [("secrets_engine/secret", "update", ["kv_config.max_versions"])],
    ),
    "replace on type change": (
        [engine("secret", type="kv", version=2)],
        [engine("secret", type="transit")],
        NO_PRUNE,
        [("secrets_engine/secret", "replace", ["kv_config", "type", "version"])],
    ),
    "replace on kv 2 -> 1": ([KV1], [KV2], NO_PRUNE, [("secrets_engine/secret", "replace", ["kv_config", "version"])]),
    "update on kv 1 -> 2": ([KV2], [KV1], NO_PRUNE, [("secrets_engine/secret", "update", ["kv_config", "version"])]),
    "replace on local": (
        [engine_with(TRANSIT, local=True)],
        [TRANSIT],
        NO_PRUNE,
        [("secrets_engine/transit", "replace", ["local"])],
    ),
    "live-only kept without prune": ([], [TRANSIT, policy("p"), auth_method("k8s"), role("k8s", "r")], NO_PRUNE, []),
    "live-only deleted with prune": (
        [],
        [TRANSIT, policy("p"), auth_method("k8s"), role("k8s", "r")],
        PRUNE_ALL,
        [
            ("auth_role/k8s/r", "delete", []),
            ("auth_method/k8s", "delete", []),
            ("policy/p", "delete", []),
            ("secrets_engine/transit", "delete", []),
        ],
    ),
    "prune is per kind": (
        [],
        [TRANSIT, policy("p"), auth_method("k8s"), role("k8s", "r")],
        Prune(policies=True),
        [("policy/p", "delete", [])],
    ),
    "default policy never deleted": ([], [policy("default"), policy("old")], Prune(policies=True), [
        ("policy/old", "delete", []),
    ]),
    "default policy may be updated": ([policy("default", "x\n")], [policy("default")], NO_PRUNE, [
        ("policy/default", "update", ["policy"]),
    ]),
    "roles of a replaced auth method are created, live-only ones not deleted": (
        [auth_method("k8s", "kubernetes"), role("k8s", "r")],
        [auth_method("k8s", "approle"), role("k8s", "r"), role("k8s", "old")],
        PRUNE_ALL,
        [
            ("auth_method/k8s", "replace", ["type"]),
            ("auth_role/k8s/r", "create", ["bound_service_account_names", "token_policies", "token_ttl"]),
        ],
    ),
    "roles of a created auth method are created": (
        [auth_method("k8s"), role("k8s", "r")],
        [role("k8s", "r"), role("k8s", "old")],
        PRUNE_ALL,
        [
            ("auth_method/k8s", "create", [
                "description", "local", "seal_wrap", *[f"tune.{k}" for k in sorted([*TUNE, "token_type"])], "type",
            ]),
            ("auth_role/k8s/r", "create", ["bound_service_account_names", "token_policies", "token_ttl"]),
        ],
    ),
    "roles of an unchanged auth method are compared and pruned": (
        [auth_method("k8s"), role("k8s", "r", token_ttl=3600)],
        [auth_method("k8s"), role("k8s", "r"), role("k8s", "old")],
        PRUNE_ALL,
        [
            ("auth_role/k8s/old", "delete", []),
            ("auth_method/k8s", "no-op", []),
            ("auth_role/k8s/r", "update", ["token_ttl"]),
        ],
    ),
    "roles under another mount are not affected by a replace": (
        [auth_method("a", "kubernetes"), auth_method("ab", "approle"), role("ab", "r")],
        [auth_method("a", "approle"), auth_method("ab", "approle"), role("ab", "r")],
        NO_PRUNE,
        [
            ("auth_method/a", "replace", ["type"]),
            ("auth_method/ab", "no-op", []),
            ("auth_role/ab/r", "no-op", []),
        ],
    ),
    "ordering": (
        [policy("b"), role("k8s", "r"), TRANSIT, auth_method("k8s"), policy("a"), KV2],
        [
            role("k8s", "gone"), auth_method("old"), policy("zz"), policy("aa"),
            engine("old-engine", type="transit"), auth_method("k8s"),
        ],
        PRUNE_ALL,
        [
            ("auth_role/k8s/gone", "delete", []),
            ("auth_method/old", "delete", []),
            ("policy/aa", "delete", []),
            ("policy/zz", "delete", []),
            ("secrets_engine/old-engine", "delete", []),
            ("secrets_engine/secret", "create", None),
            ("secrets_engine/transit", "create", None),
            ("policy/a", "create", ["policy"]),
            ("policy/b", "create", ["policy"]),
            ("auth_method/k8s", "no-op", []),
            ("auth_role/k8s/r", "create", ["bound_service_account_names", "token_policies", "token_ttl"]),
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_plan_table(name: str) -> None:
    desired, live, prune, expected = CASES[name]
    result = plan(snapshot(*desired), snapshot(*live), prune)
    assert summary(result) == [(rid, action) for rid, action, _ in expected]
    for change, (_, _, diff_paths) in zip(result.changes, expected, strict=True):
        if diff_paths is not None:
            assert paths(change) == diff_paths, change.id


# --- details the table does not show -----------------------------------------------------------


def test_update_diff_values() -> None:
    change = only(plan(snapshot(engine_with(TRANSIT, tune__default_lease_ttl=3600)), snapshot(TRANSIT), NO_PRUNE))
    assert change.diffs == (FieldDiff("tune.default_lease_ttl", 0, 3600, False),)
    assert change.before is TRANSIT
    assert change.reason == ""
    assert change.destroys_data is False


def test_create_has_no_before_and_diffs_from_nothing() -> None:
    change = only(plan(snapshot(policy("p", "x\n")), {}, NO_PRUNE))
    assert change.action is Action.CREATE
    assert change.before is None
    assert change.diffs == (FieldDiff("policy", None, "x\n", False),)


def test_replace_on_type_change_destroys_data_and_says_why() -> None:
    live = engine("secret", type="transit")
    change = only(plan(snapshot(KV2), snapshot(live), NO_PRUNE))
    assert change.action is Action.REPLACE
    assert change.destroys_data is True
    assert "type cannot change on an enabled mount" in change.reason
    assert "transit" in change.reason and "kv" in change.reason


def test_kv_downgrade_is_a_replace_that_destroys_data() -> None:
    change = only(plan(snapshot(KV1), snapshot(KV2), NO_PRUNE))
    assert change.action is Action.REPLACE
    assert change.destroys_data is True
    assert change.reason == "Vault cannot downgrade a kv mount from version 2 to 1"


def test_kv_upgrade_is_an_update_with_a_warning() -> None:
    change = only(plan(snapshot(KV2), snapshot(KV1), NO_PRUNE))
    assert change.action is Action.UPDATE
    assert change.destroys_data is False
    assert change.warnings == ("upgrading kv version 1 to 2 rewrites the mount's data; it is briefly unavailable",)
    assert FieldDiff("version", 1, 2, False) in change.diffs


def test_live_values_of_a_kv2_mount_match_the_spec() -> None:
    """A kv-v2 mount as sys/mounts returns it plans as no change against `type: kv, version: 2`."""
    mount = {"type": "kv", "options": {"version": "2"}, "config": {"default_lease_ttl": 0, "max_lease_ttl": 0}}
    live = Resource(KV2.id, live_values_of(mount))
    assert only(plan(snapshot(KV2), snapshot(live), NO_PRUNE)).action is Action.NOOP


def test_secrets_engine_and_auth_method_deletes_destroy_data_others_do_not() -> None:
    live = snapshot(TRANSIT, policy("p"), auth_method("k8s"), role("k8s", "r"))
    result = plan({}, live, PRUNE_ALL)
    assert {str(c.id): c.destroys_data for c in result.changes} == {
        "secrets_engine/transit": True,
        "policy/p": False,
        "auth_method/k8s": True,
        "auth_role/k8s/r": False,
    }
    assert all(c.after is None and c.before is not None for c in result.changes)


def test_partial_whole_resource_compares_only_declared_keys() -> None:
    live = Resource(ResourceId("auth_role", "ldap/r"), {"a": 1, "b": 2, "c": [1]})
    same = Resource(live.id, {"a": 1}, partial=("",))
    assert only(plan(snapshot(same), snapshot(live), NO_PRUNE)).action is Action.NOOP

    changed = Resource(live.id, {"a": 2, "d": "new"}, partial=("",))
    change = only(plan(snapshot(changed), snapshot(live), NO_PRUNE))
    assert change.action is Action.UPDATE
    assert change.diffs == (FieldDiff("a", 1, 2, False), FieldDiff("d", None, "new", False))


def test_partial_config_compares_only_declared_config_keys() -> None:
    live = auth_method("ldap", "ldap", config={"url": "ldap://a", "binddn": "cn=x", "userattr": "uid"})
    same = replace(auth_method("ldap", "ldap", config={"url": "ldap://a"}), partial=("config",))
    assert only(plan(snapshot(same), snapshot(live), NO_PRUNE)).action is Action.NOOP

    changed = replace(auth_method("ldap", "ldap", config={"url": "ldap://b"}), partial=("config",))
    change = only(plan(snapshot(changed), snapshot(live), NO_PRUNE))
    assert change.action is Action.UPDATE
    assert paths(change) == ["config.url"]


def test_partial_config_still_compares_the_rest_whole() -> None:
    live = auth_method("ldap", "ldap", config={"url": "ldap://a", "binddn": "cn=x"}, description="old")
    desired = replace(auth_method("ldap", "ldap", config={"url": "ldap://a"}), partial=("config",))
    assert paths(only(plan(snapshot(desired), snapshot(live), NO_PRUNE))) == ["description"]


def test_without_partial_extra_live_keys_are_differences() -> None:
    live = auth_method("ldap", "ldap", config={"url": "ldap://a", "binddn": "cn=x"})
    desired = auth_method("ldap", "ldap", config={"url": "ldap://a"})
    change = only(plan(snapshot(desired), snapshot(live), NO_PRUNE))
    assert change.diffs == (FieldDiff("config.binddn", "cn=x", None, False),)


def test_sensitive_values_compare_by_value() -> None:
    live = Resource(ResourceId("auth_role", "userpass/alice"), {"password_hint": "s3cret"})
    same = Resource(live.id, {"password_hint": Sensitive("s3cret")})
    assert only(plan(snapshot(same), snapshot(live), NO_PRUNE)).action is Action.NOOP

    other = Resource(live.id, {"password_hint": Sensitive("other")})
    change = only(plan(snapshot(other), snapshot(live), NO_PRUNE))
    assert change.action is Action.UPDATE
    (diff,) = change.diffs
    assert diff.path == "password_hint"
    assert diff.sensitive is True
    assert "other" not in repr(diff) and "other" not in str(change)


def test_sensitive_inside_a_list_marks_the_diff_sensitive() -> None:
    live = Resource(ResourceId("auth_role", "k/r"), {"keys": ["a"]})
    desired = Resource(live.id, {"keys": [Sensitive("b")]})
    (diff,) = only(plan(snapshot(desired), snapshot(live), NO_PRUNE)).diffs
    assert diff.sensitive is True


def test_plain_diffs_are_not_sensitive() -> None:
    change = only(plan(snapshot(policy("p", "x\n")), snapshot(policy("p")), NO_PRUNE))
    assert [d.sensitive for d in change.diffs] == [False]


@pytest.mark.parametrize(
    ("desired", "live"),
    [(True, 1), (False, 0), (1, True), (0, False), (True, "true"), (0, None), ("", None)],
)
def test_values_of_different_types_differ(desired: Any, live: Any) -> None:
    rid = ResourceId("auth_role", "k/r")
    change = only(plan(snapshot(Resource(rid, {"x": desired})), snapshot(Resource(rid, {"x": live})), NO_PRUNE))
    assert change.action is Action.UPDATE
    assert change.diffs == (FieldDiff("x", live, desired, False),)


def test_int_and_float_of_the_same_value_are_equal() -> None:
    rid = ResourceId("auth_role", "k/r")
    result = plan(snapshot(Resource(rid, {"x": 1})), snapshot(Resource(rid, {"x": 1.0})), NO_PRUNE)
    assert only(result).action is Action.NOOP


def test_counts_replace_is_one_add_and_one_destroy() -> None:
    desired = snapshot(KV1, policy("new"), engine_with(TRANSIT, description="d"), auth_method("k8s"))
    live = snapshot(KV2, TRANSIT, policy("gone"), auth_method("k8s"))
    result = plan(desired, live, Prune(policies=True))
    assert summary(result) == [
        ("policy/gone", "delete"),
        ("secrets_engine/secret", "replace"),
        ("secrets_engine/transit", "update"),
        ("policy/new", "create"),
        ("auth_method/k8s", "no-op"),
    ]
    assert result.counts() == {"add": 2, "change": 1, "destroy": 2}
    assert result.has_changes
    assert [str(c.id) for c in result.actionable] == [
        "policy/gone", "secrets_engine/secret", "secrets_engine/transit", "policy/new"
    ]


def test_no_changes() -> None:
    result = plan(snapshot(TRANSIT), snapshot(TRANSIT), PRUNE_ALL)
    assert result.counts() == {"add": 0, "change": 0, "destroy": 0}
    assert not result.has_changes
    assert result.actionable == ()


def test_fingerprint_names_changes_not_values() -> None:
    rid = ResourceId("auth_role", "userpass/alice")
    live = snapshot(Resource(rid, {"password_hint": "old"}))
    first = plan(snapshot(Resource(rid, {"password_hint": Sensitive("one")})), live, NO_PRUNE)
    second = plan(snapshot(Resource(rid, {"password_hint": Sensitive("two")})), live, NO_PRUNE)
    assert first.fingerprint() == second.fingerprint()
    other = plan(snapshot(Resource(rid, {"other": 1})), live, NO_PRUNE)
    assert other.fingerprint() != first.fingerprint()


def test_planner_does_not_mutate_its_inputs() -> None:
    desired = snapshot(KV1, role("k8s", "r"), auth_method("k8s"))
    live = snapshot(KV2, role("k8s", "r"), auth_method("k8s", "approle"))
    before = (repr(desired), repr(live))
    plan(desired, live, PRUNE_ALL)
    assert (repr(desired), repr(live)) == before


# --- purity: no HTTP client, no YAML parser behind the planner ----------------------------------

FORBIDDEN = ("hvac", "ruamel", "requests", "urllib3")


def test_planner_import_loads_no_client_or_yaml_library() -> None:
    code = (
        "import sys, vault_state.plan.planner\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(FORBIDDEN)!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_planner_modules_import_no_client_or_yaml_library() -> None:
    """The same, read from the source: every vault_state module the planner reaches, transitively."""
    root = Path(__file__).resolve().parent.parent
    seen: set[str] = set()
    found: dict[str, set[str]] = {}
    todo = ["vault_state.plan.planner"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        base = root / Path(*module.split("."))
        source = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        for name in _runtime_imports(ast.parse(source.read_text()), module):
            top = name.split(".")[0]
            if top in FORBIDDEN:
                found.setdefault(module, set()).add(name)
            elif top == "vault_state":
                todo.extend(_existing_modules(root, name))
    assert "vault_state.kinds.registry" in seen
    assert found == {}


def _runtime_imports(tree: ast.Module, module: str) -> list[str]:
    """Imported module names, leaving out `if TYPE_CHECKING:` blocks (never run)."""
    names: list[str] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.rsplit(".", node.level)[0]
                    base = f"{package}.{base}" if base else package
                names.append(base)
                names.extend(f"{base}.{alias.name}" for alias in node.names)
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list) and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    visit([c for c in children if isinstance(c, ast.stmt)])

    visit(tree.body)
    return names


def _existing_modules(root: Path, name: str) -> list[str]:
    """`name` and its parent packages, where they are files in the tree (`from x import Name`)."""
    parts = name.split(".")
    result = []
    for end in range(1, len(parts) + 1):
        candidate = parts[:end]
        path = root / Path(*candidate)
        if path.is_dir() or path.with_suffix(".py").is_file():
            result.append(".".join(candidate))
    return result


# --- objects managed elsewhere, and the last audit device -------------------------------------

AUDIT = {"type": "file", "description": "", "local": False, "options": {"file_path": "/dev/null"}}
CONFIG_FILE = "the server's configuration file"


def device(path: str, managed_by: str = "", **values: Any) -> Resource:
    return Resource(ResourceId("audit_device", path), {**AUDIT, **values}, managed_by=managed_by)


def test_an_object_managed_elsewhere_is_compared_and_its_changes_refused() -> None:
    desired = snapshot(device("same"), device("edited", description="new"), device("absent"))
    live = snapshot(device("same", CONFIG_FILE), device("edited", CONFIG_FILE),
                    Resource(ResourceId("audit_device", "absent"), {}, managed_by=CONFIG_FILE))
    changes = {c.id.path: c for c in plan(desired, live, NO_PRUNE).changes}
    assert changes["same"].action is Action.NOOP and not changes["same"].refusal
    assert changes["edited"].action is Action.UPDATE  # not a replace: nothing is disabled
    assert [d.path for d in changes["edited"].diffs] == ["description"]
    assert changes["absent"].action is Action.CREATE and changes["absent"].before is None
    refusal = "managed by the server's configuration file; vault-state cannot change it: change it there, or change the file"
    assert changes["edited"].refusal == changes["absent"].refusal == refusal


def test_an_object_managed_elsewhere_is_never_pruned() -> None:
    live = snapshot(device("cfg", CONFIG_FILE), device("api"))
    result = plan({}, live, Prune(audit_devices=True))
    assert [str(c.id) for c in result.changes] == ["audit_device/api"]


def test_only_the_delete_of_the_last_audit_device_warns_loudly() -> None:
    loud = "THIS DISABLES THE LAST AUDIT DEVICE"
    both = snapshot(device("a"), device("b"))
    one_kept = plan(snapshot(device("a")), both, Prune(audit_devices=True)).changes
    assert not any(loud in w for c in one_kept for w in c.warnings)
    none_kept = plan({}, both, Prune(audit_devices=True)).changes
    assert [sum(loud in w for w in c.warnings) for c in none_kept] == [1, 1]
    config_kept = plan({}, snapshot(device("a"), device("cfg", CONFIG_FILE)), Prune(audit_devices=True)).changes
    assert [c.warnings for c in config_kept] == [()]  # the configuration file's device still records


def test_replacing_an_audit_device_warns_of_the_fresh_salt() -> None:
    raw = device("a", options={"file_path": "/dev/null", "log_raw": "true"})
    change = only(plan(snapshot(raw), snapshot(device("a")), NO_PRUNE))
    assert change.action is Action.REPLACE and not change.destroys_data
    assert any("fresh HMAC salt" in w for w in change.warnings)
# --- generic endpoints: a desired absence, file order, the plan's note -----------------------------


def generic(path: str, line: int = 0, **values: Any) -> Resource:
    location = Location("state.yaml", line, 3) if line else None
    return Resource(ResourceId("generic", path), values, location=location, partial=("",), api_path=path)


def test_an_absent_object_is_deleted_only_where_prune_covers_its_kind() -> None:
    gone = replace(generic("identity/oidc/key/app", line=4), absent=True)
    live = {gone.id: generic("identity/oidc/key/app", algorithm="RS256")}
    assert plan({gone.id: gone}, live, NO_PRUNE).changes == ()
    (change,) = plan({gone.id: gone}, live, Prune(generic=True)).changes
    assert change.action is Action.DELETE and str(change.location) == "state.yaml:4:3"
    assert plan({gone.id: gone}, {}, Prune(generic=True)).changes == ()  # already absent


def test_generic_changes_are_in_file_order_and_say_they_compare_declared_keys_only() -> None:
    role, key = generic("identity/oidc/role/ci", line=3, key="app"), generic("identity/oidc/key/app", line=7)
    changes = plan({role.id: role, key.id: key}, {}, NO_PRUNE).changes
    assert [str(c.id) for c in changes] == ["generic/identity/oidc/role/ci", "generic/identity/oidc/key/app"]
    assert all(c.warnings == ("generic: compares declared keys only",) for c in changes)
