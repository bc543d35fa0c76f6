"""Saved plans against a real OpenBao server: `plan -o` then `apply PLANFILE` applies exactly the
reviewed changes, and refuses (exit 1, nothing changed) when anything the plan read has changed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from conftest import REVIEWER_JWT, Cli, read, write_state

from vault_state.inputs import SourceRead
from vault_state.plan.model import Resource, ResourceId
from vault_state.plan.saved import Observed, save, stale_reasons
from vault_state.sandbox import DevServer
from vault_state.sensitive import Sensitive

PASSWORD = "correct-horse-PASSWORD-SECRET-91d2"
FILE_SECRET = "client-SECRET-from-a-file-5be0"
STATE = """
version: 1
secrets_engines:
  apps: {type: kv, version: 2}
policies:
  reader: 'path "apps/data/*" { capabilities = ["read"] }'
auth_methods:
  k8s:
    type: kubernetes
    config:
      kubernetes_host: https://k8s.example
      kubernetes_ca_cert: {file: ca.crt, sensitive: false}
      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}
    roles:
      app:
        bound_service_account_names: [app]
        bound_service_account_namespaces: [prod]
        audience: vault
        token_policies: [reader]
  people:
    type: userpass
    users:
      alice: {password: {env: ALICE_PASSWORD}, token_policies: [reader]}
"""
ENV = {"ALICE_PASSWORD": PASSWORD}


def saved_plan(cli: Cli, tmp_path: Path, text: str = STATE, env: dict[str, str] | None = None) -> tuple[Path, Path]:
    state = write_state(tmp_path, text)
    planfile = tmp_path / "plan.json"
    result = cli("plan", "-f", str(state), "-o", str(planfile), env={**ENV, **(env or {})})
    assert result.code == 0, result.err
    assert result.err.endswith(f"Saved the plan to {planfile}. Apply exactly these changes with: "
                               f"vault-state apply {planfile}\n")
    return state, planfile


def test_saved_plan_applies_without_confirmation(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state, planfile = saved_plan(cli, tmp_path)
    result = cli("apply", str(planfile), env=ENV)  # stdin is not a terminal: no --auto-approve needed
    assert result.code == 0, result.err
    assert "Apply complete! Resources: 6 added, 0 changed, 0 destroyed." in result.out
    assert read(bao, "auth/k8s/role/app")["token_policies"] == ["reader"]
    assert cli("plan", "-f", str(state), "--detailed-exitcode", env=ENV).code == 0


def test_saved_plan_holds_no_secret(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    text = STATE + "      bob: {password: {file: bob.txt}}\n"
    (tmp_path / "bob.txt").write_text(FILE_SECRET)
    _, planfile = saved_plan(cli, tmp_path, text)
    content = planfile.read_text()
    for secret in (REVIEWER_JWT, PASSWORD, FILE_SECRET, bao.token):
        assert secret not in content
    document = json.loads(content)
    assert document["format_version"] == "1"
    assert document["secrets"]["sources"] == [
        "env TOKEN_REVIEWER_JWT at auth_methods.k8s.config.token_reviewer_jwt",
        "env ALICE_PASSWORD at auth_methods.people.users.alice.password",
        "file bob.txt at auth_methods.people.users.bob.password",
    ]
    assert list(document["sources"]) == ["auth_methods.k8s.config.kubernetes_ca_cert"]


def test_stale_when_the_server_changed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    assert cli("apply", "-f", str(state), "--auto-approve", env=ENV).code == 0
    state.write_text(STATE.replace("[app]", "[app, worker]").replace('"read"', '"read", "list"'))
    planfile = tmp_path / "plan.json"
    assert cli("plan", "-f", str(state), "-o", str(planfile), env=ENV).code == 0
    bao.request("POST", "auth/k8s/role/app", {"token_ttl": "5m"})
    bao.request("PUT", "sys/policies/acl/intruder", {"policy": 'path "x" { capabilities = ["read"] }'})
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 1
    assert result.err.splitlines() == [
        "refused: auth_role/k8s/app changed on the server since the plan was made",
        "refused: policy/intruder was created on the server since the plan was made",
        f"error: the saved plan {planfile} is stale; nothing was changed. Run plan again and review it",
    ]
    assert read(bao, "auth/k8s/role/app")["bound_service_account_names"] == ["app"]
    assert "list" not in read(bao, "sys/policies/acl/reader")["policy"]


def test_stale_when_the_state_file_changed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state, planfile = saved_plan(cli, tmp_path)
    state.write_text(STATE + "\n# a comment is a change too\n")
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 1
    assert result.err.splitlines()[0] == f"refused: the state file {state} changed since the plan was made"
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 404


def test_stale_when_a_value_source_changed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    _, planfile = saved_plan(cli, tmp_path)
    result = cli("apply", str(planfile), env={"ALICE_PASSWORD": PASSWORD + "x"})
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "refused: a sensitive value source changed since the plan was made (one of: env TOKEN_REVIEWER_JWT at "
        "auth_methods.k8s.config.token_reviewer_jwt, env ALICE_PASSWORD at auth_methods.people.users.alice.password)"
    )
    (tmp_path / "ca.crt").write_text((tmp_path / "ca.crt").read_text() + "\n\n")
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "refused: value source file ca.crt (auth_methods.k8s.config.kubernetes_ca_cert) changed since the plan was made"
    )
    assert "k8s/" not in bao.request("GET", "sys/auth").json()["data"]  # never enabled


def test_other_server_is_refused(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    _, planfile = saved_plan(cli, tmp_path)
    other = DevServer().start()
    try:
        result = cli("apply", str(planfile), env={**ENV, **other.env()})
    finally:
        other.stop()
    assert result.code == 1
    assert result.err.splitlines()[0] == f"refused: the plan was made against {bao.address}, not {other.address}"


def test_incompatible_format_version_is_refused(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    _, planfile = saved_plan(cli, tmp_path)
    document = json.loads(planfile.read_text())
    planfile.write_text(json.dumps({**document, "format_version": "2"}))
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 1
    assert result.err.strip() == (
        f'error: {planfile}: plan file format_version "2" is not supported: this vault-state (0.1.0) '
        'reads format_version "1"; run plan again'
    )
    planfile.write_text("version: 1\n")
    assert cli("apply", str(planfile)).err.strip() == (
        f"error: {planfile} is not a vault-state plan file (not JSON); write one with `plan -o`"
    )
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 404


def test_saved_plan_keeps_the_destroy_guard(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    bao.request("POST", "sys/mounts/old", {"type": "kv"})
    _, planfile = saved_plan(cli, tmp_path, STATE + "prune: {secrets_engines: true}\n")
    result = cli("apply", str(planfile), env=ENV)
    assert result.code == 1
    assert "secrets_engine/old: this plan disables it, destroying its data; pass --allow-destroy" in result.err
    assert "old/" in bao.request("GET", "sys/mounts").json()["data"]
    assert cli("apply", str(planfile), "--allow-destroy", env=ENV).code == 0
    assert "old/" not in bao.request("GET", "sys/mounts").json()["data"]


def test_saved_plan_cannot_be_retargeted(cli: Cli, tmp_path: Path) -> None:
    _, planfile = saved_plan(cli, tmp_path)
    result = cli("apply", str(planfile), "--target", "policy/reader", env=ENV)
    assert result.code == 1
    assert result.err.strip() == (
        "error: --target cannot be used with a saved plan: it applies the targets it was made with"
    )


def test_saved_plan_names_its_state_file(cli: Cli, tmp_path: Path) -> None:
    state, planfile = saved_plan(cli, tmp_path)
    result = cli("apply", str(planfile), "-f", "other.yaml", env=ENV)
    assert result.code == 1
    assert result.err.strip() == f"error: the saved plan was made from {state}, not other.yaml; leave out -f"


def observed(*sources: SourceRead, live: dict[ResourceId, Resource] | None = None) -> Observed:
    return Observed("http://127.0.0.1:8200", "", "state.yaml", b"version: 1\n", sources, live or {})


JWT = SourceRead("auth_methods.k.config.token_reviewer_jwt", "env JWT", True, Sensitive("1234"))
CA = SourceRead("auth_methods.k.config.kubernetes_ca_cert", "file ca.crt", False, Sensitive("CA"))
MINTED = SourceRead("auth_methods.k.config.token_reviewer_jwt", "kubernetes token", True, Sensitive("t1"), stable=False)


def test_digests_offline() -> None:
    policy = ResourceId("policy", "p")
    saved = save(observed(JWT, CA, live={policy: Resource(policy, {"policy": "a"})}), {"changes": []}, [])
    assert "1234" not in saved.model_dump_json()
    assert stale_reasons(saved, observed(JWT, CA, live={policy: Resource(policy, {"policy": "a"})})) == []
    assert stale_reasons(saved, observed(JWT, CA)) == ["policy/p was removed from the server since the plan was made"]
    assert stale_reasons(saved, observed(replace(JWT, value=Sensitive("1235")), CA, live={
        policy: Resource(policy, {"policy": "b"})})) == [
        "a sensitive value source changed since the plan was made "
        "(one of: env JWT at auth_methods.k.config.token_reviewer_jwt)",
        "policy/p changed on the server since the plan was made",
    ]
    assert stale_reasons(save(observed(CA), {"changes": []}, []), observed(JWT, CA)) == [
        "sensitive value sources appeared since the plan was made: env JWT at auth_methods.k.config.token_reviewer_jwt"
    ]
    minted = save(observed(MINTED), {"changes": []}, [])
    assert stale_reasons(minted, observed(replace(MINTED, value=Sensitive("t2")))) == []  # minted anew each run
