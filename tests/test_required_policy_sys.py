"""`vault-state required-policy` for the server-wide kinds (audit devices, CORS, UI and audited
headers, the token auth method's tune, rate limit quotas: sudo where Vault asks for it) and the
engines' other kinds (ssh, totp, kubernetes secrets), password policies and generic endpoints,
against real OpenBao dev servers (one per run: these kinds live in the root namespace only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli, write_state
from required_policy_check import Servers, blocks, check_enough_and_needed, required_policy

API_AUDIT = "unsafe_allow_api_audit_creation = true\n"

STATE = """
version: 1
stack: sys
prune: {audit_devices: owned, password_policies: owned, rate_limit_quotas: owned, ui_headers: owned,
        audited_headers: owned, ssh_roles: owned, totp_keys: owned, kubernetes_secrets_roles: owned}
audit_devices:
  file: {type: file, options: {file_path: /dev/null}}
sys_config:
  cors: {enabled: true, allowed_origins: ["https://a.example"]}
  ui_headers: {x-team: {values: [a]}}
  audited_headers: {X-Request-Id: {hmac: true}}
token_auth:
  tune: {default_lease_ttl: 1h}
password_policies:
  strong: {policy: "length = 20\\nrule \\"charset\\" {\\n  charset = \\"abcdefgh\\"\\n}\\n"}
quotas:
  rate_limit:
    ssh-limit: {path: ssh, rate: 1000}
secrets_engines:
  ssh:
    type: ssh
    ssh:
      ca: {generate_signing_key: true, key_type: ssh-ed25519}
      roles:
        dev: {key_type: ca, allow_user_certificates: true, default_user: ops}
  totp:
    type: totp
    totp:
      keys:
        k: {generate: true, issuer: Acme, account_name: a@b}
  k8s:
    type: kubernetes
    kubernetes:
      config:
        kubernetes_host: https://kubernetes.example.internal:6443/
        kubernetes_ca_cert: {file: ca.crt, sensitive: false}
        service_account_jwt: {env: TOKEN_REVIEWER_JWT}
        disable_local_ca_jwt: true
      roles:
        r: {allowed_kubernetes_namespaces: [apps], generated_role_rules: "rules: []"}
  kv1: {type: kv, version: 1}
generic:
  kv1/app: {data: {owner: team-a}}
"""

# Every object differs where the kind can change in place (so apply updates it), and each prunable
# kind has one more object (so prune: owned deletes it).
EARLIER = """
version: 1
stack: sys
audit_devices:
  file: {type: file, options: {file_path: /dev/null}}
  file2: {type: file, options: {file_path: /dev/null}}
sys_config:
  cors: {enabled: true, allowed_origins: ["https://old.example"]}
  ui_headers: {x-team: {values: [old]}, x-old: {values: [old]}}
  audited_headers: {X-Request-Id: {hmac: false}, X-Old: {hmac: false}}
token_auth:
  tune: {default_lease_ttl: 2h}
password_policies:
  strong: {policy: "length = 10\\nrule \\"charset\\" {\\n  charset = \\"xyz\\"\\n}\\n"}
  old: {policy: "length = 10\\nrule \\"charset\\" {\\n  charset = \\"xyz\\"\\n}\\n"}
quotas:
  rate_limit:
    ssh-limit: {path: ssh, rate: 500}
    old: {path: kv1, rate: 5}
secrets_engines:
  ssh:
    type: ssh
    description: old
    ssh:
      ca: {generate_signing_key: true, key_type: ssh-ed25519}
      roles:
        dev: {key_type: ca, allow_user_certificates: true, default_user: old}
        old: {key_type: ca, allow_user_certificates: true}
  totp:
    type: totp
    description: old
    totp:
      keys:
        k: {generate: true, issuer: Acme, account_name: a@b}
        old: {generate: true, issuer: Acme, account_name: old@b}
  k8s:
    type: kubernetes
    description: old
    kubernetes:
      config:
        kubernetes_host: https://old.example.internal:6443/
        kubernetes_ca_cert: {file: ca.crt, sensitive: false}
        service_account_jwt: {env: TOKEN_REVIEWER_JWT}
        disable_local_ca_jwt: true
      roles:
        r: {allowed_kubernetes_namespaces: [old], generated_role_rules: "rules: []"}
        old: {allowed_kubernetes_namespaces: [old], generated_role_rules: "rules: []"}
  kv1: {type: kv, version: 1, description: old}
generic:
  kv1/app: {data: {owner: old}}
"""


@pytest.mark.timeout(300)
def test_server_wide_and_engine_kinds(offline_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {name: write_state(tmp_path, text, f"{name}.yaml") for name, text in (("state", STATE), ("earlier", EARLIER))}
    policy = required_policy(offline_cli, files["state"])
    sudo = {path for path, text in blocks(policy) if '"sudo"]' in text}
    assert {"sys/audit", "sys/audit/file", "sys/audit/+", "sys/config/cors", "sys/config/auditing/request-headers",
            "sys/config/ui/headers/X-Team", "sys/auth/token/tune"} <= sudo
    servers = Servers(offline_cli, files, monkeypatch, {}, API_AUDIT)
    try:
        assert check_enough_and_needed(servers, policy) == len(blocks(policy)) + len(sudo)
    finally:
        servers.close()
