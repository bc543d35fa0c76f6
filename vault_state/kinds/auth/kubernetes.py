"""Kubernetes auth: `auth/<mount>/config` (write replaces it whole) and `role/<name>` (writes merge).

token_reviewer_jwt is write-only: reads return only `token_reviewer_jwt_set`, which is what the
plan compares; the JWT itself is re-sent on every config write, since leaving it out clears it.
"""

from __future__ import annotations

from typing import Any

from vault_state.kinds.auth.shape import AuthType, Loc, Values, WriteOnly
from vault_state.kinds.auth.token import read_token, token_values
from vault_state.kinds.base import as_set, pem
from vault_state.spec.auth import KubernetesAuth, KubernetesRole
from vault_state.spec.sources import Resolver


def config_values(spec: KubernetesAuth, resolver: Resolver, loc: Loc) -> tuple[Values | None, WriteOnly]:
    config = spec.config
    if config is None:
        return None, {}
    ca = resolver.resolve(config.kubernetes_ca_cert, (*loc, "kubernetes_ca_cert"))
    values = {
        "kubernetes_host": config.kubernetes_host.rstrip("/"),
        "kubernetes_ca_cert": pem(ca),
        "pem_keys": sorted(str(pem(k)) for k in config.pem_keys),
        "disable_local_ca_jwt": config.disable_local_ca_jwt,
        "disable_iss_validation": config.disable_iss_validation,
        "issuer": config.issuer,
        "token_reviewer_jwt_set": config.token_reviewer_jwt is not None,
    }
    write_only: WriteOnly = {}
    if config.token_reviewer_jwt is not None:
        jwt = resolver.resolve(config.token_reviewer_jwt, (*loc, "token_reviewer_jwt"), secret=True)
        assert not isinstance(jwt, str)
        write_only["token_reviewer_jwt"] = jwt.map(str.strip)
    return values, write_only


def read_config(raw: dict[str, Any]) -> Values:
    return {
        # Stored verbatim: a trailing '/' on the host and the PEM's trailing newline are kept.
        "kubernetes_host": str(raw.get("kubernetes_host") or "").rstrip("/"),
        "kubernetes_ca_cert": pem(str(raw.get("kubernetes_ca_cert") or "")),
        "pem_keys": sorted(str(pem(k)) for k in raw.get("pem_keys") or []),
        "disable_local_ca_jwt": bool(raw.get("disable_local_ca_jwt")),
        # Deprecated, but still returned with these defaults.
        "disable_iss_validation": bool(raw.get("disable_iss_validation", True)),
        "issuer": raw.get("issuer") or "",
        "token_reviewer_jwt_set": bool(raw.get("token_reviewer_jwt_set")),
    }


def role_values(spec: KubernetesRole, resolver: Resolver, loc: Loc) -> tuple[Values, WriteOnly]:
    return {
        **token_values(spec),
        "bound_service_account_names": as_set(spec.bound_service_account_names),
        "bound_service_account_namespaces": as_set(spec.bound_service_account_namespaces),
        "bound_service_account_namespace_selector": spec.bound_service_account_namespace_selector,
        "audience": spec.audience,
        "alias_name_source": spec.alias_name_source,
    }, {}


def read_role(raw: dict[str, Any]) -> Values:
    return {
        **read_token(raw),
        "bound_service_account_names": as_set(raw.get("bound_service_account_names")),
        "bound_service_account_namespaces": as_set(raw.get("bound_service_account_namespaces")),
        "bound_service_account_namespace_selector": raw.get("bound_service_account_namespace_selector") or "",
        "audience": raw.get("audience") or "",  # absent from the read when unset
        "alias_name_source": raw.get("alias_name_source") or "serviceaccount_uid",
    }


def config_warnings(before: Values | None, after: Values | None) -> list[str]:
    if before and after and before.get("token_reviewer_jwt_set") and not after.get("token_reviewer_jwt_set"):
        return [
            "this config write CLEARS the token_reviewer_jwt set on the server: the file does not set one, "
            "and a kubernetes config write replaces the whole config"
        ]
    return []


TYPE = AuthType("role", config_values, read_config, role_values, read_role, config_warnings=config_warnings)
