"""The cluster client: the one module that imports the `kubernetes` package.

It picks the kubeconfig and context as kubectl does (KUBECONFIG, else ~/.kube/config, else the
in-cluster service account files when running in a pod), and turns API errors into `KubeError`
naming the operation and the HTTP status, never a body (a TokenRequest answer holds a token).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from vault_state.errors import ConfigurationError, VaultStateError
from vault_state.kube.settings import KubeSettings
from vault_state.sensitive import Sensitive

IN_CLUSTER_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
TIMEOUT = (5, 15)
T = TypeVar("T")


class KubeError(VaultStateError):
    """The Kubernetes API refused a request or could not be reached."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Cluster:
    """A connected cluster. Each method is one API call; results are plain values or Sensitive."""

    def __init__(self, api: Any, origin: str) -> None:
        self.api = api
        self.origin = origin

    @property
    def host(self) -> str:
        return str(self.api.configuration.host)

    def ca_pem(self) -> str:
        """The cluster CA the connection trusts (kubeconfig certificate-authority[-data], or the pod's ca.crt)."""
        path = self.api.configuration.ssl_ca_cert
        if not path:
            raise KubeError(f"{self.origin} names no certificate authority for the cluster")
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise KubeError(f"cannot read the cluster CA {path}: {exc.strerror or exc}") from None

    def configmap_ca(self, namespace: str) -> str:
        """`ca.crt` of the kube-root-ca.crt ConfigMap that Kubernetes publishes in every namespace."""
        what = f"read configmap {namespace}/{ROOT_CA_CONFIGMAP}"
        cm = self._call(what, lambda: self._core().read_namespaced_config_map(
            ROOT_CA_CONFIGMAP, namespace, _request_timeout=TIMEOUT))
        ca = (cm.data or {}).get("ca.crt")
        if not ca:
            raise KubeError(f"{what}: it has no ca.crt key")
        return str(ca)

    def create_token(self, namespace: str, name: str, audiences: list[str], expiration: int | None) -> Sensitive:
        """A service account token from the TokenRequest API, as `kubectl create token` makes."""
        spec = client.V1TokenRequestSpec(audiences=audiences, expiration_seconds=expiration)
        body = client.AuthenticationV1TokenRequest(spec=spec)
        answer = self._call(
            f"create token for serviceaccount {namespace}/{name}",
            lambda: self._core().create_namespaced_service_account_token(
                name, namespace, body, _request_timeout=TIMEOUT),
        )
        return Sensitive(str(answer.status.token))

    def service_account_exists(self, namespace: str, name: str) -> bool:
        try:
            self._call(f"read serviceaccount {namespace}/{name}", lambda: self._core().read_namespaced_service_account(
                name, namespace, _request_timeout=TIMEOUT))
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def may_create_tokenreviews(self, namespace: str, name: str) -> bool:
        """A SubjectAccessReview: may system:serviceaccount:NS:NAME create tokenreviews.authentication.k8s.io?"""
        spec = client.V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{namespace}:{name}",
            groups=["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
            resource_attributes=client.V1ResourceAttributes(
                group="authentication.k8s.io", resource="tokenreviews", verb="create"),
        )
        review = client.V1SubjectAccessReview(spec=spec)
        answer = self._call(
            "create subjectaccessreview",
            lambda: client.AuthorizationV1Api(self.api).create_subject_access_review(
                review, _request_timeout=TIMEOUT),
        )
        return bool(answer.status and answer.status.allowed)

    def _core(self) -> Any:
        return client.CoreV1Api(self.api)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ApiException as exc:
            raise KubeError(f"Kubernetes API: {what}: HTTP {exc.status} {exc.reason or ''}".rstrip(),
                            int(exc.status or 0)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeError(f"Kubernetes API: {what}: cannot reach {self.host}: {type(exc).__name__}") from None


def connect(settings: KubeSettings) -> Cluster:
    """Connect as kubectl would. Raises ConfigurationError when no cluster is configured."""
    env = settings.env
    paths = env.get("KUBECONFIG") or str(Path(env.get("HOME") or "~").expanduser() / ".kube" / "config")
    existing = [p for p in paths.split(os.pathsep) if p and Path(p).is_file()]
    try:
        if existing:
            configuration = client.Configuration()
            configuration.retries = 0
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=os.pathsep.join(existing), context=settings.context,
                client_configuration=configuration, persist_config=False,
            )
            where = f"kubeconfig {os.pathsep.join(existing)}" + (f" (context {settings.context})"
                                                                if settings.context else "")
            return Cluster(client.ApiClient(configuration), where)
        if env.get("KUBERNETES_SERVICE_HOST"):
            if settings.context:
                raise ConfigurationError("--kube-context needs a kubeconfig; in a pod there is only the in-cluster one")
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return Cluster(client.ApiClient(configuration), "the in-cluster service account")
    except ConfigException as exc:
        raise ConfigurationError(f"cannot use the Kubernetes configuration: {_first_line(exc)}") from None
    raise ConfigurationError(
        "no Kubernetes cluster: set KUBECONFIG, create ~/.kube/config, or run in a pod"
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
