"""Plan warnings about the token reviewer JWT: a short-lived one makes every login fail once it expires.

Pure: reads the state file and the desired snapshot; the JWT is decoded for its `exp` claim only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from vault_state.errors import Diagnostic, Severity
from vault_state.kube.claims import jwt_claims
from vault_state.plan.model import Resource, ResourceId
from vault_state.spec.auth import KubernetesAuth
from vault_state.spec.models import StateFile
from vault_state.spec.types import KubeTokenSource

if TYPE_CHECKING:
    from vault_state.spec.positions import SourceMap

ALTERNATIVES = (
    "use a long-lived token instead (a Secret of type kubernetes.io/service-account-token for the reviewer's "
    "service account, read with {file: ...} or {env: ...}), or leave token_reviewer_jwt unset so Vault, "
    "running in the cluster, reviews tokens with its own pod's service account token"
)


def reviewer_warnings(
    state: StateFile, source: SourceMap, desired: Mapping[ResourceId, Resource]
) -> list[Diagnostic]:
    found = []
    for mount, method in state.auth_methods.items():
        if not isinstance(method, KubernetesAuth) or method.config is None:
            continue
        value = method.config.token_reviewer_jwt
        where = source.locate(("auth_methods", mount, "config", "token_reviewer_jwt"))
        if isinstance(value, KubeTokenSource):
            found.append(Diagnostic(
                where, "token_reviewer_jwt comes from a short-lived token (TokenRequest API): when it expires, "
                f"every login through auth/{mount} fails; {ALTERNATIVES}", Severity.WARNING, "short-lived-reviewer"))
            continue
        resource = desired.get(ResourceId("auth_method", mount))
        jwt = resource.write_only.get("config.token_reviewer_jwt") if resource else None
        if jwt is not None and "exp" in jwt_claims(jwt):
            found.append(Diagnostic(
                where, f"token_reviewer_jwt expires (it has an exp claim): then every login through auth/{mount} "
                f"fails; {ALTERNATIVES}", Severity.WARNING, "short-lived-reviewer"))
    return found
