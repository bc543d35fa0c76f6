"""The state file's top-level model (format version 1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from vault_state.kinds.audit_device import AuditDevice
from vault_state.kinds.generic import GenericEndpoint, GenericPath
from vault_state.kinds.identity import Identity
from vault_state.kinds.password_policy import PasswordPolicy
from vault_state.kinds.quota import Quotas
from vault_state.kinds.sys_config import SysConfig
from vault_state.kinds.token_auth import TokenAuth
from vault_state.kinds.token_role import TokenRole
from vault_state.spec.access import Check, ExternalSecrets
from vault_state.spec.auth import AuthMethod
from vault_state.spec.engines import SecretsEngine
from vault_state.spec.fields import Adoptable
from vault_state.spec.policies import PolicyFile, StructuredPolicy
from vault_state.spec.types import MountPath, NamespaceName, PolicyName, RoleName, Strict, check_name


def _stack_name(name: str) -> str:
    """A stack names its inventory's KV path: one plain segment."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError(f"invalid stack name {name!r}: use letters, digits, '_', '.', '-'")
    return name


StackName = Annotated[str, AfterValidator(_stack_name)]
PasswordPolicyName = Annotated[str, AfterValidator(lambda name: check_name(name, "password policy"))]


def _policy_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "hcl"
    if isinstance(value, PolicyFile) or (isinstance(value, dict) and "file" in value):
        return "policy_file"  # not "file": a tag that is also a key would misplace located errors
    return "structured" if isinstance(value, dict | StructuredPolicy) else None


PolicySpec = Annotated[
    Annotated[str, Tag("hcl")]
    | Annotated[StructuredPolicy, Tag("structured")]
    | Annotated[PolicyFile, Tag("policy_file")],
    Discriminator(
        _policy_tag,
        custom_error_type="policy_spec",
        custom_error_message="expected policy HCL text, a mapping with 'path', or {file: PATH}",
    ),
]


Mode = bool | Literal["owned"]
"""`true`: the file is authoritative for the kind; `owned`: delete only what this stack's inventory holds."""


class Prune(Strict):
    """Kinds whose live objects absent from the file are deleted. Default off for every kind.
    `owned` deletes only objects this stack created or adopted (docs/ownership.md)."""

    policies: Mode = False
    auth_roles: Mode = Field(False, description="Roles and users of the auth methods in this file.")
    secrets_engines: Mode = False
    auth_methods: Mode = False
    token_roles: Mode = False
    namespaces: Mode = Field(False, description="Namespaces not in the file, with everything in them.")
    transit_keys: Mode = Field(False, description="Keys of the transit engines in this file (needs --allow-destroy).")
    ssh_roles: Mode = Field(False, description="Roles of the ssh engines in this file.")
    totp_keys: Mode = Field(False, description="Keys of the totp engines in this file (needs --allow-destroy).")
    pki_roles: Mode = Field(False, description="Roles of the pki engines in this file (never an issuer or config).")
    audit_devices: Mode = Field(False, description="Never one the server's configuration file declares.")
    password_policies: Mode = False
    rate_limit_quotas: Mode = False
    ui_headers: Mode = False
    audited_headers: Mode = False
    identity_entities: Mode = Field(False, description="Entities, including those logins created.")
    identity_entity_aliases: Mode = Field(False, description="Aliases of the entities in this file.")
    identity_groups: Mode = False
    identity_group_aliases: Mode = Field(False, description="Aliases of the groups in this file.")
    generic: Mode = Field(False, description="Delete the generic endpoints whose entry says `delete: true`.")
    database_connections: Mode = Field(False, description="Connections of the database engines in this file.")
    database_roles: Mode = Field(False, description="Roles of the database engines in this file.")
    database_static_roles: Mode = Field(False, description="Static roles of the database engines in this file.")
    kubernetes_secrets_roles: Mode = Field(False, description="Roles of the kubernetes secrets engines in this file.")


class MassChange(Strict):
    """The mass-change guard: apply refuses a plan that deletes or replaces too much of one kind."""

    percent: int = Field(30, ge=0, le=100, description="Refuse above this share of a kind's live objects.")
    minimum: int = Field(10, ge=1, description="Only for kinds with at least this many live objects.")


MOVABLE = ("secrets_engine", "auth_method", "policy", "auth_role")
"""Kinds a `moved:` entry may name: mounts move with sys/remount, policies and roles by create-then-delete."""


def _movable_id(text: str) -> str:
    """An id as `plan` prints it (`secrets_engine/kv`, `team-a:policy/x`) of a kind that can move."""
    namespace, _, rest = text.strip().rpartition(":")
    kind, _, path = rest.partition("/")
    if kind not in MOVABLE or not path.strip("/"):
        raise ValueError(f"{text!r} cannot move: expected KIND/PATH or NAMESPACE:KIND/PATH with KIND one of "
                         f"{', '.join(MOVABLE)}")
    return f"{namespace.strip('/')}:{kind}/{path.strip('/')}" if namespace.strip("/") else f"{kind}/{path.strip('/')}"


MovableId = Annotated[str, AfterValidator(_movable_id)]


class Moved(Strict):
    """A rename: the object at `from` becomes the one the file declares at `to` (no destroy)."""

    from_: MovableId = Field(alias="from", description="The old id, as `plan` prints it.")
    to: MovableId = Field(description="The new id, declared in the file.")

    @model_validator(mode="after")
    def _same_kind(self) -> Moved:
        (old_ns, old), (new_ns, new) = (i.rpartition(":")[::2] for i in (self.from_, self.to))
        if old.partition("/")[0] != new.partition("/")[0]:
            raise ValueError(f"{self.from_} and {self.to} are of different kinds: a move keeps the kind")
        if old_ns != new_ns:
            raise ValueError(f"{self.from_} -> {self.to} crosses namespaces: a move stays in its namespace")
        if self.from_ == self.to:
            raise ValueError(f"{self.from_} is moved to itself")
        return self


class Lint(Strict):
    """Settings of `vault-state lint` (not sent to the server)."""

    admin_policies: list[str] = Field(
        default_factory=list,
        description="Policies meant to administer the server: the admin-capability rule skips them.",
    )


class Sections(Strict):
    """The configuration sections: the root's, and each namespace's (a namespace holds every section)."""

    secrets_engines: dict[MountPath, SecretsEngine] = Field(default_factory=dict, description="Key: mount path.")
    policies: dict[PolicyName, PolicySpec] = Field(
        default_factory=dict,
        description="Key: policy name. Value: HCL text, a structured form, or {file: PATH} (an .hcl file).",
    )
    policy_files: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Glob patterns (relative to the file that declares them) of .hcl or .json policy files, or "
        "directories (their *.hcl): each file is a policy named by its file name without the extension.",
    )
    auth_methods: dict[MountPath, AuthMethod] = Field(default_factory=dict, description="Key: mount path.")
    token_roles: dict[RoleName, TokenRole] = Field(
        default_factory=dict, description="Key: role name. Roles of the built-in token auth method."
    )
    password_policies: dict[PasswordPolicyName, PasswordPolicy] = Field(
        default_factory=dict, description="Key: policy name. Value: HCL text, or {policy: TEXT}."
    )
    generic: dict[GenericPath, GenericEndpoint] = Field(
        default_factory=dict, description="Key: an API path the tool has no kind for. Compares declared keys only."
    )
    identity: Identity = Field(default_factory=Identity, description="Entities and groups (identity/).")
    namespaces: dict[NamespaceName, Namespace] = Field(
        default_factory=dict, description="Key: namespace name (one path segment). Namespaces nest."
    )


class Namespace(Sections, Adoptable):
    """A namespace (sys/namespaces/NAME) and everything in it, addressed with X-Vault-Namespace."""

    custom_metadata: dict[str, str] = Field(default_factory=dict, description="Replaced as a whole on write.")
    prevent_destroy: bool = Field(False, description="Refuse any plan that would delete this namespace.")


class StateFile(Sections):
    """The whole file: the root's sections, and the server-wide ones (root namespace only)."""

    version: Literal[1] = Field(description="Format version of the state file; must be 1.")
    audit_devices: dict[MountPath, AuditDevice] = Field(default_factory=dict, description="Key: the device's path.")
    quotas: Quotas = Field(default_factory=Quotas, description="Quotas by type (OpenBao has rate_limit only).")
    sys_config: SysConfig = Field(default_factory=SysConfig, description="CORS, UI headers, audited headers.")
    token_auth: TokenAuth = Field(default_factory=TokenAuth, description="The built-in token auth method.")
    prune: Prune = Field(
        default_factory=Prune, description="Per kind, or `true` / `owned` for every kind at once."
    )
    stack: StackName = Field("default", description="This file's stack: the inventory it records (docs/ownership.md).")
    adopt: list[str] = Field(
        default_factory=list, description="Ids (as the plan prints them) this stack takes over from another stack."
    )
    lint: Lint = Field(default_factory=Lint, description="Settings of `vault-state lint`.")
    mass_change: MassChange = Field(default_factory=MassChange, description="The mass-change guard of apply.")
    checks: list[Check] = Field(default_factory=list, description="Access checks of `vault-state verify`.")
    external_secrets: ExternalSecrets | None = Field(None, description="ESO stores (`vault-state eso-manifests`).")
    moved: list[Moved] = Field(default_factory=list, description="Renames: moves instead of destroy and create.")

    @field_validator("prune", mode="before")
    @classmethod
    def _prune_whole(cls, value: Any) -> Any:
        """`prune: true` / `prune: owned` / `prune: false` set every kind at once."""
        if value is True or value == "owned":
            return dict.fromkeys(Prune.model_fields, value)
        return {} if value is False else value

    @field_validator("version", mode="before")
    @classmethod
    def _version_one(cls, value: Any) -> Any:
        if type(value) is not int or value != 1:
            raise ValueError(f"unsupported format version {value!r}; write 'version: 1'")
        return value


def walk_sections(
    sections: Sections, namespace: str = "", prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, Sections, tuple[str, ...]]]:
    """(namespace path, its sections, its place in the file) for the root and every namespace in it."""
    yield namespace, sections, prefix
    for name, child in sections.namespaces.items():
        yield from walk_sections(child, f"{namespace}/{name}" if namespace else name, (*prefix, "namespaces", name))
