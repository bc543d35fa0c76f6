"""`vault-state eso-manifests` and the `external_secrets:` section: output validated against ESO's own CRDs."""

from __future__ import annotations

import base64
import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema import Draft7Validator
from ruamel.yaml import YAML

from tests.conftest import EXAMPLES, Cli

ESO_CRDS = Path(__file__).resolve().parent / "data" / "eso"  # copied unchanged, with source and license
CRD_FILES = {
    "ClusterSecretStore": "external-secrets.io_clustersecretstores.yaml",
    "SecretStore": "external-secrets.io_secretstores.yaml",
    "ExternalSecret": "external-secrets.io_externalsecrets.yaml",
}


def closed(schema: Any) -> Any:
    """The schema with unknown fields refused where the CRD lists the fields (the API server prunes
    them silently; a misspelt field must fail here instead)."""
    if isinstance(schema, dict):
        schema = {k: closed(v) for k, v in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


@functools.cache
def crd_validator(kind: str) -> Draft7Validator:
    path = ESO_CRDS / CRD_FILES[kind]
    if not path.is_file():
        pytest.fail(f"ESO's CRDs are missing: expected {path} (tests/data/eso, see its SOURCE.md)")
    crd = yaml.safe_load(path.read_text())  # PyYAML's C loader: these files are large
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    assert version["served"] is True
    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return Draft7Validator(closed(schema))


def validate_manifest(document: dict[str, Any]) -> None:
    assert document["apiVersion"] == "external-secrets.io/v1"
    errors = sorted(crd_validator(document["kind"]).iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


STATE = """\
version: 1
secrets_engines:
  secret: {type: kv, version: 2}
policies:
  eso-policy: |
    path "secret/data/*" { capabilities = ["read"] }
auth_methods:
  kubernetes:
    type: kubernetes
    roles:
      eso-role:
        bound_service_account_names: [external-secrets]
        bound_service_account_namespaces: [external-secrets]
        token_policies: [eso-policy]
        audience: vault
external_secrets:
  server: https://vault.vault.svc:8200
"""


def write(tmp_path: Path, text: str) -> str:
    (tmp_path / "ca.crt").write_text((EXAMPLES / "ca.crt").read_text())
    (tmp_path / "state.yaml").write_text(text)
    return str(tmp_path / "state.yaml")


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in YAML(typ="safe").load_all(text) if d is not None]


def test_cluster_secret_store_matches_the_file_and_the_crd(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, STATE + """\
  stores:
    - name: vault-backend
      secrets_engine: secret
      auth_method: kubernetes
      role: eso-role
      service_account: {name: external-secrets, namespace: external-secrets}
""")
    result = offline_cli("eso-manifests", "-f", file, "--example-external-secret")
    assert (result.code, result.err) == (0, "")
    assert result.out == """\
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: vault-backend
spec:
  provider:
    vault:
      server: https://vault.vault.svc:8200
      path: secret
      version: v2
      auth:
        kubernetes:
          mountPath: kubernetes
          role: eso-role
          serviceAccountRef:
            name: external-secrets
            namespace: external-secrets
            audiences:
              - vault
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: example
  namespace: default
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: vault-backend
  target:
    name: example
    creationPolicy: Owner
  data:
    - secretKey: password
      remoteRef:
        key: example
        property: password
"""
    for document in documents(result.out):
        validate_manifest(document)


def test_secret_store_with_ca_bundle_and_ca_provider(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, STATE.replace("        audience: vault\n", "") + """\
  ca_cert: {file: ca.crt}
  namespace: team-a
  stores:
    - name: team-a
      kind: SecretStore
      namespace: external-secrets
      secrets_engine: secret
      auth_method: kubernetes
      role: eso-role
      service_account: {name: external-secrets, namespace: external-secrets}
    - name: shared
      secrets_engine: secret
      auth_method: kubernetes
      role: eso-role
      ca_provider: {type: ConfigMap, name: vault-ca, namespace: vault}
""")
    result = offline_cli("eso-manifests", "-f", file, "--example-external-secret")
    assert result.code == 0, result.err
    store, example, cluster_store, _ = documents(result.out)
    vault = store["spec"]["provider"]["vault"]
    assert base64.b64decode(vault["caBundle"]).decode() == (EXAMPLES / "ca.crt").read_text()
    assert vault["namespace"] == "team-a"
    # Same namespace as the SecretStore: no namespace in the ref; no audience on the role: none requested.
    assert vault["auth"] == {"kubernetes": {"mountPath": "kubernetes", "role": "eso-role",
                                            "serviceAccountRef": {"name": "external-secrets"}}}
    assert store["metadata"] == {"name": "team-a", "namespace": "external-secrets"}
    assert example["metadata"]["namespace"] == "external-secrets"
    assert cluster_store["spec"]["provider"]["vault"]["caProvider"] == {
        "type": "ConfigMap", "name": "vault-ca", "key": "ca.crt", "namespace": "vault"}
    assert "serviceAccountRef" not in cluster_store["spec"]["provider"]["vault"]["auth"]["kubernetes"]
    for document in documents(result.out):
        validate_manifest(document)


def test_output_directory_gets_a_kustomization(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, STATE + """\
  stores:
    - {name: vault-backend, secrets_engine: secret, auth_method: kubernetes, role: eso-role}
""")
    out = tmp_path / "flux" / "eso"
    result = offline_cli("eso-manifests", "-f", file, "-o", str(out), "--example-external-secret")
    assert (result.code, result.out) == (0, "")
    assert result.err == (f"wrote {out}/clustersecretstore-vault-backend.yaml\n"
                          f"wrote {out}/externalsecret-vault-backend-example.yaml\n"
                          f"wrote {out}/kustomization.yaml\n")
    assert (out / "kustomization.yaml").read_text() == """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - clustersecretstore-vault-backend.yaml
  - externalsecret-vault-backend-example.yaml
"""
    for name in ("clustersecretstore-vault-backend.yaml", "externalsecret-vault-backend-example.yaml"):
        validate_manifest(YAML(typ="safe").load((out / name).read_text()))


def test_a_misspelt_field_fails_the_crd_check() -> None:
    with pytest.raises(AssertionError):
        validate_manifest({"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
                           "metadata": {"name": "x"},
                           "spec": {"provider": {"vault": {"server": "https://v", "auth": {
                               "kubernetes": {"mountpath": "kubernetes", "role": "r"}}}}}})


def test_store_references_are_validated(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, STATE.replace("secrets_engines:\n", "secrets_engines:\n  transit: {type: transit}\n") + """\
  stores:
    - name: missing-engine
      secrets_engine: kv
      auth_method: kubernetes
      role: eso-role
    - name: not-kv
      secrets_engine: transit
      auth_method: kubernetes
      role: nope
    - name: wrong-account
      secrets_engine: secret
      auth_method: kubernetes
      role: eso-role
      service_account: {name: default, namespace: external-secrets}
    - name: wrong-account
      secrets_engine: secret
      auth_method: approle
      role: eso-role
""")
    result = offline_cli("validate", "-f", file)
    assert result.code == 1
    assert result.err == (
        f"{file}:21:23: secrets engine 'kv' is not in this file\n"
        f"{file}:25:23: secrets engine 'transit' has type transit; expected kv\n"
        f"{file}:27:13: auth method 'kubernetes' has no role 'nope' in this file\n"
        f"{file}:32:24: role 'eso-role' does not bind service account external-secrets/default (it binds names "
        "['external-secrets'] in namespaces ['external-secrets']); ESO's login would be refused\n"
        f"{file}:33:13: ClusterSecretStore 'wrong-account' is declared twice\n"
        f"{file}:35:20: auth method 'approle' is not in this file\n"
    )


def test_secret_store_needs_a_namespace(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, STATE + """\
  stores:
    - {name: s, kind: SecretStore, secrets_engine: secret, auth_method: kubernetes, role: eso-role}
""")
    result = offline_cli("validate", "-f", file)
    assert (result.code, result.err) == (1, f"{file}:19:7: stores: a SecretStore needs 'namespace'\n")


def test_find_needs_metadata_read_and_list(offline_cli: Cli, tmp_path: Path) -> None:
    text = STATE + """\
  stores:
    - name: vault-backend
      secrets_engine: secret
      auth_method: kubernetes
      role: eso-role
      find: true
"""
    file = write(tmp_path, text)
    result = offline_cli("lint", "-f", file)
    assert (
        f"{file}:23:13: warning: store 'vault-backend' uses dataFrom.find, but the policies of role 'eso-role' "
        "grant no read or list on 'secret/metadata/*': ESO lists and reads secret metadata there to find secrets "
        "[eso-find-metadata]\n"
    ) in result.out + result.err
    fixed = text.replace('capabilities = ["read"] }', 'capabilities = ["read"] }\n    path "secret/metadata/*" '
                                                      '{ capabilities = ["read", "list"] }')
    file = write(tmp_path, fixed)
    assert "eso-find-metadata" not in (r := offline_cli("lint", "-f", file)).out + r.err


def test_no_section_is_an_error(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, "version: 1\n")
    result = offline_cli("eso-manifests", "-f", file)
    assert (result.code, result.err) == (
        1, "error: the state file has no external_secrets section: nothing to render\n")


def test_the_example_validates_and_renders(offline_cli: Cli) -> None:
    schema = json.loads((EXAMPLES.parent / "schemas" / "state.schema.json").read_text())
    document = YAML(typ="safe").load((EXAMPLES / "eso.yaml").read_text())
    assert [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)] == []
    assert offline_cli("validate", "-f", str(EXAMPLES / "eso.yaml")).code == 0
    result = offline_cli("eso-manifests", "-f", str(EXAMPLES / "eso.yaml"), "--example-external-secret")
    assert (result.code, result.err) == (0, "")
    for manifest in documents(result.out):
        validate_manifest(manifest)
