"""`vault-state required-policy` for namespaces the file declares (their paths prefixed, a pruned
namespace read before it is deleted) and for `moved:` (sys/remount, a policy and a role deleted
at their old names), against a real OpenBao: enough, and every block needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli, write_state
from required_policy_check import Namespaces, blocks, check_enough_and_needed, required_policy

from vault_state.sandbox import DevServer

STATE = """
version: 1
prune: {namespaces: true}
moved:
  - {from: policy/old-reader, to: policy/reader}
  - {from: secrets_engine/old-kv, to: secrets_engine/kv}
  - {from: auth_role/approle/old, to: auth_role/approle/ci}
policies:
  reader: 'path "kv/data/*" { capabilities = ["read"] }'
secrets_engines:
  kv: {type: kv, version: 2, description: moved here}
auth_methods:
  approle: {type: approle, roles: {ci: {token_policies: [reader]}}}
namespaces:
  team-a:
    custom_metadata: {owner: a}
    secrets_engines:
      kv: {type: kv, version: 2, kv_config: {max_versions: 4}}
    policies:
      reader: 'path "kv/data/*" { capabilities = ["read"] }'
    namespaces:
      dev: {}
"""

# Before the moves, and with namespaces the file does not declare (at every level), to prune.
EARLIER = """
version: 1
policies:
  old-reader: 'path "kv/data/*" { capabilities = ["read"] }'
secrets_engines:
  old-kv: {type: kv, version: 2}
auth_methods:
  approle: {type: approle, description: old, roles: {old: {token_policies: [old-reader]}}}
namespaces:
  gone: {secrets_engines: {x: {type: kv, version: 2}}}
  team-a:
    custom_metadata: {owner: old}
    secrets_engines:
      kv: {type: kv, version: 2, description: old, kv_config: {max_versions: 2}}
    policies:
      reader: 'path "kv/data/old/*" { capabilities = ["read"] }'
    namespaces:
      dev: {namespaces: {gone3: {}}}
      gone2: {}
"""


@pytest.mark.timeout(300)
def test_namespaces_and_moves(cli: Cli, bao: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {name: write_state(tmp_path, text, f"{name}.yaml") for name, text in (("state", STATE), ("earlier", EARLIER))}
    policy = required_policy(cli, files["state"])
    paths = [path for path, _ in blocks(policy)]
    for expected in ("team-a/sys/mounts/kv", "team-a/sys/namespaces/dev", "team-a/sys/namespaces/+",
                     "+/sys/mounts", "team-a/+/sys/mounts", "sys/remount", "sys/remount/status/+",
                     "sys/policies/acl/old-reader", "auth/approle/role/old"):
        assert expected in paths, expected
    namespaces = Namespaces(bao, cli, files, monkeypatch, {})
    assert check_enough_and_needed(namespaces, policy) == len(paths) + policy.count('"sudo"]')
