"""Every declared field of every kind, against a real OpenBao server.

For each model a kind declares its fields with, EXAMPLES gives a non-default value for every
field (a test fails when a model gains a field without one). Each case applies those values and
checks that the plan is then empty, that `export` writes them back in a file that plans empty,
that removing them from the file shows each field in the plan and resets it, and that a value
changed behind the tool's back shows as that field's diff and is repaired.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES as EXAMPLE_DIR
from conftest import REVIEWER_JWT, Cli, read
from pydantic import BaseModel
from test_auth_kinds import public_key_pem

from vault_state.kinds import database, kubernetes_secrets, pki
from vault_state.kinds.audit_device import AuditDevice
from vault_state.kinds.auth import _TYPES
from vault_state.kinds.identity import Entity, Group
from vault_state.kinds.password_policy import PasswordPolicy
from vault_state.kinds.quota import RateLimitQuota
from vault_state.kinds.registry import DECLARED
from vault_state.kinds.ssh import SshCa, SshRole
from vault_state.kinds.sys_config import AuditedHeader, Cors, UiHeader
from vault_state.kinds.totp import TotpKey
from vault_state.kinds.transit import TransitKey
from vault_state.kinds.values import field_specs, kept_when_unset
from vault_state.sandbox import DevServer
from vault_state.spec.auth import (
    AppRoleRole,
    AuthTune,
    CertConfig,
    CertRole,
    JwtConfig,
    JwtRole,
    KubernetesConfig,
    KubernetesRole,
    _AuthBase,
)
from vault_state.spec.auth import UserpassUser as UserpassUserModel
from vault_state.spec.engines import KvConfig, SecretsEngine, Tune

CA = (EXAMPLE_DIR / "ca.crt").read_text()
TOKEN_FIELDS = {
    "token_ttl": "1h", "token_max_ttl": "2h", "token_explicit_max_ttl": "3h", "token_period": "45m",
    "token_policies": ["Zeta", "alpha"], "token_bound_cidrs": ["10.0.0.0/8", "127.0.0.1/32"],
    "token_no_default_policy": True, "token_num_uses": 4, "token_type": "service",
}
TUNE = {
    "default_lease_ttl": "30m", "max_lease_ttl": "12h", "listing_visibility": "unauth",
    "passthrough_request_headers": ["X-B", "X-A"], "allowed_response_headers": ["X-Resp"],
    "audit_non_hmac_request_keys": ["role"], "audit_non_hmac_response_keys": ["b", "a"],
}


@functools.cache
def key_pem() -> str:
    return public_key_pem(Path(tempfile.mkdtemp(prefix="round-trip-key-")), "k")


def pubkey(tmp: Path) -> str:
    return key_pem()


EXAMPLES: dict[type[BaseModel], Callable[[Path], dict[str, Any]]] = {
    Tune: lambda tmp: TUNE,
    KvConfig: lambda tmp: {"max_versions": 4, "cas_required": True, "delete_version_after": "36h"},
    SecretsEngine: lambda tmp: {
        "type": "kv", "version": 2, "description": "round trip", "local": True, "seal_wrap": True,
        "external_entropy_access": False, "force_no_cache": True, "tune": TUNE, "options": {"team": "payments"},
        "kv_config": {"max_versions": 4, "cas_required": True, "delete_version_after": "36h"},
    },
    AuthTune: lambda tmp: {**TUNE, "token_type": "default-batch"},
    _AuthBase: lambda tmp: {"description": "round trip", "local": True, "seal_wrap": True, "tune": TUNE},
    KubernetesConfig: lambda tmp: {
        "kubernetes_host": "https://kubernetes.example.internal:6443/", "kubernetes_ca_cert": CA,
        "token_reviewer_jwt": {"env": "TOKEN_REVIEWER_JWT"}, "pem_keys": [pubkey(tmp)],
        "disable_local_ca_jwt": True, "disable_iss_validation": False, "issuer": "https://kubernetes.default.svc",
    },
    KubernetesRole: lambda tmp: {
        **TOKEN_FIELDS, "bound_service_account_names": ["web", "api"],
        "bound_service_account_namespaces": ["prod"],
        "bound_service_account_namespace_selector": '{"matchLabels": {"team": "a"}}',
        "audience": "vault", "alias_name_source": "serviceaccount_name",
    },
    AppRoleRole: lambda tmp: {
        **TOKEN_FIELDS, "role_id": {"env": "FIXED_ROLE_ID", "sensitive": False}, "bind_secret_id": False, "secret_id_bound_cidrs": ["10.1.0.0/16", "10.2.0.1/32"],
        "secret_id_num_uses": 5, "secret_id_ttl": "10m", "local_secret_ids": True,
    },
    UserpassUserModel: lambda tmp: {**TOKEN_FIELDS, "password": {"env": "ALICE_PASSWORD"}},
    JwtConfig: lambda tmp: {
        "jwt_validation_pubkeys": [pubkey(tmp)], "jwt_supported_algs": ["RS512", "RS256"],
        "bound_issuer": {"env": "JWT_ISSUER"}, "default_role": "R", "namespace_in_state": False,
        "provider_config": {"provider": "azure"}, "override_allowed_server_names": ["idp.internal", "b.internal"],
    },
    CertConfig: lambda tmp: {"disable_binding": True, "enable_identity_alias_metadata": True, "ocsp_cache_size": 500},
    CertRole: lambda tmp: {
        **TOKEN_FIELDS, "certificate": {"file": str(ca_file(tmp)), "sensitive": False}, "display_name": "web",
        "allowed_names": ["*.example"], "allowed_common_names": ["web.example", "api.example"],
        "allowed_dns_sans": ["*.svc"], "allowed_email_sans": ["ops@example.com"],
        "allowed_uri_sans": ["spiffe://example/*"], "allowed_organizational_units": ["Platform"],
        "required_extensions": ["1.2.3.4:*"], "allowed_metadata_extensions": ["1.2.3.5", "2.1.1.1"],
        "ocsp_enabled": True, "ocsp_ca_certificates": CA,
        "ocsp_servers_override": ["http://ocsp-b.example", {"env": "OCSP_SERVER", "sensitive": False}],
        "ocsp_fail_open": True, "ocsp_query_all_servers": True,
    },
    JwtRole: lambda tmp: {
        **TOKEN_FIELDS, "role_type": "jwt", "user_claim": "repository", "user_claim_json_pointer": True,
        "bound_audiences": ["vault", "b"], "bound_subject": "repo:org/app", "bound_claims": {"ref": ["main"]},
        "bound_claims_type": "glob", "claim_mappings": {"actor": "who"}, "groups_claim": "groups",
        "allowed_redirect_uris": ["https://a.example/cb", {"env": "REDIRECT_URI", "sensitive": False}], "oidc_scopes": ["email", "profile"],
        "clock_skew_leeway": "1m", "expiration_leeway": "90s", "not_before_leeway": "2m", "max_age": "1h",
        "verbose_oidc_logging": True, "callback_mode": "device", "poll_interval": 7,
        "oidc_disable_confirmation": True, "token_policies_template_claims": True,
        "oauth2_metadata": ["refresh_token", "id_token"],
    },
    **{kind.model: (lambda tmp, kind=kind: TOKEN_ROLE) for kind in DECLARED if kind.name == "token_role"},
    TransitKey: lambda tmp: {
        "type": "chacha20-poly1305", "derived": True, "convergent_encryption": True, "exportable": True,
        "allow_plaintext_backup": True, "deletion_allowed": True, "min_encryption_version": 1,
        "auto_rotate_period": "2h",
    },
    pki.PkiRole: lambda tmp: PKI_ROLE,
    pki.PkiUrls: lambda tmp: {
        "issuing_certificates": ["https://vault.example/v1/pki/ca", "https://b.example/ca"],
        "crl_distribution_points": ["https://vault.example/v1/pki/crl"],
        "delta_crl_distribution_points": ["https://vault.example/v1/pki/crl/delta"],
        "ocsp_servers": ["https://ocsp.example"], "enable_templating": True,
    },
    pki.PkiCrl: lambda tmp: {
        "expiry": "48h", "disable": True, "ocsp_disable": True, "ocsp_expiry": "1h", "auto_rebuild": True,
        "auto_rebuild_grace_period": "6h", "enable_delta": True, "delta_rebuild_interval": "30m",
        "allow_expired_cert_revocation": True,
    },
    pki.PkiRoot: lambda tmp: PKI_ROOT,
    SshCa: lambda tmp: {"generate_signing_key": True, "key_type": "ec", "key_bits": 384},
    SshRole: lambda tmp: {
        "key_type": "ca", "default_user": "ops", "allowed_users": "ops, deploy,ops", "allow_user_certificates": True,
        "allow_host_certificates": True, "allowed_users_template": True, "allowed_domains": ["b.example", "a.example"],
        "allowed_domains_template": True, "default_user_template": True, "ttl": "30m", "max_ttl": "8h",
        "allowed_critical_options": "source-address,force-command", "allowed_extensions": "permit-pty,permit-X11-forwarding",
        "default_critical_options": {"source-address": "10.0.0.0/8"}, "default_extensions": {"permit-pty": ""},
        "default_extensions_template": True, "allow_bare_domains": True, "allow_subdomains": True,
        "allow_user_key_ids": True, "allow_commas_in_identity_templates": True,
        "allow_wildcards_in_identity_templates": True, "allow_empty_principals": True,
        "key_id_format": "{{role_name}}-{{token_display_name}}", "allowed_user_key_lengths": {"rsa": [4096, 2048], "ed25519": 0},
        "algorithm_signer": "rsa-sha2-512", "not_before_duration": "1m", "issuer_ref": "ops-ca",
    },
    TotpKey: lambda tmp: {
        "generate": True, "issuer": "Example Corp", "account_name": "alice@example.com", "period": "1m",
        "algorithm": "SHA512", "digits": 8, "key_size": 32, "skew": 0, "qr_size": 0, "exported": False,
    },
    AuditDevice: lambda tmp: {
        "type": "file", "description": "round trip", "local": True,
        "options": {"file_path": str(tmp / "audit.log"), "log_raw": "true", "hmac_accessor": "false", "format": "json"},
    },
    PasswordPolicy: lambda tmp: {"policy": PASSWORD_POLICY},
    RateLimitQuota: lambda tmp: {
        "path": "auth/ap", "rate": 1000.5, "interval": "2m", "block_interval": "1h", "role": "ci", "inheritable": True,
    },
    Cors: lambda tmp: {
        "enabled": True, "allowed_origins": ["https://b.example", "https://a.example"],
        "allowed_headers": ["X-Custom", "Authorization"], "allow_credentials": True,
    },
    UiHeader: lambda tmp: {"values": ["b", "a"]},
    AuditedHeader: lambda tmp: {"hmac": True},
    Entity: lambda tmp: {"policies": ["Zeta", "alpha"], "metadata": {"team": "payments", "b": "2"}, "disabled": True},
    # type: internal is the default; an external group (no members) is tested in test_identity.py.
    Group: lambda tmp: {
        "type": "internal", "policies": ["b", "A"], "metadata": {"k": "v"},
        "member_entities": ["e2", "e1"], "member_groups": ["m"],
    },
    database.DatabaseConnection: lambda tmp: {
        "plugin_name": "postgresql-database-plugin", "connection_url": {"env": "PG_URL"}, "username": "postgres",
        "password": {"env": "PG_PASSWORD"}, "allowed_roles": ["r", "*"], "password_policy": "db-passwords",
        "root_rotation_statements": ["ALTER ROLE \"{{username}}\" WITH PASSWORD '{{password}}';", "SELECT 1;"],
        "max_open_connections": 3, "max_idle_connections": 2, "max_connection_lifetime": "5m",
        "username_template": "v-{{.RoleName}}-{{random 8}}", "disable_escaping": True,
        "password_authentication": "scram-sha-256",
    },
    database.DatabaseRole: lambda tmp: {
        "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';", "SELECT 1;"],
        "revocation_statements": ["DROP ROLE \"{{name}}\";"], "rollback_statements": ["SELECT 2;", "SELECT 1;"],
        "renew_statements": ["SELECT 3;"], "default_ttl": "1h", "max_ttl": "24h",
        "credential_config": {"password_policy": "db-passwords"},
    },
    database.DatabaseStaticRole: lambda tmp: {
        "rotation_period": "12h", "rotation_statements": ["ALTER ROLE \"{{name}}\" WITH PASSWORD '{{password}}';"],
        "credential_config": {"password_policy": "db-passwords"},
    },
    kubernetes_secrets.KubernetesSecretsConfig: lambda tmp: {
        "kubernetes_host": "https://kubernetes.example.internal:6443/", "kubernetes_ca_cert": CA,
        "service_account_jwt": {"env": "TOKEN_REVIEWER_JWT"}, "disable_local_ca_jwt": True,
    },
    kubernetes_secrets.KubernetesSecretsRole: lambda tmp: {
        "allowed_kubernetes_namespaces": ["Apps", "web"],
        "allowed_kubernetes_namespace_selector": '{"matchLabels": {"team": "a"}}',
        "kubernetes_role_type": "ClusterRole",
        "generated_role_rules": '{"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}',
        "token_default_ttl": "1h", "token_max_ttl": "2h", "token_default_audiences": ["vault", "api"],
        "name_template": "v-{{.RoleName}}-{{random 4}}", "extra_annotations": {"owner": "team-a"},
        "extra_labels": {"app": "web", "tier": "b"},
    },
}
PASSWORD_POLICY = 'length = 24\r\nrule "charset" {\n  charset = "abcdefghjkmnpqrstuvwxyz"\n  min-chars = 2\n}\n\n'
API_AUDIT = "unsafe_allow_api_audit_creation = true\n"
TOKEN_ROLE = {
    "allowed_policies": ["CI", "deploy"], "disallowed_policies": ["root-ish"], "allowed_policies_glob": ["team-*"],
    "disallowed_policies_glob": ["admin-*"], "orphan": True, "renewable": False, "path_suffix": "ci-v1",
    "allowed_entity_aliases": ["Bob", "alice"], "token_bound_cidrs": ["10.0.0.0/8", "127.0.0.1/32"],
    "token_explicit_max_ttl": "2h", "token_no_default_policy": True, "token_num_uses": 3, "token_period": "1h",
    "token_type": "service",
}
# Examples of the cases that set a model's fields differently (the jwt config's other key sources).
# IDP_URL and IDP_CA stand for the local OIDC provider's (tests/oidc_fake.py) URL and CA certificate.
DISCOVERY = {
    "oidc_discovery_url": "IDP_URL", "oidc_discovery_ca_pem": "IDP_CA", "oidc_client_id": {"env": "OIDC_CLIENT"},
    "oidc_client_secret": {"env": "OIDC_SECRET"}, "oidc_response_mode": "form_post",
    "oidc_response_types": ["id_token", "code"], "bound_issuer": "IDP_URL",
}
JWKS = {"jwks_url": "IDP_JWKS", "jwks_ca_pem": "IDP_CA", "default_role": "ci"}
PKI_ROLE = {
    "allowed_domains": ["example.com", "example.org"], "allowed_domains_template": True, "allow_bare_domains": True,
    "allow_subdomains": True, "allow_glob_domains": True, "allow_wildcard_certificates": False,
    "allow_localhost": False, "allow_any_name": True, "allow_globs_in_identity_templates": True,
    "enforce_hostnames": False, "allow_ip_sans": False, "allowed_ip_sans_cidr": ["10.0.0.0/8", "10.1.0.1/32"],
    "allowed_uri_sans": ["spiffe://example/*"], "allowed_uri_sans_template": True,
    "allowed_other_sans": ["1.3.6.1.4.1.311.20.2.3;UTF8:*"], "allowed_serial_numbers": ["A*"],
    "allowed_user_ids": ["u1", "u2"], "cn_validations": ["disabled"], "server_flag": False, "client_flag": False,
    "code_signing_flag": True, "email_protection_flag": True, "key_type": "ec", "key_bits": 384,
    "signature_bits": 384, "use_pss": True, "key_usage": ["DigitalSignature", "CertSign"],
    "ext_key_usage": ["ServerAuth", "TimeStamping"], "ext_key_usage_oids": ["1.3.6.1.5.5.7.3.9"], "ttl": "1h",
    "max_ttl": "3d", "not_before_duration": "2m", "not_before": "2025-01-01T00:00:00Z", "not_before_bound": "forbid",
    "not_after": "2030-01-01T00:00:00Z", "not_after_bound": "ttl-limited", "no_store": True,
    "require_cn": False, "use_csr_common_name": False, "use_csr_sans": False,
    "basic_constraints_valid_for_non_ca": True, "ou": ["ops", "dev"], "organization": ["Example Inc"],
    "country": ["NL"], "locality": ["Amsterdam"], "province": ["NH"], "street_address": ["Main St 1"],
    "postal_code": ["1011"], "policy_identifiers": ["1.2.3.4"], "issuer_ref": "root-2026",
}
PKI_ROOT = {
    "common_name": "example.com", "key_type": "ec", "key_bits": 384, "signature_bits": 512, "use_pss": True,
    "ttl": "8760h", "issuer_name": "root-2026", "key_name": "root-key", "alt_names": ["ca.example.com"],
    "ip_sans": ["10.0.0.1"], "uri_sans": ["spiffe://example/ca"], "max_path_length": 2, "exclude_cn_from_sans": True,
    "permitted_dns_domains": ["example.com"], "ou": ["ops"], "organization": ["Example Inc"], "country": ["NL"],
    "locality": ["Amsterdam"], "province": ["NH"], "street_address": ["Main St 1"], "postal_code": ["1011"],
}
# Fields a case cannot set on this server: each needs something these tests do not run (say why).
ONLY_PASSWORD = "the postgresql plugin supports the password credential type only (tests/test_database.py)"
ONE_SOURCE = "one role source only: the case sets generated_role_rules (tests/test_kubernetes_secrets.py: the others)"
NOT_SET: dict[type[BaseModel], dict[str, str]] = {
    database.DatabaseConnection: {
        "plugin_name": "required: the one plugin this server has is the case's minimum",
        "verify_connection": "not returned, so never compared: tests/test_database.py writes to a database that is down",
        "rotate_root_after_create": "would rotate the shared PostgreSQL's root password: tests/test_database.py",
    },
    database.DatabaseRole: {"credential_type": ONLY_PASSWORD, "db_name": "required: the case's one connection"},
    database.DatabaseStaticRole: {
        "credential_type": ONLY_PASSWORD, "db_name": "required: the case's one connection",
        "username": "create-only: a change re-creates the role (tests/test_database.py)",
    },
    kubernetes_secrets.KubernetesSecretsRole: {"service_account_name": ONE_SOURCE, "kubernetes_role_name": ONE_SOURCE},
    JwtConfig: {
        name: "exactly one key source may be set: the pubkeys case sets jwt_validation_pubkeys"
        for name in ("oidc_discovery_url", "oidc_discovery_ca_pem", "oidc_client_id", "oidc_client_secret",
                     "oidc_response_mode", "oidc_response_types", "jwks_url", "jwks_ca_pem")
    },
    TransitKey: {
        "key_size": "hmac keys only (the case's key is derived, which hmac keys cannot be): test_transit.py",
        "min_decryption_version": "at most the key's latest version, 1 on a new key: test_transit.py rotates first",
    },
    SshRole: {name: "otp roles only (the case's role is a ca role): test_ssh.py" for name in
              ("cidr_list", "exclude_cidr_list", "port")},
    UserpassUserModel: {"password_hash": "an alternative to password (exactly one): test_auth_breadth logs in with one"},
    pki.PkiRole: {"generate_lease": "refused with no_store (set here): test_pki.py sets it alone"},
    pki.PkiRoot: {"pem_bundle": "exclusive with common_name: test_pki.py imports a bundle"},
}


def ca_file(tmp: Path) -> Path:
    path = tmp / "client-ca.pem"
    path.write_text(CA)
    return path


@dataclass(frozen=True)
class Case:
    """Where a model's object sits in a state file, and what else it needs there."""

    model: type[BaseModel]
    place: Callable[[dict[str, Any]], dict[str, Any]]  # the object -> a whole state file
    read_path: str  # where the object is read back on the server (drift is written there)
    drift: tuple[str, Any, str]  # (API field, value written behind the tool's back, the plan's field path)
    minimal: dict[str, Any]  # the object with only what it requires
    drift_path: str = ""  # where drift is written, when not at read_path (a transit key's config)
    whole: bool = False  # a write replaces the whole object: drift rewrites it from its read
    drift_base: tuple[tuple[str, Any], ...] = ()  # what a drift write needs besides the object's read
    kept: tuple[str, ...] = ()  # fields Vault can never reset (refused): the reset file keeps their value
    repair: tuple[str, ...] = ()  # flags the repair of drift needs (a re-create: --allow-destroy)
    compared: bool = True  # False: Vault returns none of the fields, so neither drift nor a reset shows
    server_config: str = ""  # the test server's configuration (DevServer.config_hcl)
    postgres: bool = False  # needs the PostgreSQL fixture: PG_URL/PG_PASSWORD in the environment

    example: dict[str, Any] | None = None  # instead of EXAMPLES[model]: another way to set the fields
    idp: bool = False  # needs the local OIDC provider (the `oidc` fixture)
    name: str = ""


    @property
    def id(self) -> str:
        return self.name or self.model.__name__


def _engine(kind: str, section: str, name: str | None = None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The object inside an engine of type `kind`, mounted at `kind`'s first letter."""
    return lambda o: {"secrets_engines": {kind[0]: {"type": kind, kind: {section: {name: o} if name else o}}}}


def _k8s(obj: dict[str, Any]) -> dict[str, Any]:
    return {"auth_methods": {"k8s": {"type": "kubernetes", "roles": {"r": obj}}}}


CASES = [
    Case(SecretsEngine, lambda o: {"secrets_engines": {"kv": o}}, "sys/mounts/kv/tune",
         ("description", "changed", "description"), {"type": "kv", "version": 2}),
    Case(Tune, lambda o: {"secrets_engines": {"t": {"type": "transit", "tune": o}}}, "sys/mounts/t/tune",
         ("max_lease_ttl", "99h", "tune.max_lease_ttl"), {}),
    Case(KvConfig, lambda o: {"secrets_engines": {"kv": {"type": "kv-v2", "kv_config": o}}}, "kv/config",
         ("max_versions", 7, "kv_config.max_versions"), {}),
    Case(_AuthBase, lambda o: {"auth_methods": {"ap": {"type": "approle", **o}}}, "sys/auth/ap/tune",
         ("description", "changed", "description"), {}),
    Case(AuthTune, lambda o: {"auth_methods": {"ap": {"type": "approle", "tune": o}}}, "sys/auth/ap/tune",
         ("token_type", "batch", "tune.token_type"), {}),
    Case(KubernetesConfig, lambda o: {"auth_methods": {"k8s": {"type": "kubernetes", "config": o}}},
         "auth/k8s/config", ("issuer", "https://other", "config.issuer"),
         # Without a CA, Vault reads the pod's ca.crt: absent here.
         {"kubernetes_host": "https://kubernetes.example.internal:6443", "kubernetes_ca_cert": CA}),
    Case(KubernetesRole, _k8s, "auth/k8s/role/r", ("audience", "other", "audience"),
         {"bound_service_account_names": ["web"], "bound_service_account_namespaces": ["prod"]}),
    Case(AppRoleRole, lambda o: {"auth_methods": {"ap": {"type": "approle", "roles": {"r": o}}}},
         "auth/ap/role/r", ("secret_id_num_uses", 9, "secret_id_num_uses"), {"local_secret_ids": True}),
    Case(UserpassUserModel, lambda o: {"auth_methods": {"up": {"type": "userpass", "users": {"alice": o}}}},
         "auth/up/users/alice", ("token_num_uses", 9, "token_num_uses"), {"password": {"env": "ALICE_PASSWORD"}}),
    Case(JwtConfig, lambda o: {"auth_methods": {"j": {"type": "jwt", "config": o}}}, "auth/j/config",
         ("bound_issuer", "https://other", "config.bound_issuer"), {"jwt_validation_pubkeys": "KEY"}),
    # A drift write replaces the whole config, so it carries the client secret Vault never returns.
    Case(JwtConfig, lambda o: {"auth_methods": {"j": {"type": "oidc", "config": o}}}, "auth/j/config",
         ("oidc_response_types", ["code"], "config.oidc_response_types"),
         {"oidc_discovery_url": "IDP_URL", "oidc_discovery_ca_pem": "IDP_CA"},
         example=DISCOVERY, idp=True, name="JwtConfig-discovery"),
    Case(JwtConfig, lambda o: {"auth_methods": {"j": {"type": "jwt", "config": o}}}, "auth/j/config",
         ("default_role", "other", "config.default_role"), {"jwks_url": "IDP_JWKS", "jwks_ca_pem": "IDP_CA"},
         example=JWKS, idp=True, name="JwtConfig-jwks"),
    Case(CertConfig, lambda o: {"auth_methods": {"c": {"type": "cert", "config": o}}}, "auth/c/config",
         ("ocsp_cache_size", 300, "config.ocsp_cache_size"), {}),
    Case(CertRole, lambda o: {"auth_methods": {"c": {"type": "cert", "roles": {"r": o}}}}, "auth/c/certs/r",
         ("allowed_dns_sans", ["x.other"], "allowed_dns_sans"), {"certificate": CA}),
    Case(JwtRole, lambda o: {"auth_methods": {"j": {"type": "jwt", "roles": {"r": o}}}}, "auth/j/role/r",
         ("groups_claim", "other", "groups_claim"),
         {"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["vault"]}),
    Case(TransitKey, _engine("transit", "keys", "k"), "t/keys/k", ("deletion_allowed", False, "deletion_allowed"),
         {}, drift_path="t/keys/k/config",
         kept=("type", "derived", "convergent_encryption", "exportable", "allow_plaintext_backup")),
    Case(pki.PkiRole, _engine("pki", "roles", "r"), "p/roles/r",
         ("allow_bare_domains", False, "allow_bare_domains"), {}, whole=True),
    Case(pki.PkiUrls, _engine("pki", "urls"), "p/config/urls", ("ocsp_servers", ["https://other"], "ocsp_servers"), {}),
    Case(pki.PkiCrl, _engine("pki", "crl"), "p/config/crl", ("ocsp_expiry", "2h", "ocsp_expiry"), {}),
    # The drift is a second issuer generated by hand: nothing is compared, so the plan stays empty.
    Case(pki.PkiRoot, _engine("pki", "root"), "p/config/issuers", ("common_name", "drift.example", ""),
         {"common_name": "example.com"}, drift_path="p/root/generate/internal", compared=False),
    Case(SshCa, _engine("ssh", "ca"), "s/config/ca", ("generate_signing_key", True, ""), {},
         drift_base=(("key_type", "ssh-ed25519"),), compared=False),
    Case(SshRole, _engine("ssh", "roles", "r"), "s/roles/r", ("key_id_format", "other", "key_id_format"),
         {"key_type": "ca", "allow_user_certificates": True}, whole=True),
    Case(TotpKey, _engine("totp", "keys", "k"), "t/keys/k", ("account_name", "drifted", "account_name"),
         {"issuer": "Acme", "account_name": "a@b"}, whole=True, drift_base=(("generate", True),),
         repair=("--allow-destroy",)),
    *[Case(kind.model, lambda o, kind=kind: {kind.section: {"r": o}}, kind.place.api_path("r"),
           ("orphan", False, "orphan"), {}) for kind in DECLARED if kind.name == "token_role"],
    # A replace (every audit device field is create-only): the drift is a device re-enabled with other options.
    Case(AuditDevice, lambda o: {"audit_devices": {"file": o}}, "sys/audit/file",
         ("REPLACE", {"type": "file", "options": {"file_path": "/dev/null"}}, "options.file_path"),
         {"type": "file", "options": {"file_path": "/dev/null"}}, server_config=API_AUDIT),
    Case(PasswordPolicy, lambda o: {"password_policies": {"p": o}}, "sys/policies/password/p",
         ("policy", 'length = 8\nrule "charset" {\n  charset = "ab"\n}\n', "policy"),
         {"policy": 'length = 10\nrule "charset" {\n  charset = "xyz"\n}\n'}),
    Case(RateLimitQuota, lambda o: {"auth_methods": {"ap": {"type": "approle"}}, "quotas": {"rate_limit": {"q": o}}},
         "sys/quotas/rate-limit/q", ("rate", 2000, "rate"), {"path": "auth/ap", "rate": 1000}),
    Case(Cors, lambda o: {"sys_config": {"cors": o}}, "sys/config/cors",
         ("allowed_origins", ["https://other.example"], "allowed_origins"), {}),
    Case(UiHeader, lambda o: {"sys_config": {"ui_headers": {"x-round-trip": o}}}, "sys/config/ui/headers/X-Round-Trip",
         ("values", ["c"], "values"), {"values": ["z"]}),
    Case(AuditedHeader, lambda o: {"sys_config": {"audited_headers": {"X-Round-Trip": o}}},
         "sys/config/auditing/request-headers/x-round-trip", ("hmac", False, "hmac"), {}),
    *[Case(kind.model, lambda o: {"token_auth": {"tune": o}}, "sys/auth/token/tune",
           ("listing_visibility", "hidden", "listing_visibility"), {}) for kind in DECLARED if kind.name == "token_auth"],
    Case(Entity, lambda o: {"identity": {"entities": {"r": o}}}, "identity/entity/name/r",
         ("disabled", False, "disabled"), {}),
    # Members exist in the file; drift drops one of them (Vault keeps the rest of the group).
    Case(Group, lambda o: {"identity": {"entities": {"e1": {}, "e2": {}}, "groups": {"m": {}, "r": o}}},
         "identity/group/name/r", ("policies", ["other"], "policies"), {}),
]
def _db(section: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    connection = {"plugin_name": "postgresql-database-plugin", "connection_url": {"env": "PG_URL"},
                  "username": "postgres", "password": {"env": "PG_PASSWORD"}, "allowed_roles": ["*"]}
    return lambda o: {"secrets_engines": {"db": {"type": "database", "database": {
        "connections": {"c": o if section == "connections" else connection},
        **({section: {"r": o}} if section != "connections" else {}),
    }}}}


def _kube(o: dict[str, Any], section: str) -> dict[str, Any]:
    return {"secrets_engines": {"k": {"type": "kubernetes", "kubernetes": {section: o}}}}


CASES += [
    Case(database.DatabaseConnection, _db("connections"), "db/config/c",
         ("max_open_connections", 7, "max_open_connections"),
         {"plugin_name": "postgresql-database-plugin", "connection_url": {"env": "PG_URL"}, "username": "postgres",
          "password": {"env": "PG_PASSWORD"}}, postgres=True),
    Case(database.DatabaseRole, _db("roles"), "db/roles/r", ("default_ttl", 60, "default_ttl"),
         {"db_name": "c"}, postgres=True),
    Case(database.DatabaseStaticRole, _db("static_roles"), "db/static-roles/r",
         ("rotation_period", 600, "rotation_period"),
         {"db_name": "c", "username": "round_trip_owner", "rotation_period": "24h"}, postgres=True, whole=True),
    Case(kubernetes_secrets.KubernetesSecretsConfig, lambda o: _kube(o, "config"), "k/config",
         ("kubernetes_host", "https://other", "kubernetes_host"), {}),
    Case(kubernetes_secrets.KubernetesSecretsRole, lambda o: _kube({"r": o}, "roles"), "k/roles/r",
         ("token_max_ttl", 99999, "token_max_ttl"),
         {"allowed_kubernetes_namespaces": ["apps"], "generated_role_rules": "rules: []"}),
]
ENV = {
    "TOKEN_REVIEWER_JWT": REVIEWER_JWT, "ALICE_PASSWORD": "alice-pass-SECRET-1", "FIXED_ROLE_ID": "ci-fixed-role-id",
    "JWT_ISSUER": "https://issuer.example", "REDIRECT_URI": "https://b.example/cb",
    "OCSP_SERVER": "http://ocsp-a.example", "OIDC_CLIENT": "vault-client", "OIDC_SECRET": "oidc-SECRET-2",
}


def declared_models() -> set[type[BaseModel]]:
    """Every model whose fields some kind reads and writes through kinds/values.py."""
    models: set[type[BaseModel]] = {SecretsEngine, Tune, KvConfig, _AuthBase, AuthTune}
    for auth in _TYPES.values():
        models |= {m for m in (auth.role_model, auth.config_model) if m is not None}
    return models | {kind.model for kind in DECLARED}


def fields_of(model: type[BaseModel]) -> set[str]:
    return {f.name for f in field_specs(model) if not f.meta}


def test_every_declared_model_has_a_case_and_every_field_an_example(tmp_path: Path) -> None:
    assert declared_models() == set(EXAMPLES) == {case.model for case in CASES}
    for model, make in EXAMPLES.items():
        given = set(make(tmp_path)).union(*(case.example or {} for case in CASES if case.model is model))
        assert given | set(NOT_SET.get(model, {})) == fields_of(model), model.__name__


def state_text(case: Case, obj: dict[str, Any], tmp: Path, idp: Any = None) -> Path:
    path = tmp / "state.yaml"
    stand_ins = {"KEY": lambda: [key_pem()], "IDP_URL": lambda: idp.url, "IDP_CA": lambda: idp.ca_pem,
                 "IDP_JWKS": lambda: f"{idp.url}/keys"}
    obj = {k: stand_ins[v]() if isinstance(v, str) and v in stand_ins else v for k, v in obj.items()}
    path.write_text(json.dumps({"version": 1, **case.place(obj)}, indent=1))  # JSON is YAML
    return path


def postgres_env(request: pytest.FixtureRequest, bao: DevServer) -> dict[str, str]:
    """The session's PostgreSQL for the database cases (its owner user and a password policy exist)."""
    postgres = request.getfixturevalue("postgres")
    postgres.admin("DO $$BEGIN CREATE ROLE round_trip_owner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$")
    bao.request("PUT", "sys/policies/password/db-passwords", {"policy": 'length = 24\nrule "charset" {\n'
                '  charset = "abcdefghijklmnopqrstuvwxyz0123456789"\n}\n'})
    return {"PG_URL": postgres.url, "PG_PASSWORD": postgres.password}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_field_applies_reads_back_exports_resets_and_repairs(
    case: Case,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    bao = DevServer(config_hcl=case.server_config).start()
    try:
        round_trip(case, Cli(capsys, monkeypatch, bao), bao, tmp_path, request)
    finally:
        bao.stop()


def round_trip(case: Case, cli: Cli, bao: DevServer, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    idp = request.getfixturevalue("oidc") if case.idp else None
    env = {**ENV, **(postgres_env(request, bao) if case.postgres else {})}
    full = {**case.minimal, **(case.example or EXAMPLES[case.model](tmp_path))}
    state = state_text(case, full, tmp_path, idp)
    applied = cli("apply", "-f", str(state), "--auto-approve", env=env)
    assert applied.code == 0, applied.out + applied.err
    assert_empty(cli, state, env)

    exported = cli("export", env=env)
    assert exported.code == 0, exported.err
    # Every non-default field is exported (not only planned empty, which an absent object also is).
    defaults = {f.name: f.default for f in field_specs(case.model)}
    exportable = {n for n, v in full.items() if v != defaults.get(n) and not _source(v)} - write_only(case.model)
    exportable -= {f.name for f in field_specs(case.model) if f.not_returned}  # export cannot know them
    missing = {n for n in exportable if f"{n}:" not in exported.out}
    assert not missing, exported.out
    copy = tmp_path / "exported.yaml"
    copy.write_text(exported.out)
    placeholders = {line.split()[-1]: "x" for line in exported.out.splitlines() if "write-only: set" in line}
    # The placeholders hold other values than those sent: their fingerprints differ (docs/ownership.md).
    assert_empty(cli, copy, {**env, **placeholders}, "--no-fingerprints")

    # A config write replaces the whole config: drift is the current config with one field changed.
    whole = case.whole or case.read_path.endswith("/config") or case.read_path == "sys/config/cors"
    current = read(bao, case.read_path) if whole else {}
    if current.get("oidc_client_id"):  # Vault refuses a client id without its secret
        current["oidc_client_secret"] = ENV["OIDC_SECRET"]
    if case.drift[0] == "REPLACE":  # no update exists: the object is re-created with other values
        bao.request("DELETE", case.read_path)
        bao.request("POST", case.read_path, case.drift[1])
    elif case.read_path.startswith("sys/quotas/"):  # a quota write replaces it: every field again
        bao.request("POST", case.read_path, {**read(bao, case.read_path), case.drift[0]: case.drift[1]})
    else:
        body = {**current, **dict(case.drift_base), case.drift[0]: case.drift[1]}
        assert bao.request("POST", case.drift_path or case.read_path, body).ok
    if not case.compared:  # the drift is a write Vault accepted, and the plan still compares nothing
        assert_empty(cli, state, env)
        assert_empty(cli, state_text(case, case.minimal, tmp_path, idp), env)
        return
    drifted = cli("plan", "-f", str(state), env=env)
    assert f"~ {case.drift[2]}:" in drifted.out, drifted.out
    repaired = cli("apply", "-f", str(state), "--auto-approve", *case.repair, env=env)
    assert repaired.code == 0, repaired.out + repaired.err
    assert_empty(cli, state, env)

    reset = state_text(case, {**case.minimal, **{k: full[k] for k in case.kept}}, tmp_path, idp)
    planned = cli("plan", "-f", str(reset), env=env)
    prefix = case.drift[2].rpartition(".")[0]  # the object's place in its resource ("tune", "config")
    diffs = [line.split(":")[0].strip().removeprefix("~ ") for line in planned.out.splitlines() if " ~ " in line]
    shown = {path.removeprefix(f"{prefix}.").split(".")[0] for path in diffs}
    settable = set(full) - set(case.minimal) - write_only(case.model) - {"type", "version"} - nested(case.model)
    settable -= set(case.kept)
    settable -= kept_when_unset(case.model)  # compared only when given: removing one keeps the server's value
    replaced = "-/+" in planned.out  # create-only fields (enable-time flags) reset by a replace
    assert replaced or settable <= shown, planned.out
    result = cli("apply", "-f", str(reset), "--auto-approve", "--allow-destroy", env=env)
    assert result.code == 0, result.out + result.err
    assert_empty(cli, reset, env)


def _source(value: Any) -> bool:
    """A value source ({env: ...}): export writes what Vault returns, or a source only for secrets."""
    return isinstance(value, dict) and bool({"env", "file"} & set(value))


def write_only(model: type[BaseModel]) -> set[str]:
    return {f.name for f in field_specs(model) if f.write_only is not None}


def nested(model: type[BaseModel]) -> set[str]:
    return {f.name for f in field_specs(model) if f.nested is not None}


def assert_empty(cli: Cli, path: Path, env: dict[str, str] | None = None, *flags: str) -> None:
    result = cli("plan", "-f", str(path), "--detailed-exitcode", *flags, env=env or ENV)
    assert result.code == 0, result.out + result.err
    assert "No changes." in result.out


def test_reads_back_what_vault_stores(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """The canonical forms are Vault's: lowercased entity aliases and policies, bare host CIDRs."""
    case = next(c for c in CASES if c.read_path == "auth/token/roles/r")
    (case,) = [c for c in CASES if c.read_path == "auth/token/roles/r"]
    state = state_text(case, TOKEN_ROLE, tmp_path)
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    role = read(bao, "auth/token/roles/r")
    assert role["allowed_entity_aliases"] == ["alice", "bob"] and role["allowed_policies"] == ["ci", "deploy"]
    assert sorted(role["token_bound_cidrs"]) == ["10.0.0.0/8", "127.0.0.1"]
