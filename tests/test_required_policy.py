"""`vault-state required-policy` against a real OpenBao: the policy it prints, as a token's only
policy, plans and applies the file; without any one of its blocks, plan or apply fails naming the
forbidden request. Each run is in a fresh namespace of one dev server (`--namespace`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from conftest import Cli, write_state
from required_policy_check import Namespaces, blocks, check_enough_and_needed, required_policy

from vault_state.required_policy import matches
from vault_state.sandbox import DevServer
from vault_state.spec.hcl_text import loads_hcl
from vault_state.vault.permissions import needs_sudo

PASSWORD = "alice-pw-7d1e"

# Every kind the brief names: engines (kv v2, transit, pki), policies, approle, userpass and
# kubernetes auth with roles, identity, token roles; a stack pruning what it owns.
STATE = """
version: 1
stack: app
prune: {secrets_engines: owned, transit_keys: owned, pki_roles: owned, policies: owned, auth_methods: owned,
        auth_roles: owned, identity_entities: owned, identity_entity_aliases: owned, identity_groups: owned,
        identity_group_aliases: owned, token_roles: owned}
secrets_engines:
  kv:
    type: kv
    version: 2
    description: app secrets
    kv_config: {max_versions: 5}
  transit:
    type: transit
    description: app keys
    transit:
      keys:
        app-key: {type: aes256-gcm96}
  pki:
    type: pki
    description: app certificates
    tune: {max_lease_ttl: 87600h}
    pki:
      urls: {issuing_certificates: ["https://vault.example.com/v1/pki/ca"]}
      root: {common_name: example.com, ttl: 8760h, key_type: ec}
      roles:
        web: {allowed_domains: [example.com], allow_subdomains: true, max_ttl: 72h}
policies:
  app-read: 'path "kv/data/app/*" { capabilities = ["read"] }'
  ci: 'path "transit/encrypt/app-key" { capabilities = ["update"] }'
auth_methods:
  approle:
    type: approle
    description: CI logins
    roles:
      ci: {token_policies: [ci], role_id: ci-role-id}
  userpass:
    type: userpass
    description: people
    users:
      alice: {password: {env: ALICE_PASSWORD}, token_policies: [app-read]}
  kubernetes:
    type: kubernetes
    description: workloads
    config:
      kubernetes_host: https://kubernetes.default.svc.cluster.local
      kubernetes_ca_cert: {file: ca.crt, sensitive: false}
      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}
    roles:
      app: {bound_service_account_names: [app], bound_service_account_namespaces: [apps], audience: vault,
            token_policies: [app-read]}
identity:
  entities:
    alice:
      policies: [app-read]
      aliases: [{mount: userpass, name: alice}]
  groups:
    readers: {policies: [app-read], member_entities: [alice]}
    ci-team: {type: external, policies: [ci], alias: {mount: approle, name: ci-team}}
token_roles:
  deployer: {allowed_policies: [ci], orphan: true}
"""

# What the same stack applied before: every object differs (so apply updates it) and each kind
# has one more object (so prune: owned deletes it).
EARLIER = """
version: 1
stack: app
secrets_engines:
  kv: {type: kv, version: 2, description: old, kv_config: {max_versions: 3}}
  old-kv: {type: kv, version: 2}
  transit:
    type: transit
    transit:
      keys:
        app-key: {type: aes256-gcm96, auto_rotate_period: 24h}
        old-key: {}
  pki:
    type: pki
    tune: {max_lease_ttl: 8760h}
    pki:
      urls: {issuing_certificates: ["https://old.example.com/v1/pki/ca"]}
      root: {common_name: example.com, ttl: 8760h, key_type: ec}
      roles:
        web: {allowed_domains: [example.org]}
        old: {}
policies:
  app-read: 'path "kv/data/old/*" { capabilities = ["read"] }'
  ci: 'path "transit/encrypt/app-key" { capabilities = ["update"] }'
  old-policy: 'path "kv/data/old/*" { capabilities = ["read"] }'
auth_methods:
  approle:
    type: approle
    roles:
      ci: {token_policies: [ci], role_id: old-role-id}
      old: {}
  userpass:
    type: userpass
    users:
      alice: {password: {env: ALICE_PASSWORD}}
      bob: {password: {env: ALICE_PASSWORD}}
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://old.example.com
      kubernetes_ca_cert: {file: ca.crt, sensitive: false}
      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}
    roles:
      app: {bound_service_account_names: [old], bound_service_account_namespaces: [apps], audience: vault}
      old: {bound_service_account_names: [old], bound_service_account_namespaces: [apps], audience: vault}
  old-auth: {type: userpass}
identity:
  entities:
    alice:
      metadata: {team: old}
      aliases: [{mount: userpass, name: alice}, {mount: approle, name: alice-ci}]
    old-entity: {}
  groups:
    readers: {policies: [ci]}
    old-group: {}
    ci-team: {type: external, alias: {mount: approle, name: old-team}}
token_roles:
  deployer: {allowed_policies: [app-read]}
  old: {}
"""

@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {name: write_state(tmp_path, text, f"{name}.yaml") for name, text in (("state", STATE), ("earlier", EARLIER))}


@pytest.mark.timeout(300)
def test_the_policy_is_enough_and_every_block_is_needed(
    cli: Cli, bao: DevServer, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = required_policy(cli, files["state"])
    assert len(blocks(policy)) > 60
    namespaces = Namespaces(bao, cli, files, monkeypatch, {"ALICE_PASSWORD": PASSWORD})
    assert check_enough_and_needed(namespaces, policy) > 60


def test_the_policy_is_valid_hcl_and_stable(cli: Cli, files: dict[str, Path]) -> None:
    first = required_policy(cli, files["state"])
    assert required_policy(cli, files["state"]) == first
    parsed = loads_hcl(first)["path"]
    paths = [path for path, _ in blocks(first)]
    assert paths == sorted(paths) == sorted(parsed) and len(set(paths)) == len(paths)
    assert parsed["sys/policies/acl/app-read"] == {"capabilities": ["create", "read", "update"]}
    assert parsed["sys/policies/acl/+"] == {"capabilities": ["delete"]}
    assert parsed["sys/auth/approle"] == {"capabilities": ["create", "update", "sudo"]}


def test_the_docs_example_is_what_it_prints(offline_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    text = (root / "docs" / "permissions.md").read_text(encoding="utf-8")
    example = text.split("```hcl\n", 1)[1].split("```\n", 1)[0]
    assert example == required_policy(offline_cli, Path("examples/state.yaml"))


def test_allow_destroy_adds_the_deletes_of_a_replace(offline_cli: Cli, files: dict[str, Path]) -> None:
    plain = loads_hcl(required_policy(offline_cli, files["state"]))["path"]
    result = offline_cli("required-policy", "-f", str(files["state"]), "--allow-destroy")
    assert result.code == 0, result
    destroying = loads_hcl(result.out)["path"]
    assert plain["sys/mounts/kv"] == {"capabilities": ["create", "update"]}
    assert destroying["sys/mounts/kv"] == {"capabilities": ["create", "update", "delete"]}
    assert destroying["sys/auth/approle"] == {"capabilities": ["create", "update", "delete", "sudo"]}
    assert destroying["identity/group/name/readers"] == {"capabilities": ["create", "read", "update", "delete"]}
    assert set(destroying) == set(plain)


def test_a_refused_write_names_its_method_and_path(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A write Vault refuses with 403: that change fails naming it, the apply stops, no traceback."""
    state = write_state(tmp_path, "version: 1\npolicies:\n  p1: 'path \"a\" { capabilities = [\"read\"] }'\n")
    policy = required_policy(cli, state).replace(
        'path "sys/policies/acl/p1" {\n  capabilities = ["create", "read", "update"]',
        'path "sys/policies/acl/p1" {\n  capabilities = ["read"]',
    )
    bao.request("POST", "sys/policies/acl/vault-state", {"policy": policy})
    token = bao.request("POST", "auth/token/create", {"policies": ["vault-state"], "no_default_policy": True})
    result = cli("apply", "-f", str(state), "--auto-approve", env={"VAULT_TOKEN": token.json()["auth"]["client_token"]})
    assert result.code == 1
    assert "  FAILED   policy/p1: permission denied: the token may not PUT sys/policies/acl/p1 (HTTP 403): its " \
           "policy needs create and update on that path; `vault-state required-policy` prints the policy the file " \
           "needs\n" in result.out
    assert result.err.endswith(
        "error: permission denied: the token may not write 1 path that vault-state needs:\n"
        "  PUT sys/policies/acl/p1\n"
        "Give the token's policy create and update (delete for a DELETE) on them, or use another token; "
        "`vault-state required-policy` prints the policy the file needs.\n"
        "error: apply failed: 0 applied, 1 failed, 0 not applied. Fix the cause and run apply again to converge.\n")
    assert "Traceback" not in result.out + result.err


def test_vault_acl_matching_and_sudo() -> None:
    assert matches("sys/policies/acl/+", "sys/policies/acl/x")
    assert not matches("sys/policies/acl/+", "sys/policies/acl/x/y")
    assert not matches("sys/policies/acl/+", "sys/policies/acl")
    assert matches("sys/namespaces/+", "sys/namespaces/")  # a LIST is matched as `path/`: `+` takes ""
    assert matches("+/sys/mounts", "team-a/sys/mounts")
    assert matches("secret/data/*", "secret/data/a/b") and matches("secret/da*", "secret/data/a")
    assert not matches("secret/data/*", "secret/metadata/a")
    assert [needs_sudo(p) for p in ("sys/auth", "sys/auth/x", "team-a/sys/auth/x/tune", "sys/mounts/x",
                                    "sys/audit", "sys/config/ui/headers/", "sys/config/ui/headers")] == [
        False, True, True, False, True, True, False]


def test_inside_a_namespace_no_server_wide_path_is_granted(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A run with --namespace never reads the server-wide kinds (audit devices, CORS, quotas...): the
    policy for it leaves their paths out, and is still enough to plan and apply a `prune: true` file
    (which declares that policy itself, from the file required-policy writes)."""
    (tmp_path / "vault-state.hcl").write_text('path "sys/mounts" { capabilities = ["read"] }\n')  # replaced below
    state = write_state(tmp_path, "version: 1\nprune: true\npolicies:\n  r: 'path \"kv/*\" { capabilities = [\"read\"] }'\n"
                        "  vault-state: {file: vault-state.hcl}\n")
    everywhere = loads_hcl(required_policy(cli, state))["path"]
    result = cli("required-policy", "-f", str(state), "--namespace", "team-a", "-o", str(tmp_path / "vault-state.hcl"))
    assert result.code == 0, result.err
    policy = (tmp_path / "vault-state.hcl").read_text()
    inside = loads_hcl(policy)["path"]
    assert "sys/audit" in everywhere and "sys/audit" not in inside and set(inside) < set(everywhere)
    bao.request("POST", "sys/namespaces/team-a")
    headers = {"X-Vault-Token": bao.token, "X-Vault-Namespace": "team-a"}
    requests.post(f"{bao.address}/v1/sys/policies/acl/vault-state", json={"policy": policy}, headers=headers,
                  timeout=10).raise_for_status()
    made = requests.post(f"{bao.address}/v1/auth/token/create", headers=headers, timeout=10,
                         json={"policies": ["vault-state"], "no_default_policy": True})
    env = {"VAULT_TOKEN": made.json()["auth"]["client_token"], "VAULT_NAMESPACE": "team-a"}
    applied = cli("apply", "-f", str(state), "--auto-approve", env=env)
    assert applied.code == 0, applied.out + applied.err
    again = cli("plan", "-f", str(state), "--detailed-exitcode", env=env)
    assert again.code == 0 and "No changes." in again.out, again.out + again.err
