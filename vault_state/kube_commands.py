"""The commands of the Kubernetes integration, below the CLI: verify, doctor and eso-manifests.

Each takes what the CLI built (the loaded file, the gateway, the cluster connector) and returns
lines to print and an exit code, so cli.py only wires flags to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vault_state.checks.compare import result_lines
from vault_state.checks.verify import run_checks
from vault_state.doctor import diagnose
from vault_state.errors import InputError, VaultStateError
from vault_state.eso import manifests, stream, write_manifests
from vault_state.findings import Status, finding_lines
from vault_state.render.text import Line
from vault_state.sensitive import Sensitive
from vault_state.spec.loader import LoadedState
from vault_state.spec.models import StateFile
from vault_state.spec.sources import Resolver
from vault_state.vault.gateway import Gateway


def verify_command(state: StateFile, gateway: Gateway, cluster: Callable[[], Any]) -> tuple[list[Line], int]:
    """Exit 1 when any check fails; a file without checks is an error, not a silent pass."""
    if not state.checks:
        raise VaultStateError("the state file has no checks: nothing to verify")
    results = run_checks(state, gateway, cluster)
    return result_lines(results), 0 if all(r.passed for r in results) else 1


def doctor_command(
    loaded: LoadedState, env: Mapping[str, str], gateway: Gateway, cluster: Callable[[], Any]
) -> tuple[list[Line], int]:
    resolver = Resolver(loaded.base_dir, env, loaded.source, cluster=cluster)
    findings = diagnose(loaded.state, gateway, resolver, cluster)
    lines = finding_lines(findings)
    lines[-1:-1] = [(str(d), "red") for d in resolver.diagnostics]
    failed = any(f.status is Status.FAIL for f in findings) or bool(resolver.diagnostics)
    return lines, 1 if failed else 0


def eso_command(
    loaded: LoadedState, env: Mapping[str, str], cluster: Callable[[], Any], out: Path | None, example: bool
) -> tuple[str, list[str]]:
    """The manifests as one YAML stream (out None), or written to `out` with a list of the files."""
    ca = _vault_ca(loaded, env, cluster)
    found = manifests(loaded.state, ca, example)
    if out is None:
        return stream(found), []
    return "", [f"wrote {path}" for path in write_manifests(found, out)]


def _vault_ca(loaded: LoadedState, env: Mapping[str, str], cluster: Callable[[], Any]) -> str | None:
    section = loaded.state.external_secrets
    if section is None or section.ca_cert is None:
        return None
    resolver = Resolver(loaded.base_dir, env, loaded.source, cluster=cluster)
    ca = resolver.resolve(section.ca_cert, ("external_secrets", "ca_cert"))
    if resolver.diagnostics:
        raise InputError(resolver.diagnostics)
    # A CA certificate is public, and caBundle must carry it in clear.
    return ca.reveal() if isinstance(ca, Sensitive) else ca
