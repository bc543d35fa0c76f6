"""The cluster side of `vault-state doctor`, for each kubernetes auth method of the file.

Checks that each role's bound service accounts exist, that the token reviewer may create
TokenReviews (a SubjectAccessReview), that kubernetes_host answers over TLS verified with the
configured CA, and that roles set an audience. JWTs are decoded for their claims, never shown.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import requests

from vault_state.errors import VaultStateError
from vault_state.findings import Finding, fail, ok, warn
from vault_state.kube.claims import service_account_of
from vault_state.sensitive import Sensitive
from vault_state.spec.auth import KubernetesAuth, KubernetesConfig
from vault_state.spec.models import StateFile
from vault_state.spec.sources import Resolver
from vault_state.spec.types import KubeTokenSource

AUTH_DELEGATOR = "kubectl create clusterrolebinding {name}-tokenreview --clusterrole=system:auth-delegator " \
    "--serviceaccount={namespace}:{name}"


def cluster_findings(state: StateFile, resolver: Resolver, cluster: Callable[[], Any]) -> list[Finding]:
    methods = {m: a for m, a in state.auth_methods.items() if isinstance(a, KubernetesAuth)}
    if not methods:
        return []
    found = [f for mount, method in methods.items() for f in _audiences(mount, method)]
    try:
        connected = cluster()
    except VaultStateError as exc:
        return [*found, fail(f"cluster: {exc}", "set KUBECONFIG or pass --kube-context")]
    found.append(ok(f"cluster: connected through {connected.origin}"))
    for mount, method in methods.items():
        found += _guarded(_bound_accounts(mount, method, connected))
        if method.config is not None:
            loc = ("auth_methods", mount, "config")
            found += _guarded(_reviewer(mount, method.config, resolver, loc, connected))
            found += [_host(mount, method.config, resolver, loc)]
    return found


def _guarded(findings: Iterator[Finding]) -> list[Finding]:
    """The findings up to the first API error, which becomes a failure of its own."""
    done: list[Finding] = []
    try:
        done.extend(findings)
    except VaultStateError as exc:
        done.append(fail(str(exc), "check the cluster credentials (kubectl auth can-i) and the network"))
    return done


def _audiences(mount: str, method: KubernetesAuth) -> Iterator[Finding]:
    for name, role in method.roles.items():
        if not role.audience:
            yield warn(f"auth/{mount} role '{name}' has no audience: tokens for any audience can log in",
                       "set audience (e.g. vault) on the role; eso-manifests then requests tokens for it")


def _bound_accounts(mount: str, method: KubernetesAuth, cluster: Any) -> Iterator[Finding]:
    for role_name, role in method.roles.items():
        for namespace in role.bound_service_account_namespaces:
            for name in role.bound_service_account_names:
                if "*" in (namespace, name):
                    continue
                where = f"serviceaccount {namespace}/{name} (bound by auth/{mount} role '{role_name}')"
                if cluster.service_account_exists(namespace, name):
                    yield ok(f"{where} exists")
                else:
                    yield fail(f"{where} does not exist",
                               f"kubectl -n {namespace} create serviceaccount {name}, or correct the role's "
                               "bound_service_account_names / bound_service_account_namespaces")


def _reviewer(
    mount: str, config: KubernetesConfig, resolver: Resolver, loc: tuple[str, ...], cluster: Any
) -> Iterator[Finding]:
    source = config.token_reviewer_jwt
    if source is None:
        yield warn(f"auth/{mount}: token_reviewer_jwt is unset, so Vault reviews tokens with its own pod's "
                   "service account (or each login's own JWT)",
                   "bind that service account to system:auth-delegator")
        return
    if isinstance(source, KubeTokenSource):
        account: tuple[str, str] | None = (source.namespace, source.service_account)
    else:
        jwt = resolver.resolve(source, (*loc, "token_reviewer_jwt"), secret=True)
        account = service_account_of(jwt if isinstance(jwt, Sensitive) else Sensitive(jwt))
    if account is None:
        yield warn(f"auth/{mount}: cannot tell the token reviewer's service account from token_reviewer_jwt",
                   "make sure it is bound to system:auth-delegator")
        return
    namespace, name = account
    if cluster.may_create_tokenreviews(namespace, name):
        yield ok(f"auth/{mount}: reviewer {namespace}/{name} may create tokenreviews")
    else:
        yield fail(f"auth/{mount}: reviewer {namespace}/{name} may not create tokenreviews.authentication.k8s.io, "
                   "so every login fails", AUTH_DELEGATOR.format(namespace=namespace, name=name))


def _host(mount: str, config: KubernetesConfig, resolver: Resolver, loc: tuple[str, ...]) -> Finding:
    resolved = resolver.resolve(config.kubernetes_host, (*loc, "kubernetes_host"))
    host = (resolved.reveal() if isinstance(resolved, Sensitive) else resolved).rstrip("/")
    ca = resolver.resolve(config.kubernetes_ca_cert, (*loc, "kubernetes_ca_cert"))
    pem = ca.reveal() if isinstance(ca, Sensitive) else ca  # a CA is public; it only goes to the TLS check
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as bundle:
        bundle.write(pem)
        bundle.flush()
        try:
            requests.get(f"{host}/version", verify=bundle.name if pem.strip() else True, timeout=5)
        except requests.exceptions.SSLError:
            return fail(f"auth/{mount}: {host} answers, but its certificate does not verify with kubernetes_ca_cert",
                        "set kubernetes_ca_cert to the cluster's CA, e.g. {kubernetes: ca_cert}")
        except requests.exceptions.RequestException as exc:
            inside = ".svc" in host or "kubernetes.default" in host
            message = f"auth/{mount}: cannot reach {host} from here ({type(exc).__name__})"
            if inside:
                return warn(message + "; it is a cluster-internal name",
                            "fine if Vault runs in the cluster; otherwise use an address Vault can reach")
            return fail(message, "use an address of the API server that Vault can reach")
    return ok(f"auth/{mount}: {host} is reachable and its certificate verifies with kubernetes_ca_cert")
