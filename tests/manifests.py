"""Validate one Kubernetes object: the API's own schema, a Flux CRD's, ESO's, or a PrometheusRule's shape.

Kubernetes objects go through `kubernetes-validate` (the API's OpenAPI schemas, carried offline in the
package) in strict mode, which refuses unknown fields as `kubectl apply --validate=strict` does. Flux
objects go through the openAPIV3Schema of the CRDs copied into tests/data/flux (see its SOURCE.md),
closed like ESO's (tests/test_eso.py). Used by tests/test_deploy.py and the docs' YAML blocks.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jsonschema import Draft7Validator

from tests.test_eso import closed, validate_manifest

# The oldest and the newest Kubernetes minor versions the manifests are checked against.
# kubernetes-validate 1.37.0 carries the schemas of 1.25 to 1.37; 1.30 is the oldest with every
# field used here (CronJob timeZone: 1.27, Job podFailurePolicy: 1.31 GA, served since 1.26).
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

FLUX_CRDS = Path(__file__).resolve().parent / "data" / "flux"  # copied unchanged, with source and license
FLUX_CRD_FILES = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
    ("source.toolkit.fluxcd.io", "GitRepository"): "source.toolkit.fluxcd.io_gitrepositories.yaml",
    ("source.toolkit.fluxcd.io", "OCIRepository"): "source.toolkit.fluxcd.io_ocirepositories.yaml",
}

# The metrics `vault-state plan --metrics-file` and `vault-state watch` export (issue 14's names).
METRICS = {"vault_state_drift_objects", "vault_state_plan_success", "vault_state_last_run_timestamp_seconds"}


@functools.cache
def flux_validator(group: str, version: str, kind: str) -> Draft7Validator:
    name = FLUX_CRD_FILES.get((group, kind))
    if name is None:
        pytest.fail(f"no Flux CRD for {group}/{kind} in tests/data/flux")
    crd = yaml.safe_load((FLUX_CRDS / name).read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version] or [None]
    if served is None or not served["served"]:
        pytest.fail(f"{group}/{version} {kind} is not a served version of the CRD in tests/data/flux")
    schema = copy.deepcopy(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {
        "type": "object", "required": ["name", "namespace"],
        "properties": {"name": {"type": "string"}, "namespace": {"type": "string"},
                       "labels": {"type": "object"}, "annotations": {"type": "object"}},
        "additionalProperties": False,
    }
    return Draft7Validator(closed(schema))


def kubernetes_errors(document: dict[str, Any]) -> list[str]:
    errors = []
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = "/".join(str(p) for p in error.absolute_path)
            errors.append(f"Kubernetes {version}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"Kubernetes {version}: no schema for {document['apiVersion']} {document['kind']}")
    return errors


def prometheus_rule_errors(document: dict[str, Any]) -> list[str]:
    """The prometheus-operator CRD is not vendored: its shape is checked here, and each alert's
    expression must name only metrics that vault-state exports (or `up`)."""
    errors = []
    spec = document.get("spec") or {}
    if set(document) - {"apiVersion", "kind", "metadata", "spec"} or set(spec) != {"groups"}:
        errors.append("a PrometheusRule has apiVersion, kind, metadata and spec.groups only")
    for group in spec.get("groups") or []:
        if set(group) - {"name", "interval", "rules"} or not group.get("rules"):
            errors.append(f"group {group.get('name')!r}: name, interval and rules only, and some rules")
        for rule in group.get("rules") or []:
            if set(rule) - {"alert", "expr", "for", "labels", "annotations"} or "alert" not in rule:
                errors.append(f"rule {rule!r}: alert, expr, for, labels, annotations")
                continue
            named = set(re.findall(r"\b(vault_state_\w+)", str(rule.get("expr", ""))))
            if not named or named - METRICS:
                errors.append(f"alert {rule['alert']}: expr names {sorted(named)}; vault-state exports {sorted(METRICS)}")
    return errors


def object_errors(document: dict[str, Any]) -> list[str]:
    """Every schema error of one object (an empty list when it is valid)."""
    group, _, version = str(document.get("apiVersion", "")).rpartition("/")
    if group.endswith(".toolkit.fluxcd.io"):
        found = flux_validator(group, version, document.get("kind", "")).iter_errors(document)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in sorted(found, key=str)]
    if group == "monitoring.coreos.com" and document.get("kind") == "PrometheusRule":
        return prometheus_rule_errors(document)
    if group.startswith("external-secrets.io"):
        validate_manifest(document)
        return []
    return kubernetes_errors(document)


def validate_object(document: dict[str, Any]) -> None:
    errors = object_errors(document)
    assert not errors, f"{document.get('kind')} {document.get('metadata', {}).get('name')}: {errors}"
