"""`vault-state required-policy` against a real OpenBao: the policy it prints, as a token's only
policy, plans and applies the file; without any one of its blocks, plan or apply fails naming the
forbidden request. Each run is in a fresh namespace of one dev server (`--namespace`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli, write_state
from required_policy_check import Namespaces, blocks, check_enough_and_needed, required_policy

from vault_state.sandbox import DevServer
from vault_state.spec.hcl_text import loads_hcl

PASSWORD = "alice-pw-7d1e"

# Every kind the brief names: engines (kv v2, transit, pki), policies, approle, userpass and
# kubernetes auth with roles, identity, token roles; a stack pruning what it owns.
STATE = """
version: 1
stack: app
prune: {secrets_engines: owned, transit_keys: owned, pki_roles: owned, policies: owned, auth_methods: owned,
        auth_roles: owned, identity_entities: owned, identity_entity_aliases: owned, identity_groups: owned,
        token_roles: owned}
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
