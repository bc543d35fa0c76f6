"""`vault-state required-policy` against a real OpenBao: the policy it prints, as a token's only
policy, plans and applies the file; without any one of its blocks, plan or apply fails naming the
forbidden request. Each run is in a fresh namespace of one dev server (`--namespace`)."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import Cli, Result, write_state

from vault_state.required_policy import matches
from vault_state.sandbox import DevServer
from vault_state.spec.hcl_text import loads_hcl
from vault_state.vault.gateway import Gateway

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

OTHER = {"stack": "other", "ids": ["policy/other-policy"], "fingerprints": {}, "updated": "2026-01-01T00:00:00Z",
         "tool_version": "0"}
"""Another stack's inventory (as its apply would write it): its objects are not ours to prune."""

BLOCK = re.compile(r'^path "(?P<path>[^"]+)" \{\n  capabilities = (?P<caps>\[[^\]]*\])\n\}\n', re.M)
DENIED = re.compile(r"\b(GET|LIST|POST|PUT|DELETE) ([\w\-./+?=]+)")
_counter = itertools.count()


class Namespaces:
    """Fresh namespaces of one server, each with the policy under test as a token's only policy.
    `sent` collects the (method, path) of every request vault-state sends (for the order of runs)."""

    def __init__(self, bao: DevServer, cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
        self.bao, self.cli, self.files = bao, cli, files
        self.sent: set[str] = set()
        request = Gateway.request

        def recorded(gateway: Gateway, method: str, path: str, *args: Any, **kwargs: Any) -> tuple[int, Any]:
            self.sent.add(path.partition("?")[0])
            return request(gateway, method, path, *args, **kwargs)

        monkeypatch.setattr(Gateway, "request", recorded)

    def request(self, method: str, path: str, namespace: str, body: dict[str, object] | None = None) -> dict[str, Any]:
        headers = {"X-Vault-Token": self.bao.token, "X-Vault-Namespace": namespace}
        response = requests.request(method, f"{self.bao.address}/v1/{path}", json=body, headers=headers, timeout=10)
        assert response.status_code < 400, (method, path, response.text)
        return dict(response.json()) if response.content else {}

    def fresh(self, policy: str, earlier: bool) -> tuple[str, str]:
        """(namespace, token): `earlier`: the namespace first gets EARLIER (applied by root) and OTHER."""
        namespace = f"ns{next(_counter)}"
        self.bao.request("POST", f"sys/namespaces/{namespace}")
        if earlier:
            done = self.run(namespace, self.bao.token, "apply", "-f", str(self.files["earlier"]), "--auto-approve")
            assert done.code == 0, done.out[-1500:] + done.err
            self.request("POST", "sys/policies/acl/other-policy", namespace, {"policy": 'path "a" {capabilities = ["read"]}'})
            self.request("POST", "vault-state/data/inventory/other", namespace, {"data": OTHER})
        self.request("POST", "sys/policies/acl/vault-state", namespace, {"policy": policy})
        created = self.request("POST", "auth/token/create", namespace,
                               {"policies": ["vault-state"], "no_default_policy": True})
        return namespace, str(created["auth"]["client_token"])

    def run(self, namespace: str, token: str, *args: str) -> Result:
        env = {"VAULT_TOKEN": token, "VAULT_NAMESPACE": namespace, "ALICE_PASSWORD": PASSWORD}
        return self.cli(*args, env=env)

    def apply(self, policy: str, earlier: bool) -> tuple[str, str, Result]:
        namespace, token = self.fresh(policy, earlier)
        self.sent.clear()
        state = str(self.files["state"])
        return namespace, token, self.run(namespace, token, "apply", "-f", state, "--auto-approve", "--allow-destroy",
                                          "--allow-mass-change")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {name: write_state(tmp_path, text, f"{name}.yaml")
            for name, text in (("state", STATE), ("earlier", EARLIER))}


def required_policy(cli: Cli, state: Path) -> str:
    result = cli("required-policy", "-f", str(state))
    assert result.code == 0 and not result.err, result
    return result.out


def blocks(policy: str) -> list[tuple[str, str]]:
    """(path, the block's text) of every block, in order; the comments above a block stay outside it."""
    return [(m["path"], m.group(0)) for m in BLOCK.finditer(policy)]


@pytest.mark.timeout(300)
def test_the_policy_is_enough_and_every_block_is_needed(
    cli: Cli, bao: DevServer, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    policy = required_policy(cli, files["state"])
    found = blocks(policy)
    assert len(found) == policy.count('path "') > 40
    namespaces = Namespaces(bao, cli, files, monkeypatch)
    # Enough: on a fresh namespace (everything created), and after an earlier apply of the stack
    # and another stack's inventory (everything updated, the extra objects pruned); then nothing to do.
    used: dict[bool, set[str]] = {}
    for earlier in (False, True):
        namespace, token, applied = namespaces.apply(policy, earlier)
        used[earlier] = set(namespaces.sent)
        assert applied.code == 0, applied
        assert "Apply complete!" in applied.out
        assert (" 0 destroyed" not in applied.out) == earlier
        again = namespaces.run(namespace, token, "plan", "-f", str(files["state"]), "--detailed-exitcode")
        assert again.code == 0 and "No changes." in again.out, again
    # Needed: without any one block (or the sudo of a block that has it), plan or apply is refused
    # naming a request that block allows. A block is first tried in the run whose requests it
    # allowed: one run per block, mostly.
    variants = [(path, policy.replace(text, "")) for path, text in found]
    variants += [(path, policy.replace(text, text.replace(', "sudo"', ""))) for path, text in found if "sudo" in text]
    unneeded = []
    for path, without in variants:
        first = not any(matches(path, sent) for sent in used[False])
        for earlier in (first, not first):
            _, _, result = namespaces.apply(without, earlier)
            if result.code != 0:
                break
        else:
            unneeded.append(path)
            continue
        output = result.out + result.err
        assert "Traceback" not in output
        assert "permission denied" in output, (path, output)
        denied = [p.partition("?")[0] for _, p in DENIED.findall(output.split("permission denied", 1)[1])]
        assert any(matches(path, p) for p in denied), (path, output)
    assert unneeded == []
    print(f"{len(variants)} variants in {time.monotonic() - started:.1f} s")


def test_the_policy_is_valid_hcl_and_stable(cli: Cli, files: dict[str, Path]) -> None:
    first = required_policy(cli, files["state"])
    assert required_policy(cli, files["state"]) == first
    parsed = loads_hcl(first)["path"]
    paths = [path for path, _ in blocks(first)]
    assert paths == sorted(paths) == sorted(parsed) and len(set(paths)) == len(paths)
    assert parsed["sys/policies/acl/app-read"] == {"capabilities": ["create", "read", "update"]}
    assert parsed["sys/policies/acl/+"] == {"capabilities": ["delete"]}
    assert parsed["sys/auth/approle"] == {"capabilities": ["create", "update", "sudo"]}
