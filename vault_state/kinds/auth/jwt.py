"""JWT/OIDC auth: `config` (writes replace it; oidc_client_secret is write-only) and `role/<name>`.

Unset role lists and maps read back as null; JWT public keys lose their trailing newline.
"""

from __future__ import annotations

from typing import Any

from vault_state.kinds.auth.shape import AuthType, Loc, Values, WriteOnly
from vault_state.kinds.auth.token import read_token, token_values
from vault_state.kinds.base import as_set
from vault_state.sensitive import Sensitive
from vault_state.spec.auth import JwtAuth, JwtConfig, JwtRole
from vault_state.spec.sources import Resolver

_CONFIG_STRINGS = (
    "oidc_discovery_url", "oidc_discovery_ca_pem", "oidc_client_id", "oidc_response_mode",
    "jwks_url", "jwks_ca_pem", "bound_issuer", "default_role",
)
_CONFIG_LISTS = ("oidc_response_types", "jwt_supported_algs")


def config_values(spec: JwtAuth, resolver: Resolver, loc: Loc) -> tuple[Values | None, WriteOnly]:
    config: JwtConfig | None = spec.config
    if config is None:
        return None, {}
    values: Values = {k: getattr(config, k) for k in _CONFIG_STRINGS}
    values.update({k: as_set(getattr(config, k)) for k in _CONFIG_LISTS})
    values["jwt_validation_pubkeys"] = sorted(k.strip() for k in config.jwt_validation_pubkeys)
    values["namespace_in_state"] = config.namespace_in_state
    write_only: WriteOnly = {}
    if config.oidc_client_secret is not None:
        secret = resolver.resolve(config.oidc_client_secret, (*loc, "oidc_client_secret"), secret=True)
        assert isinstance(secret, Sensitive)
        write_only["oidc_client_secret"] = secret
    return values, write_only


def read_config(raw: dict[str, Any]) -> Values:
    values: Values = {k: raw.get(k) or "" for k in _CONFIG_STRINGS}
    values.update({k: as_set(raw.get(k)) for k in _CONFIG_LISTS})
    values["jwt_validation_pubkeys"] = sorted(str(k).strip() for k in raw.get("jwt_validation_pubkeys") or [])
    values["namespace_in_state"] = bool(raw.get("namespace_in_state", True))
    return values


_ROLE_SCALARS = (
    "role_type", "user_claim", "user_claim_json_pointer", "bound_subject", "bound_claims_type",
    "groups_claim", "clock_skew_leeway", "expiration_leeway", "not_before_leeway", "max_age",
    "verbose_oidc_logging",
)
_ROLE_DEFAULTS: dict[str, Any] = {
    "role_type": "oidc", "user_claim": "", "user_claim_json_pointer": False, "bound_subject": "",
    "bound_claims_type": "string", "groups_claim": "", "clock_skew_leeway": 0, "expiration_leeway": 0,
    "not_before_leeway": 0, "max_age": 0, "verbose_oidc_logging": False,
}


def role_values(spec: JwtRole, resolver: Resolver, loc: Loc) -> tuple[Values, WriteOnly]:
    values: Values = {**token_values(spec), **{k: getattr(spec, k) for k in _ROLE_SCALARS}}
    values.update(
        bound_audiences=as_set(spec.bound_audiences),
        allowed_redirect_uris=as_set(spec.allowed_redirect_uris),
        oidc_scopes=as_set(spec.oidc_scopes),
        bound_claims=dict(sorted(spec.bound_claims.items())),
        claim_mappings=dict(sorted(spec.claim_mappings.items())),
    )
    return values, {}


def read_role(raw: dict[str, Any]) -> Values:
    values: Values = {**read_token(raw)}
    for key, default in _ROLE_DEFAULTS.items():
        value = raw.get(key)
        values[key] = default if value is None else value
    values.update(
        # Unset lists and maps read back as null, not [] or {}.
        bound_audiences=as_set(raw.get("bound_audiences")),
        allowed_redirect_uris=as_set(raw.get("allowed_redirect_uris")),
        oidc_scopes=as_set(raw.get("oidc_scopes")),
        bound_claims=dict(sorted((raw.get("bound_claims") or {}).items())),
        claim_mappings=dict(sorted((raw.get("claim_mappings") or {}).items())),
    )
    return values


TYPE = AuthType("role", config_values, read_config, role_values, read_role)
