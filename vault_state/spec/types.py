"""Field types shared by the spec models: durations, value sources, names and paths.

Names and paths are checked here, before they can reach a URL: no `..`, no empty segment, no
leading or trailing `/`, no characters that would change the API path they are placed in.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
)

from vault_state.durations import to_seconds


class Strict(BaseModel):
    """Base of every spec model: unknown keys are errors, values are not coerced silently.

    Strict: `local: 1` is not a bool and `max_versions: "5"` is not an int.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


MAX_DURATION = (2**63 - 1) // 10**9
"""Vault keeps durations as Go `time.Duration` nanoseconds: about 292 years at most."""


_SPEC_DURATION = re.compile(r"\d+|(\d+(\.\d+)?[dhms])+|system")


def _duration(value: Any) -> int:
    seconds = to_seconds(value)
    if isinstance(value, str) and not _SPEC_DURATION.fullmatch(value.strip()):
        # to_seconds also reads Vault's sub-second Go units ("100ms"); in the file they would vanish silently.
        raise ValueError(f"invalid duration {value!r}: use whole seconds (3600) or units s, m, h, d (90s, 1.5h, 7d)")
    if seconds > MAX_DURATION:
        raise ValueError(f"duration {value!r} is too long: the maximum is {MAX_DURATION} seconds (about 292 years)")
    return seconds


def exact_int(value: Any) -> Any:
    """Refuse `true` and `1.0` where a number such as a version is expected (pydantic's Literal takes both)."""
    if isinstance(value, bool | float):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


Duration = Annotated[
    int,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^(\d+|(\d+(\.\d+)?(d|h|m|s))+|system)$"},
            ],
            "description": (
                "Seconds, or a duration such as 90s, 30m, 1h, 1.5h, 1h30m, 7d; decimals are truncated to whole "
                "seconds as Vault does ('system' means 0: inherit)."
            ),
        }
    ),
]


class EnvSource(Strict):
    """A value read from an environment variable when the file is loaded."""

    env: str = Field(min_length=1, description="Name of the environment variable.")
    sensitive: bool = Field(True, description="Print as (sensitive). Set false for public values.")


class FileSource(Strict):
    """A value read from a file, relative to the state file."""

    file: str = Field(min_length=1, description="Path, relative to the state file.")
    sensitive: bool = Field(True, description="Print as (sensitive). Set false for public values.")


class KubeCaSource(Strict):
    """The cluster's CA certificate: from the kubeconfig (or the pod's ca.crt), or a namespace's
    kube-root-ca.crt ConfigMap. Always sensitive, like every value read from the cluster."""

    kubernetes: Literal["ca_cert"]
    configmap_namespace: str | None = Field(None, min_length=1, description="Read kube-root-ca.crt from here.")


class KubeTokenSource(Strict):
    """A service account token from the TokenRequest API, as `kubectl create token` makes: short-lived."""

    kubernetes: Literal["token"]
    namespace: str = Field(min_length=1)
    service_account: str = Field(min_length=1)
    audiences: list[str] = Field(default_factory=list, description="Default: the API server's audience.")
    expiration: Duration | None = Field(None, description="Default: the API server's (usually 1h); at least 10m.")

    @field_validator("expiration")
    @classmethod
    def _ten_minutes(cls, value: int | None) -> int | None:
        if value is not None and value < 600:
            raise ValueError("the TokenRequest API refuses an expiration below 10m (600 seconds)")
        return value


KubeSource = Annotated[KubeCaSource | KubeTokenSource, Field(discriminator="kubernetes")]


def _source_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for tag in ("env", "file", "kubernetes"):
            if tag in value:
                return tag
        return None
    return "literal"


Value = Annotated[
    Annotated[str, Tag("literal")]
    | Annotated[EnvSource, Tag("env")]
    | Annotated[FileSource, Tag("file")]
    | Annotated[KubeSource, Tag("kubernetes")],
    Discriminator(
        _source_tag,
        custom_error_type="value_source",
        custom_error_message="expected a string, {env: NAME}, {file: PATH} or {kubernetes: ca_cert|token}",
    ),
]
"""A config value: a literal string (not secret), or a source that is secret unless it says otherwise."""

SourceValue = str | EnvSource | FileSource | KubeCaSource | KubeTokenSource
"""A Value once validated: what `Resolver.resolve` takes."""

_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_MOUNT_PATH = re.compile(rf"{_SEGMENT}(/{_SEGMENT})*")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\- @]*")
LOCK_MOUNT = "vault-state"  # the KV v2 mount holding the apply lock (vault_state/lock.py); never planned
FINGERPRINT_MOUNT = "vault-state-transit"  # transit mount for fingerprints of write-only values (inventory.py)
RESERVED_MOUNTS = ("sys", "identity", "cubbyhole", "auth", LOCK_MOUNT, FINGERPRINT_MOUNT)


def check_mount_path(path: str) -> str:
    """A secrets engine or auth method path: segments of letters, digits, `_`, `.`, `-`."""
    if not _MOUNT_PATH.fullmatch(path) or any(seg in (".", "..") for seg in path.split("/")):
        raise ValueError(
            f"invalid mount path {path!r}: use segments of letters, digits, '_', '.', '-' joined by '/', "
            "with no leading or trailing '/' and no '..'"
        )
    return path


def check_name(name: str, what: str) -> str:
    """A policy, role or user name: one URL segment, no `/`, no `..`."""
    if not _NAME.fullmatch(name) or ".." in name or name != name.strip():
        raise ValueError(
            f"invalid {what} name {name!r}: use letters, digits, '_', '.', '-' (no '/', no '..')"
        )
    return name


def _mount_key(path: str) -> str:
    check_mount_path(path)
    if path.split("/")[0] in RESERVED_MOUNTS:
        reserved = ", ".join(RESERVED_MOUNTS)
        raise ValueError(
            f"{path!r} is a reserved path ({reserved} are built in or used by vault-state's lock and inventory)"
        )
    return path


def check_policy_key(name: str) -> str:
    """A `policies:` key (or a `policy_files:` file name): a valid name, not `root`."""
    check_name(name, "policy")
    if name.lower() == "root":
        raise ValueError(f"policy {name!r}: the root policy is built in and cannot be managed")
    return name


def _namespace_name(name: str) -> str:
    check_name(name, "namespace")
    if name in ("root", "sys", "audit", "auth", "cubbyhole", "identity") or " " in name or "@" in name:
        raise ValueError(f"invalid namespace name {name!r}: a reserved name, or a space or '@' (one path segment)")
    return name


MountPath = Annotated[str, AfterValidator(_mount_key)]
NamespaceName = Annotated[str, AfterValidator(_namespace_name)]
PolicyName = Annotated[str, AfterValidator(check_policy_key)]
RoleName = Annotated[str, AfterValidator(lambda name: check_name(name, "role"))]
