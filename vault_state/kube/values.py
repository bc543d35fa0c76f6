"""Values read from the cluster for `{kubernetes: ca_cert}` and `{kubernetes: token}` sources."""

from __future__ import annotations

from vault_state.kube.cluster import Cluster
from vault_state.sensitive import Sensitive
from vault_state.spec.types import KubeCaSource, KubeTokenSource


def read_value(cluster: Cluster, source: KubeCaSource | KubeTokenSource) -> Sensitive:
    """The value, always Sensitive. Raises KubeError when the API refuses or cannot be reached."""
    if isinstance(source, KubeTokenSource):
        return cluster.create_token(source.namespace, source.service_account, source.audiences, source.expiration)
    if source.configmap_namespace:
        return Sensitive(cluster.configmap_ca(source.configmap_namespace))
    return Sensitive(cluster.ca_pem())
