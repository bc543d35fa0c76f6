"""`vault-state eso-manifests`: the External Secrets Operator manifests (external-secrets.io/v1) that
match the `external_secrets:` section, as YAML for a Flux-managed directory.

Pure up to `write_manifests`: each store becomes a SecretStore or ClusterSecretStore whose
server, KV path and version, auth mount, role, service account and audience come from the file,
so the two sides cannot drift apart. Only v1 is generated (v1beta1 is no longer served).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from vault_state.errors import VaultStateError
from vault_state.spec.access import ExternalSecrets, Store
from vault_state.spec.access_checks import engine_version, kubernetes_role
from vault_state.spec.models import StateFile

API_VERSION = "external-secrets.io/v1"


@dataclass(frozen=True)
class Manifest:
    filename: str
    body: dict[str, Any]


def manifests(state: StateFile, ca_pem: str | None, example: bool = False) -> list[Manifest]:
    """One manifest per store (and, with `example`, an ExternalSecret per store reading one key)."""
    section = _section(state)
    found = []
    for store in section.stores:
        found.append(Manifest(f"{store.kind.lower()}-{store.name}.yaml", store_manifest(state, section, store, ca_pem)))
        if example:
            found.append(Manifest(f"externalsecret-{store.name}-example.yaml", example_external_secret(store)))
    return found


def store_manifest(state: StateFile, section: ExternalSecrets, store: Store, ca_pem: str | None) -> dict[str, Any]:
    vault: dict[str, Any] = {
        "server": section.server,
        "path": store.secrets_engine,
        "version": f"v{engine_version(state, store)}",
    }
    if section.namespace:
        vault["namespace"] = section.namespace
    if store.ca_provider is not None:
        vault["caProvider"] = store.ca_provider.model_dump(exclude_none=True)
    elif ca_pem and section.server.startswith("https://"):
        vault["caBundle"] = base64.b64encode(ca_pem.encode()).decode()
    vault["auth"] = {"kubernetes": _kubernetes_auth(state, store)}
    metadata: dict[str, Any] = {"name": store.name}
    if store.namespace:
        metadata["namespace"] = store.namespace
    return {"apiVersion": API_VERSION, "kind": store.kind, "metadata": metadata,
            "spec": {"provider": {"vault": vault}}}


def _kubernetes_auth(state: StateFile, store: Store) -> dict[str, Any]:
    auth: dict[str, Any] = {"mountPath": store.auth_method, "role": store.role}
    account = store.service_account
    if account is not None:
        ref: dict[str, Any] = {"name": account.name}
        if store.kind == "ClusterSecretStore" or account.namespace != store.namespace:
            ref["namespace"] = account.namespace
        role = kubernetes_role(state, store.auth_method, store.role)
        if role is not None and role.audience:
            # The token ESO requests must carry the audience the role requires, or the login fails.
            ref["audiences"] = [role.audience]
        auth["serviceAccountRef"] = ref
    return auth


def example_external_secret(store: Store) -> dict[str, Any]:
    """An ExternalSecret reading key `password` of secret `example` through the store."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {"name": "example", "namespace": store.namespace or "default"},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": store.kind, "name": store.name},
            "target": {"name": "example", "creationPolicy": "Owner"},
            "data": [{"secretKey": "password", "remoteRef": {"key": "example", "property": "password"}}],
        },
    }


def kustomization(found: list[Manifest]) -> Manifest:
    return Manifest("kustomization.yaml", {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [m.filename for m in found],
    })


def to_yaml(body: dict[str, Any]) -> str:
    yaml = YAML()  # round-trip mode keeps the keys in the order written (Kubernetes style)
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1 << 16  # a base64 caBundle stays on one line
    out = io.StringIO()
    yaml.dump(body, out)
    return out.getvalue()


def stream(found: list[Manifest]) -> str:
    """All manifests as one multi-document YAML stream."""
    return "".join(f"---\n{to_yaml(m.body)}" for m in found)


def write_manifests(found: list[Manifest], directory: Path) -> list[Path]:
    """Write each manifest and a kustomization.yaml listing them into `directory` (created if needed)."""
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for manifest in [*found, kustomization(found)]:
            path = directory / manifest.filename
            path.write_text(to_yaml(manifest.body), encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise VaultStateError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    return written


def _section(state: StateFile) -> ExternalSecrets:
    if state.external_secrets is None:
        raise VaultStateError("the state file has no external_secrets section: nothing to render")
    return state.external_secrets
