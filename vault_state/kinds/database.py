"""Database secrets engine: connections (`<mount>/config/<name>`), roles and static roles.

A connection's plugin settings come back nested under `connection_details` and its rotation
statements as `root_credentials_rotate_statements` (a read quirk flattens both); the password is
never returned. A connection write merges into the stored details, so an update without the
password keeps the stored one: after `rotate-root` that is the only password that still works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from vault_state.kinds.declared import DeclaredKind, Raw
from vault_state.kinds.places import UnderEngine
from vault_state.plan.model import Action, Call, Change, Resource
from vault_state.spec.fields import (
    Adoptable,
    Canon,
    CreateOnly,
    Literal_,
    NameSet,
    NotReturned,
    Seconds,
    Secret,
    Text,
    seconds,
)
from vault_state.spec.types import RoleName, Strict


def statements(value: Any) -> list[str]:
    """SQL statements run in the order given: compared as a list (order and duplicates matter).
    Vault returns [] when none are set."""
    return [str(v) for v in value or []]


Statements = Annotated[list[str], Canon(statements)]


def set_entries(value: Any) -> dict[str, str]:
    """credential_config: Vault drops entries written as "", so they are absent on both sides.
    It never removes an entry on update: a removal re-creates the role (RoleKind)."""
    return {k: v for k, v in sorted((value or {}).items()) if v != ""}


CredentialConfig = Annotated[dict[str, str], Canon(set_entries)]
SETTINGS = ("verify_connection", "rotate_root_after_create")
"""Connection fields that are instructions for a write, never stored by Vault (NotReturned: the
plan shows them, the live side takes the file's); rotate_root_after_create is not even sent."""


class DatabaseConnection(Adoptable):
    """`<mount>/config/<name>`: how Vault reaches one database (postgresql-database-plugin's fields)."""

    plugin_name: Literal_ = Field(description="The database plugin: postgresql-database-plugin, ...")
    connection_url: Text = Field(
        "", description="With `{{username}}` and `{{password}}` templates: Vault substitutes its stored credentials."
    )
    username: Text = Field("", description="The user Vault connects as (its root user for this connection).")
    password: Secret = None
    allowed_roles: NameSet = Field(
        default_factory=list, description="Roles that may use this connection ('*': every role; empty: none)."
    )
    password_policy: Literal_ = Field("", description="A password policy (sys/policies/password) for generated users.")
    root_rotation_statements: Statements = Field(
        default_factory=list, description="Statements `rotate-root` runs (empty: the plugin's default ALTER USER)."
    )
    max_open_connections: int = Field(4, ge=0, description="Vault's pool size for this database.")
    max_idle_connections: int = Field(0, ge=0, description="0: as many as max_open_connections.")
    max_connection_lifetime: Seconds = Field(0, description="0: connections are reused forever.")
    username_template: Literal_ = Field("", description="Template of generated user names (empty: the plugin's).")
    disable_escaping: bool = Field(False, description="Do not URL-escape the username and password in the URL.")
    password_authentication: Literal["password", "scram-sha-256"] = Field(
        "password", description="How generated passwords are sent: as text, or pre-hashed with SCRAM-SHA-256."
    )
    verify_connection: Annotated[bool, NotReturned()] = Field(
        True, description="Vault connects to the database on every write and refuses it if that fails."
    )
    rotate_root_after_create: Annotated[bool, NotReturned()] = Field(
        False,
        description="After creating the connection, rotate its password (rotate-root): from then on only Vault "
        "knows it and the file's password is never sent again for this connection.",
    )

    @model_validator(mode="after")
    def _templated_url(self) -> DatabaseConnection:
        # Vault returns a URL with a literal password redacted ("xxxxx"): it could never compare
        # equal, and rotate-root cannot change a password written into the URL.
        url = self.connection_url
        if isinstance(url, str) and "{{password}}" not in url and urlsplit(url).password:
            raise ValueError("connection_url holds a literal password: write {{password}} and set `password`")
        return self


class DatabaseRole(Adoptable):
    """`<mount>/roles/<name>`: dynamic credentials, a new database user per lease."""

    db_name: Literal_ = Field(description="The connection (declared in the same engine) the role uses.")
    creation_statements: Statements = Field(default_factory=list, description="Create the user ({{name}}, ...).")
    revocation_statements: Statements = Field(default_factory=list, description="Drop it (empty: the plugin's).")
    rollback_statements: Statements = Field(default_factory=list, description="Undo a failed creation.")
    renew_statements: Statements = Field(default_factory=list, description="Extend it on lease renewal.")
    default_ttl: Seconds = Field(0, description="0: the mount's default lease TTL.")
    max_ttl: Seconds = Field(0, description="0: the mount's maximum lease TTL.")
    credential_type: Literal["password", "rsa_private_key", "client_certificate"] = "password"
    credential_config: CredentialConfig = Field(
        default_factory=dict, description="Settings of the credential type (password: password_policy)."
    )


ROTATES = "a new static role rotates the user's password at once: clients holding the old one fail"


class DatabaseStaticRole(Adoptable):
    """`<mount>/static-roles/<name>`: one existing database user whose password Vault rotates."""

    db_name: Literal_ = Field(description="The connection (declared in the same engine) the role uses.")
    username: Annotated[Literal_, CreateOnly(loss=ROTATES)] = Field(
        description="The existing database user. Vault refuses to change it: a change re-creates the role."
    )
    rotation_period: Seconds = Field(description="How often Vault rotates the password (at least 5s).")
    rotation_statements: Statements = Field(default_factory=list, description="Empty: the plugin's ALTER USER.")
    credential_type: Literal["password", "rsa_private_key", "client_certificate"] = "password"
    credential_config: CredentialConfig = Field(
        default_factory=dict, description="Settings of the credential type (password: password_policy)."
    )


    @field_validator("rotation_period")
    @classmethod
    def _often_enough(cls, value: int) -> int:
        if seconds(value) < 5:  # Vault's rotation queue ticks every 5 seconds
            raise ValueError("must be 5 seconds or more (Vault rotates on a 5-second tick)")
        return value


class DatabaseSection(Strict):
    """`database:` inside a secrets engine of type database (a role's db_name must be one of its
    connections: checked in spec/semantics.py, located at the db_name)."""

    connections: dict[RoleName, DatabaseConnection] = Field(default_factory=dict)
    roles: dict[RoleName, DatabaseRole] = Field(default_factory=dict)
    static_roles: dict[RoleName, DatabaseStaticRole] = Field(default_factory=dict)


def _flatten_connection(raw: Raw) -> Raw:
    # Vault nests the plugin's settings under connection_details and returns the statements
    # under their storage name, root_credentials_rotate_statements.
    details = raw.get("connection_details") or {}
    return {**details, **raw, "root_rotation_statements": raw.get("root_credentials_rotate_statements")}


def _connection_calls(kind: DeclaredKind, change: Change) -> list[Call]:
    """The write, then (created with rotate_root_after_create) `rotate-root`. An update of such a
    connection never sends the file's password: Vault keeps the rotated one."""
    path = kind.place.api_path(change.id.path)
    if change.action is Action.DELETE:
        return [Call("DELETE", path)]
    assert change.after is not None
    settings = {k: change.after.values[k] for k in SETTINGS}
    values = {k: v for k, v in change.after.values.items() if k not in SETTINGS}
    rotate = bool(settings["rotate_root_after_create"])
    secrets = {} if rotate and change.action is Action.UPDATE else change.after.write_only
    calls = [Call("POST", path, {**values, **secrets, "verify_connection": settings["verify_connection"]})]
    if rotate and change.action is Action.CREATE:
        mount, name = change.id.path.rsplit("/", 1)
        calls.append(Call("POST", f"{mount}/rotate-root/{name}"))
    return calls


def _role_calls(kind: DeclaredKind, change: Change) -> list[Call]:
    """A static role's update sends its (create-only) username again: Vault refuses an update
    without it ("cannot update static account username")."""
    calls = kind.plain_calls(change)
    if change.action is not Action.UPDATE or change.after is None or "username" not in change.after.values:
        return calls
    post = calls[-1]
    body = {**(post.body or {}), "username": change.after.values["username"]}
    return [*calls[:-1], Call(post.method, post.path, body)]


def _dropped_credential_config(before: Resource, after: Resource) -> list[str]:
    old, new = before.values.get("credential_config") or {}, after.values.get("credential_config") or {}
    return sorted(set(old) - set(new))


@dataclass(frozen=True)
class RoleKind(DeclaredKind):
    """Database roles: Vault keeps a credential_config entry an update leaves out (and ignores one
    written as ""), so removing an entry re-creates the role. `recreate_loss`: what that costs."""

    recreate_loss: str = ""

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        dropped = _dropped_credential_config(before, after)
        extra = [f"Vault cannot remove credential_config entries ({', '.join(dropped)})"] if dropped else []
        return [*super().replace_reasons(before, after), *extra]

    def data_loss(self, before: Resource, after: Resource | None) -> str:
        loss = super().data_loss(before, after)
        if loss or after is None or not self.recreate_loss or not _dropped_credential_config(before, after):
            return loss
        return f"deletes and re-creates {before.id}: {self.recreate_loss}"


def _rotation_warnings(change: Change) -> list[str]:
    after = change.after
    if after is None or not after.values.get("rotate_root_after_create"):
        return []
    if change.action is Action.CREATE:
        return ["rotate_root_after_create: the password is rotated right after the connection is created; "
                "from then on only Vault knows it and the file's password is never sent again"]
    return ["rotate_root_after_create: the file's password is not sent (Vault keeps the rotated one)"]


CONNECTION = DeclaredKind(
    name="database_connection",
    prune_key="database_connections",
    model=DatabaseConnection,
    place=UnderEngine("database", ("database", "connections"), "config"),
    read_quirk=_flatten_connection,
    calls_quirk=_connection_calls,
    warn=_rotation_warnings,
)
ROLE = RoleKind(
    name="database_role",
    prune_key="database_roles",
    model=DatabaseRole,
    place=UnderEngine("database", ("database", "roles"), "roles"),
    calls_quirk=_role_calls,
)
STATIC_ROLE = RoleKind(
    name="database_static_role",
    prune_key="database_static_roles",
    model=DatabaseStaticRole,
    place=UnderEngine("database", ("database", "static_roles"), "static-roles"),
    calls_quirk=_role_calls,
    recreate_loss=ROTATES,
)
