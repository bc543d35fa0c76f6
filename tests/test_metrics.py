"""plan --metrics-file against a real server, read back with prometheus_client's parser; the metric
families of a fleet's results as literal text."""

from __future__ import annotations

import re
import time
from pathlib import Path

from conftest import EXAMPLES, Cli, write_state
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from ruamel.yaml import YAML

from vault_state.errors import InputError, VaultApiError, VaultConnectionError
from vault_state.metrics import ApplyOutcome, TargetResult, WatchMetrics, registry_of
from vault_state.plan.model import Action, Change, Plan, Resource, ResourceId
from vault_state.sandbox import DevServer, free_port

STATE = """
version: 1
secrets_engines:
  kv:
    type: kv
    version: 2
    description: team secrets
policies:
  a: 'path "kv/data/a" { capabilities = ["read"] }'
  b: 'path "kv/data/b" { capabilities = ["read"] }'
"""

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text document, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def names(found: Samples) -> set[str]:
    return {name for name, _ in found}


def test_metrics_file_counts_drift_per_kind_and_action(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    assert cli("apply", "-f", state, "--auto-approve").code == 0
    bao.request("DELETE", "sys/policies/acl/a")  # drift by hand
    bao.request("POST", "sys/mounts/kv/tune", {"description": "changed by hand"})
    metrics = tmp_path / "vault_state.prom"
    before = time.time()
    result = cli("plan", "-f", state, "--metrics-file", str(metrics), "--detailed-exitcode")
    assert result.code == 2, result.err
    assert "+ policy/a" in result.out  # the plan is still printed
    text = metrics.read_text()
    found, target = samples(text), bao.address
    drift = {(dict(labels)["kind"], dict(labels)["action"]): v
             for (name, labels), v in found.items() if name == "vault_state_drift_objects"}
    assert drift == {
        ("policy", "create"): 1, ("policy", "update"): 0, ("policy", "delete"): 0, ("policy", "replace"): 0,
        ("policy", "move"): 0,
        ("secrets_engine", "create"): 0, ("secrets_engine", "update"): 1, ("secrets_engine", "delete"): 0,
        ("secrets_engine", "replace"): 0, ("secrets_engine", "move"): 0,
    }
    assert {dict(labels)["target"] for (name, labels) in found if "target" in dict(labels)} == {target}
    assert value(found, "vault_state_drift", target=target) == 2
    assert value(found, "vault_state_declared_objects", target=target, kind="policy") == 2
    assert value(found, "vault_state_declared_objects", target=target, kind="secrets_engine") == 1
    assert value(found, "vault_state_plan_success", target=target) == 1
    assert value(found, "vault_state_input_valid", target=target) == 1
    assert value(found, "vault_state_server_reachable", target=target) == 1
    finished = value(found, "vault_state_last_run_timestamp_seconds", target=target)
    assert finished is not None and before <= finished <= time.time()
    assert value(found, "vault_state_last_success_timestamp_seconds", target=target) == finished
    total = value(found, "vault_state_plan_duration_seconds", target=target)
    phases = [value(found, "vault_state_plan_phase_duration_seconds", target=target, phase=p)
              for p in ("load", "read", "plan")]
    assert total is not None and all(p is not None and 0 <= p <= total for p in phases)
    assert bao.token not in text
    assert not list(tmp_path.glob("vault_state.prom.*"))  # the temporary file was renamed over the target

    assert cli("apply", "-f", state, "--auto-approve").code == 0
    assert cli("plan", "-f", state, "--metrics-file", str(metrics)).code == 0
    found = samples(metrics.read_text())  # rewritten: the rows stay, at 0, so alerts resolve
    assert value(found, "vault_state_drift_objects", target=target, kind="policy", action="create") == 0
    assert value(found, "vault_state_drift", target=target) == 0


def test_a_failed_plan_still_writes_the_file(offline_cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    metrics = tmp_path / "m.prom"
    address = f"http://127.0.0.1:{free_port()}"
    env = {"VAULT_ADDR": address, "VAULT_TOKEN": "s.not-a-real-token-7f3a", "VAULT_MAX_RETRIES": "0"}
    result = offline_cli("plan", "-f", state, "--metrics-file", str(metrics), env=env)
    assert result.code == 1
    assert result.err.strip() == f"error: cannot reach {address}: connection refused"
    text = metrics.read_text()
    found = samples(text)
    assert value(found, "vault_state_plan_success", target=address) == 0
    assert value(found, "vault_state_server_reachable", target=address) == 0
    assert value(found, "vault_state_input_valid", target=address) == 1
    assert value(found, "vault_state_plan_phase_duration_seconds", target=address, phase="load") is not None
    assert value(found, "vault_state_plan_phase_duration_seconds", target=address, phase="read") is None
    assert not {"vault_state_drift", "vault_state_drift_objects", "vault_state_last_success_timestamp_seconds"} \
        & names(found)
    assert "not-a-real-token" not in text


def test_an_invalid_state_file_is_input_valid_0(offline_cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, "version: 1\npolicies:\n  a: [1]\n"))
    metrics = tmp_path / "m.prom"
    env = {"VAULT_ADDR": "https://user:pw@vault.example.com:8200/", "VAULT_TOKEN": "t"}
    result = offline_cli("plan", "-f", state, "--metrics-file", str(metrics), env=env)
    assert result.code == 1 and f"{state}:3:6:" in result.err
    found = samples(metrics.read_text())
    target = "https://vault.example.com:8200"  # credentials in the address never reach a label
    assert value(found, "vault_state_plan_success", target=target) == 0
    assert value(found, "vault_state_input_valid", target=target) == 0
    assert "vault_state_server_reachable" not in names(found)  # the server was not asked
    assert "pw" not in metrics.read_text()


def test_an_unwritable_metrics_file_is_an_error(cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    path = tmp_path / "missing-dir" / "m.prom"
    result = cli("plan", "-f", state, "--metrics-file", str(path))
    assert result.code == 1
    assert result.err.strip().endswith(f"error: cannot write the metrics file {path}: No such file or directory")


def _policy(name: str) -> Resource:
    return Resource(ResourceId("policy", name), {"policy": "..."})


FLEET_TEXT = """\
# HELP vault_state_drift_objects Objects the last plan would change, per kind and action (0 for kinds the plan saw unchanged)
# TYPE vault_state_drift_objects gauge
vault_state_drift_objects{action="create",kind="policy",target="prod-eu"} 1.0
vault_state_drift_objects{action="update",kind="policy",target="prod-eu"} 0.0
vault_state_drift_objects{action="delete",kind="policy",target="prod-eu"} 1.0
vault_state_drift_objects{action="replace",kind="policy",target="prod-eu"} 0.0
vault_state_drift_objects{action="move",kind="policy",target="prod-eu"} 0.0
# HELP vault_state_drift Changes in the last plan (0: the server matches the state file)
# TYPE vault_state_drift gauge
vault_state_drift{target="prod-eu"} 2.0
# HELP vault_state_declared_objects Objects the state file declares, per kind
# TYPE vault_state_declared_objects gauge
vault_state_declared_objects{kind="policy",target="prod-eu"} 2.0
# HELP vault_state_plan_success 1 when the last plan completed, 0 when it failed
# TYPE vault_state_plan_success gauge
vault_state_plan_success{target="prod-eu"} 1.0
vault_state_plan_success{target="prod-us"} 0.0
vault_state_plan_success{target="staging"} 0.0
# HELP vault_state_last_run_timestamp_seconds When the last plan ended, successful or not (Unix time)
# TYPE vault_state_last_run_timestamp_seconds gauge
vault_state_last_run_timestamp_seconds{target="prod-eu"} 1.7e+09
vault_state_last_run_timestamp_seconds{target="prod-us"} 1.7e+09
vault_state_last_run_timestamp_seconds{target="staging"} 1.7e+09
# HELP vault_state_last_success_timestamp_seconds When the last successful plan ended (Unix time)
# TYPE vault_state_last_success_timestamp_seconds gauge
vault_state_last_success_timestamp_seconds{target="prod-eu"} 1.7e+09
# HELP vault_state_plan_duration_seconds How long the last plan took
# TYPE vault_state_plan_duration_seconds gauge
vault_state_plan_duration_seconds{target="prod-eu"} 1.5
vault_state_plan_duration_seconds{target="prod-us"} 30.0
vault_state_plan_duration_seconds{target="staging"} 0.25
# HELP vault_state_plan_phase_duration_seconds How long each phase of the last plan took: load (files, value sources), read (the server), plan
# TYPE vault_state_plan_phase_duration_seconds gauge
vault_state_plan_phase_duration_seconds{phase="load",target="prod-eu"} 0.25
vault_state_plan_phase_duration_seconds{phase="read",target="prod-eu"} 1.0
vault_state_plan_phase_duration_seconds{phase="plan",target="prod-eu"} 0.25
vault_state_plan_phase_duration_seconds{phase="load",target="prod-us"} 0.5
vault_state_plan_phase_duration_seconds{phase="load",target="staging"} 0.25
# HELP vault_state_input_valid 0 when the last run stopped on an invalid state file or value source
# TYPE vault_state_input_valid gauge
vault_state_input_valid{target="prod-eu"} 1.0
vault_state_input_valid{target="prod-us"} 1.0
vault_state_input_valid{target="staging"} 0.0
# HELP vault_state_server_reachable 1 when the last run that asked the server got an answer
# TYPE vault_state_server_reachable gauge
vault_state_server_reachable{target="prod-eu"} 1.0
vault_state_server_reachable{target="prod-us"} 0.0
# HELP vault_state_build_info The vault-state version (always 1)
# TYPE vault_state_build_info gauge
vault_state_build_info{version="0.1.0"} 1.0
"""


def test_a_fleets_results_in_one_document() -> None:
    """The API `plan --targets` uses: one result per target, a plan or the error that stopped it."""
    plan = Plan((
        Change(ResourceId("policy", "a"), Action.CREATE, None, _policy("a")),
        Change(ResourceId("policy", "b"), Action.NOOP, _policy("b"), _policy("b")),
        Change(ResourceId("policy", "old"), Action.DELETE, _policy("old"), None),
    ))
    results = [
        TargetResult("staging", None, InputError([]), 0.25, {"load": 0.25}, 1.7e9),
        TargetResult("prod-us", None, VaultConnectionError("cannot reach vault.us"), 30.0, {"load": 0.5}, 1.7e9),
        TargetResult("prod-eu", plan, None, 1.5, {"load": 0.25, "read": 1.0, "plan": 0.25}, 1.7e9),
    ]
    assert generate_latest(registry_of(results)).decode() == FLEET_TEXT


def test_the_server_answering_with_an_error_counts_as_reached() -> None:
    forbidden = TargetResult("t", None, VaultApiError("GET", "sys/policies/acl", 403, ["permission denied"]))
    sealed = TargetResult("t", None, VaultApiError("GET", "sys/policies/acl", 503, ["Vault is sealed"]))
    assert (forbidden.reached, sealed.reached, TargetResult("t", None, InputError([])).reached) == (True, False, None)


def test_the_example_alert_rules_name_only_metrics_and_labels_that_exist() -> None:
    """examples/prometheus/vault-state-rules.yaml (checked by hand with `promtool check rules`): every
    metric and label its expressions and annotations name is one that vault-state writes."""
    watched = WatchMetrics()
    plan = Plan((Change(ResourceId("policy", "a"), Action.CREATE, None, _policy("a")),))
    watched.record(TargetResult("prod", plan, None, 1.0, {"load": 0.1, "read": 0.8, "plan": 0.1}), ApplyOutcome(True, 1))
    registry = CollectorRegistry()
    registry.register(watched)
    written = samples(generate_latest(registry).decode())
    labels = {name: {k for k, _ in keys} for name, keys in written}
    rules = YAML(typ="safe").load((EXAMPLES / "prometheus" / "vault-state-rules.yaml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) == 8
    for rule in alerts:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"} and rule["labels"]["severity"]
        used = re.findall(r"vault_state_\w+", rule["expr"])
        assert used and set(used) <= set(labels), rule["alert"]
        named = set(re.findall(r"\$labels\.(\w+)", " ".join(rule["annotations"].values())))
        named |= set(re.findall(r"(\w+)=~?\"", rule["expr"])) | set(re.findall(r"by \(([\w, ]+)\)", rule["expr"]))
        wanted = {label.strip() for group in named for label in group.split(",")}
        assert wanted <= set().union(*(labels[name] for name in used)), rule["alert"]



def test_a_forbidden_read_counts_as_reaching_the_server(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    token = bao.request("POST", "auth/token/create", {"policies": ["default"]}).json()["auth"]["client_token"]
    metrics = tmp_path / "m.prom"
    result = cli("plan", "-f", state, "--metrics-file", str(metrics), env={"VAULT_TOKEN": token})
    assert result.code == 1 and "permission denied: the token may not read" in result.err
    found = samples(metrics.read_text())
    assert value(found, "vault_state_plan_success", target=bao.address) == 0
    assert value(found, "vault_state_server_reachable", target=bao.address) == 1
    assert token not in metrics.read_text()


def test_a_sealed_server_is_not_reached(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    bao.request("PUT", "sys/seal")
    metrics = tmp_path / "m.prom"
    result = cli("plan", "-f", state, "--metrics-file", str(metrics), env={"VAULT_MAX_RETRIES": "0"})
    assert result.err.strip() == "error: GET sys/mounts: HTTP 503: Vault is sealed"
    found = samples(metrics.read_text())
    assert value(found, "vault_state_plan_success", target=bao.address) == 0
    assert value(found, "vault_state_server_reachable", target=bao.address) == 0


def test_watch_keeps_the_rows_of_a_kind_it_saw_and_counts_runs() -> None:
    watched = WatchMetrics()
    first = Plan((Change(ResourceId("policy", "a"), Action.CREATE, None, _policy("a")),))
    watched.record(TargetResult("t", first, None, 1.0, {}, 1.7e9), ApplyOutcome(True, 1))
    watched.record(TargetResult("t", Plan(()), None, 1.0, {}, 1.8e9))  # the file no longer has policies
    watched.record(TargetResult("t", None, VaultConnectionError("cannot reach t"), 1.0, {}, 1.9e9))
    registry = CollectorRegistry()
    registry.register(watched)
    found = samples(generate_latest(registry).decode())
    assert "vault_state_drift_objects" not in names(found)  # the last plan failed: no drift known
    watched.record(TargetResult("t", Plan(()), None, 1.0, {}, 2.0e9))
    found = samples(generate_latest(registry).decode())
    assert value(found, "vault_state_drift_objects", target="t", kind="policy", action="create") == 0
    assert value(found, "vault_state_declared_objects", target="t", kind="policy") == 0
    assert value(found, "vault_state_runs_total", target="t", result="success") == 3
    assert value(found, "vault_state_runs_total", target="t", result="error") == 1
    assert value(found, "vault_state_applies_total", target="t", result="success") == 1
    assert value(found, "vault_state_applied_changes_total", target="t") == 1
    assert value(found, "vault_state_apply_success", target="t") == 1
    assert value(found, "vault_state_last_success_timestamp_seconds", target="t") == 2.0e9
