"""Saved plans: the file `plan -o` writes, and the checks that `apply PLANFILE` is not stale.

A saved plan holds the JSON plan document (redacted), the targets, the server it was made against,
and digests of everything the plan read: the state file's bytes, each public value source, every
live object, and one salted scrypt digest of all sensitive value sources together. It holds no
secret: sensitive and write-only values appear only inside that single slow, salted digest.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vault_state import __version__
from vault_state.errors import VaultStateError
from vault_state.inputs import SourceRead
from vault_state.plan.model import Resource, ResourceId
from vault_state.sensitive import redact_all

SAVED_FORMAT_VERSION = "1"
SCRYPT_N: Literal[16384] = 16384  # with r=8: 16 MB and about 50 ms per guess
SCRYPT_R: Literal[8] = 8
SCRYPT_P: Literal[1] = 1


class PlanFileError(VaultStateError):
    """The plan file cannot be read, is not a plan file, or comes from another format version."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceDigest(_Model):
    source: str
    sha256: str


class SecretDigest(_Model):
    """One scrypt digest over every sensitive source's key and value, with a random per-plan salt."""

    sources: list[str]
    kdf: Literal["scrypt"] = "scrypt"
    n: Literal[16384] = SCRYPT_N
    r: Literal[8] = SCRYPT_R
    p: Literal[1] = SCRYPT_P
    salt: str = Field(pattern="^[0-9a-f]{32}$")
    digest: str


class SavedPlan(_Model):
    format_version: str
    vault_state_version: str
    address: str
    namespace: str
    state_file: str
    state_sha256: str
    state_files: dict[str, str] = Field(default_factory=dict)
    """From several files: each file's digest (`state_sha256` is then the digest of these)."""
    inputs: list[str] = Field(default_factory=list)
    """From several files: the `-f` arguments, read again at apply time."""
    recursive: bool = False
    overlays: list[str] = Field(default_factory=list)
    """The `--overlay` files, merged again in this order at apply time."""
    sources: dict[str, SourceDigest]
    secrets: SecretDigest | None
    reads: dict[str, str]
    targets: list[str]
    plan: dict[str, Any]


@dataclass(frozen=True)
class Observed:
    """What a plan run read: the inputs a saved plan's digests are taken of."""

    address: str
    namespace: str
    state_file: str
    state_bytes: bytes
    sources: Sequence[SourceRead]
    live: Mapping[ResourceId, Resource]
    state_files: Mapping[str, bytes] = field(default_factory=dict)
    """From several files: each one's bytes (`state_bytes` is then unused)."""
    inputs: Sequence[str] = ()
    recursive: bool = False
    overlays: Sequence[str] = ()


def save(observed: Observed, document: dict[str, Any], targets: Sequence[str]) -> SavedPlan:
    """The saved plan of `document`, with digests of what `observed` holds (a fresh salt each time)."""
    sensitive = [s for s in observed.sources if s.sensitive]
    secret = None
    if sensitive:
        salt = secrets.token_bytes(16)
        secret = SecretDigest(sources=_labels(sensitive), salt=salt.hex(), digest=_scrypt(sensitive, salt))
    return SavedPlan(
        format_version=SAVED_FORMAT_VERSION,
        vault_state_version=__version__,
        address=observed.address,
        namespace=observed.namespace,
        state_file=observed.state_file,
        state_sha256=_state_digest(observed),
        state_files=_file_digests(observed.state_files),
        inputs=list(observed.inputs) if observed.state_files else [],
        recursive=observed.recursive,
        overlays=list(observed.overlays),
        sources=_public_sources(observed.sources),
        secrets=secret,
        reads=live_digests(observed.live),
        targets=list(targets),
        plan=document,
    )


def stale_reasons(saved: SavedPlan, observed: Observed) -> list[str]:
    """Every way `observed` (read again at apply time) differs from what the plan read; empty if none."""
    reasons = []
    if (saved.address, saved.namespace) != (observed.address, observed.namespace):
        reasons.append(
            f"the plan was made against {_server(saved.address, saved.namespace)}, "
            f"not {_server(observed.address, observed.namespace)}"
        )
    if saved.state_sha256 != _state_digest(observed):
        reasons += _file_reasons(saved.state_files, _file_digests(observed.state_files)) or [
            f"the state file {saved.state_file} changed since the plan was made"
        ]
        return reasons  # its sources and reads may differ for that reason alone
    reasons += _source_reasons(saved, observed.sources)
    reasons += _read_reasons(saved.reads, live_digests(observed.live))
    return reasons


def changes_differ(saved: SavedPlan, document: dict[str, Any]) -> bool:
    """Whether the plan computed now would run other changes than the saved one shows."""
    return bool(saved.plan.get("changes") != json.loads(json.dumps(document["changes"])))


def live_digests(live: Mapping[ResourceId, Resource]) -> dict[str, str]:
    """A SHA-256 of each live object's canonical values (Vault never returns secret values)."""
    return {
        str(rid): _sha256(json.dumps([live[rid].api_path, redact_all(live[rid].values)], sort_keys=True, default=str))
        for rid in sorted(live)
    }


def write_saved(path: Path, saved: SavedPlan) -> None:
    try:
        path.write_text(saved.model_dump_json(indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise VaultStateError(f"cannot write the plan file {path}: {exc.strerror or exc}") from None


def read_saved(path: Path) -> SavedPlan:
    """The saved plan in `path`. Raises PlanFileError naming the file and the problem."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(f"cannot read the plan file {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise PlanFileError(f"{path} is not a vault-state plan file (not JSON); write one with `plan -o`") from None
    if not isinstance(raw, dict) or "format_version" not in raw or "plan" not in raw:
        raise PlanFileError(f"{path} is not a vault-state plan file; write one with `plan -o`")
    version = raw["format_version"]
    if version != SAVED_FORMAT_VERSION:
        raise PlanFileError(
            f"{path}: plan file format_version {json.dumps(version)} is not supported: this vault-state "
            f"({__version__}) reads format_version {json.dumps(SAVED_FORMAT_VERSION)}; run plan again"
        )
    try:
        return SavedPlan.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{path} is not a valid plan file: {where}: {first['msg']}") from None


def server_address(address: str) -> str:
    """The address without credentials embedded in it (`https://user:pw@host`)."""
    return re.sub(r"//[^/@]*@", "//", address)


def _source_reasons(saved: SavedPlan, sources: Sequence[SourceRead]) -> list[str]:
    reasons = []
    public = _public_sources(sources)
    for key in sorted(set(saved.sources) | set(public)):
        if saved.sources.get(key) != public.get(key):
            label = (saved.sources.get(key) or public[key]).source
            reasons.append(f"value source {label} ({key}) changed since the plan was made")
    sensitive = [s for s in sources if s.sensitive]
    if saved.secrets is None:
        if sensitive:
            reasons.append(f"sensitive value sources appeared since the plan was made: {', '.join(_labels(sensitive))}")
        return reasons
    digest = _scrypt(sensitive, bytes.fromhex(saved.secrets.salt))
    if _labels(sensitive) != saved.secrets.sources or digest != saved.secrets.digest:
        reasons.append(
            "a sensitive value source changed since the plan was made (one of: "
            f"{', '.join(saved.secrets.sources)})"
        )
    return reasons


def _read_reasons(saved: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    verbs = {
        "gone": "was removed from the server", "new": "was created on the server", "changed": "changed on the server"
    }
    return [f"{rid} {verbs[how]} since the plan was made" for rid, how in _differences(saved, now)]


def _differences(saved: Mapping[str, str], now: Mapping[str, str]) -> list[tuple[str, str]]:
    """(key, "gone" | "new" | "changed") for every key whose digest differs between the two, sorted."""
    found = []
    for key in sorted(set(saved) | set(now)):
        if key not in now:
            found.append((key, "gone"))
        elif key not in saved:
            found.append((key, "new"))
        elif saved[key] != now[key]:
            found.append((key, "changed"))
    return found


def _public_sources(sources: Sequence[SourceRead]) -> dict[str, SourceDigest]:
    # Public by the file's own word (`sensitive: false`): a plain digest is fine.
    return {
        s.key: SourceDigest(source=s.label, sha256=_sha256(s.value.reveal()) if s.stable else "")
        for s in sources if not s.sensitive
    }


def _labels(sources: Sequence[SourceRead]) -> list[str]:
    return [f"{s.label} at {s.key}" for s in sources]


def _scrypt(sources: Sequence[SourceRead], salt: bytes) -> str:
    """All sensitive values in one slow, salted digest: guessing one secret means guessing them all."""
    material = json.dumps([[s.key, s.value.reveal() if s.stable else None] for s in sources]).encode()
    digest = hashlib.scrypt(material, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 2**20, dklen=32)
    return digest.hex()


def _sha256(data: str | bytes) -> str:
    return "sha256:" + hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _file_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: _sha256(data) for name, data in files.items()}


def _state_digest(observed: Observed) -> str:
    """The state file's digest; from several files, the digest of their names and digests."""
    if observed.state_files:
        return _sha256(json.dumps(_file_digests(observed.state_files), sort_keys=True))
    return _sha256(observed.state_bytes)


def _file_reasons(saved: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    said = {
        "gone": "is no longer read (removed since the plan was made)",
        "new": "was added since the plan was made",
        "changed": "changed since the plan was made",
    }
    return [f"the state file {name} {said[how]}" for name, how in _differences(saved, now)]


def _server(address: str, namespace: str) -> str:
    return f"{address} (namespace {namespace})" if namespace else address


def state_file_reasons(saved: SavedPlan) -> list[str]:
    """Why the state file the plan read is no longer the same (checked before it is loaded again)."""
    if saved.state_files:  # several files: each one read again (a file added to a directory shows later)
        reasons = []
        for name, digest in saved.state_files.items():
            try:
                if _sha256(Path(name).read_bytes()) != digest:
                    reasons.append(f"the state file {name} changed since the plan was made")
            except OSError as exc:
                reasons.append(f"cannot read the state file {name} the plan was made from: {exc.strerror or exc}")
        return reasons
    try:
        data = Path(saved.state_file).read_bytes()
    except OSError as exc:
        return [f"cannot read the state file {saved.state_file} the plan was made from: {exc.strerror or exc}"]
    if _sha256(data) != saved.state_sha256:
        return [f"the state file {saved.state_file} changed since the plan was made"]
    return []
