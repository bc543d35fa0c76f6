"""Secrets engines and policies against a real OpenBao server: idempotence, drift, reset, prune, replace."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, read, write_state

from vault_state.sandbox import DevServer

ENGINES = """
version: 1
secrets_engines:
  apps:
    type: kv-v2
    description: apps kv
    tune:
      default_lease_ttl: 1h
      max_lease_ttl: 24h
      listing_visibility: unauth
      passthrough_request_headers: [X-B, X-A]
      audit_non_hmac_request_keys: [b, a]
    kv_config: {max_versions: 3, cas_required: true, delete_version_after: 768h}
  legacy:
    type: kv
    version: 1
  transit:
    type: transit
    tune: {max_lease_ttl: 90m}
  local-pki:
    type: pki
    local: true
    seal_wrap: true
    force_no_cache: true
    external_entropy_access: false
policies:
  eso-policy: |
    path "apps/data/*" {
      capabilities = ["read"]
    }
  structured:
    path:
      "apps/metadata/*": {capabilities: [read, list]}
      "apps/data/team/*": {capabilities: [create, update], required_parameters: [owner]}
  Mixed-Case: "path \\"x/*\\" { capabilities = [\\"list\\"] }\\r\\n\\r\\n"
"""


def test_engines_and_policies_are_idempotent(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, ENGINES))
    assert cli("apply", "-f", state, "--auto-approve").code == 0
    result = cli("plan", "-f", state, "--detailed-exitcode")
    assert result.code == 0, result.out
    assert "No changes." in result.out
    mounts = bao.request("GET", "sys/mounts").json()["data"]
    assert mounts["apps/"]["options"] == {"version": "2"}
    assert mounts["apps/"]["config"]["max_lease_ttl"] == 86400
    assert mounts["local-pki/"]["local"] is True and mounts["local-pki/"]["seal_wrap"] is True
    assert read(bao, "apps/config")["delete_version_after"] == "768h0m0s"
    assert "transit/" in mounts and "options" not in (mounts["transit/"].get("options") or {})
    assert read(bao, "sys/policies/acl/mixed-case")["policy"].endswith("}\n")


def test_no_write_when_nothing_changed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, ENGINES))
    cli("apply", "-f", state, "--auto-approve")
    version = read(bao, "sys/policies/acl/eso-policy")["version"]
    assert cli("apply", "-f", state, "--auto-approve").code == 0
    assert read(bao, "sys/policies/acl/eso-policy")["version"] == version  # a write bumps it


def test_drift_shows_and_apply_repairs_it(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, ENGINES))
    cli("apply", "-f", state, "--auto-approve")
    bao.request("POST", "sys/mounts/apps/tune", {"default_lease_ttl": "2h", "description": "changed"})
    bao.request("DELETE", "sys/policies/acl/eso-policy")
    bao.request("POST", "apps/config", {"max_versions": 7})
    result = cli("plan", "-f", state, "--detailed-exitcode")
    assert result.code == 2
    assert "  ~ secrets_engine/apps\n" in result.out
    assert '~ description: "changed" -> "apps kv"' in result.out
    assert "~ tune.default_lease_ttl: 7200 -> 3600" in result.out
    assert "~ kv_config.max_versions: 7 -> 3" in result.out
    assert "  + policy/eso-policy\n" in result.out
    assert "Plan: 1 to add, 1 to change, 0 to destroy." in result.out
    assert cli("apply", "-f", state, "--auto-approve").code == 0
    assert cli("plan", "-f", state, "--detailed-exitcode").code == 0


def test_policy_change_shows_a_text_diff(cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, ENGINES)
    cli("apply", "-f", str(state), "--auto-approve")
    state.write_text(ENGINES.replace('capabilities = ["read"]', 'capabilities = ["read", "list"]'))
    result = cli("plan", "-f", str(state))
    assert "  ~ policy/eso-policy\n" in result.out
    assert '    -  capabilities = ["read"]' in result.out
    assert '    +  capabilities = ["read", "list"]' in result.out


def test_removing_a_field_resets_it(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, ENGINES)
    cli("apply", "-f", str(state), "--auto-approve")
    state.write_text(
        ENGINES.replace("      listing_visibility: unauth\n", "")
        .replace("    kv_config: {max_versions: 3, cas_required: true, delete_version_after: 768h}\n", "")
        .replace("      passthrough_request_headers: [X-B, X-A]\n", "")
    )
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    config = bao.request("GET", "sys/mounts/apps").json()["data"]["config"]
    assert "listing_visibility" not in config and "passthrough_request_headers" not in config
    kv = read(bao, "apps/config")
    assert (kv["max_versions"], kv["cas_required"], kv["delete_version_after"]) == (0, False, "0s")
    assert cli("plan", "-f", str(state), "--detailed-exitcode").code == 0


def test_kv_upgrade_from_version_1_to_2_is_an_update(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, ENGINES)
    cli("apply", "-f", str(state), "--auto-approve")
    state.write_text(ENGINES.replace("  legacy:\n    type: kv\n    version: 1", "  legacy:\n    type: kv\n    version: 2"))
    result = cli("apply", "-f", str(state), "--auto-approve")
    assert result.code == 0, result.err
    assert "  ~ secrets_engine/legacy\n" in result.out and "~ version: 1 -> 2" in result.out
    assert bao.request("GET", "sys/mounts/legacy").json()["data"]["options"] == {"version": "2"}
    assert cli("plan", "-f", str(state), "--detailed-exitcode").code == 0


PRUNE = """
version: 1
policies:
  keep: 'path "a" { capabilities = ["read"] }'
secrets_engines:
  keep-kv: {type: kv, version: 2}
"""


def _extra_objects(bao: DevServer) -> None:
    bao.request("PUT", "sys/policies/acl/stray", {"policy": 'path "b" { capabilities = ["read"] }'})
    bao.request("POST", "sys/mounts/stray-kv", {"type": "kv", "options": {"version": "2"}})
    bao.request("PUT", "stray-kv/data/important", {"data": {"k": "v"}})


def test_without_prune_nothing_is_deleted(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    _extra_objects(bao)
    state = str(write_state(tmp_path, PRUNE))
    result = cli("apply", "-f", state, "--auto-approve")
    assert result.code == 0 and "stray" not in result.out
    assert read(bao, "sys/policies/acl/stray")
    assert "stray-kv/" in bao.request("GET", "sys/mounts").json()["data"]


def test_prune_deletes_policies_but_never_default(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    _extra_objects(bao)
    state = str(write_state(tmp_path, PRUNE + "prune: {policies: true}\n"))
    result = cli("apply", "-f", state, "--auto-approve")
    assert result.code == 0, result.err
    assert "  - policy/stray\n" in result.out
    assert "policy/default" not in result.out and "policy/root" not in result.out
    assert bao.request("GET", "sys/policies/acl/stray").status_code == 404
    assert read(bao, "sys/policies/acl/default")


def test_destroy_guard_refuses_before_any_change(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    _extra_objects(bao)
    state = str(write_state(tmp_path, PRUNE + "prune: {policies: true, secrets_engines: true}\n"))
    plan = cli("plan", "-f", state)
    assert "  - secrets_engine/stray-kv\n" in plan.out and "DESTROYS DATA" in plan.out
    assert "secrets_engine/cubbyhole" not in plan.out and "sys" not in plan.out.replace("sys/", "")
    refused = cli("apply", "-f", state, "--auto-approve")
    assert refused.code == 1
    assert "state.yaml:7:42: secrets_engine/stray-kv: this plan disables it, destroying its data; pass --allow-destroy" in refused.err
    assert "nothing was changed" in refused.err
    assert read(bao, "sys/policies/acl/stray")  # the refusal came before the policy delete too
    assert bao.request("GET", "keep-kv/config").status_code == 404  # nor any create
    allowed = cli("apply", "-f", state, "--auto-approve", "--allow-destroy")
    assert allowed.code == 0, allowed.err
    assert "stray-kv/" not in bao.request("GET", "sys/mounts").json()["data"]
    assert "cubbyhole/" in bao.request("GET", "sys/mounts").json()["data"]


def test_replace_needs_allow_destroy_and_prevent_destroy_blocks_it(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, "version: 1\nsecrets_engines:\n  x: {type: kv, version: 2}\n")
    cli("apply", "-f", str(state), "--auto-approve")
    state.write_text("version: 1\nsecrets_engines:\n  x: {type: transit}\n")
    plan = cli("plan", "-f", str(state))
    assert "  -/+ secrets_engine/x\n" in plan.out
    assert "# replace: type cannot change on an enabled mount (\"kv\" -> \"transit\")" in plan.out
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in plan.out
    assert cli("apply", "-f", str(state), "--auto-approve").code == 1
    state.write_text("version: 1\nsecrets_engines:\n  x: {type: transit, prevent_destroy: true}\n")
    blocked = cli("apply", "-f", str(state), "--auto-approve", "--allow-destroy")
    assert blocked.code == 1 and "has prevent_destroy: true" in blocked.err
    assert bao.request("GET", "sys/mounts/x").json()["data"]["type"] == "kv"
    state.write_text("version: 1\nsecrets_engines:\n  x: {type: transit}\n")
    assert cli("apply", "-f", str(state), "--auto-approve", "--allow-destroy").code == 0
    assert bao.request("GET", "sys/mounts/x").json()["data"]["type"] == "transit"
    assert cli("plan", "-f", str(state), "--detailed-exitcode").code == 0


def test_kv_without_version_is_version_1_as_in_vault(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """Terraform's first mount test: `type: kv` and no version. Vault creates KV version 1; so does apply,
    and lint asks whether version 2 was meant."""
    state = str(write_state(tmp_path, "version: 1\nsecrets_engines:\n  legacy:\n    type: kv\n"))
    result = cli("apply", "-f", state, "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert "KV version 1: did you mean version 2?" in result.err + result.out
    mount = bao.request("GET", "sys/mounts").json()["data"]["legacy/"]
    assert mount["type"] == "kv" and (mount.get("options") or {}).get("version") in (None, "1")
    again = cli("plan", "-f", state, "--detailed-exitcode")
    assert again.code == 0, again.out
    write_state(tmp_path, "version: 1\nsecrets_engines:\n  legacy:\n    type: kv\n    version: 1\n")
    assert cli("plan", "-f", state, "--detailed-exitcode").code == 0
