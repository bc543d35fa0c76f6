"""Server settings under sys/config: CORS (`sys/config/cors`), headers the UI answers with
(`sys/config/ui/headers/<name>`) and request headers written to audit logs
(`sys/config/auditing/request-headers/<name>`).

Vault spells header names its own way: UI headers in canonical MIME form (`x-my-header` is stored
as `X-My-Header`), audited headers in lowercase; ids use Vault's spelling.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from vault_state.kinds.base import VaultReader, data_of
from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import TopLevel, TopSingleton
from vault_state.plan.model import Call, Change
from vault_state.spec.fields import Adoptable, Canon, NameSet, name_set, or_shorthand
from vault_state.spec.types import Strict, check_name

# Vault answers these in allowed_headers whatever was written, and adds them back on every write.
STANDARD_CORS_HEADERS = frozenset({
    "content-type", "authorization", "x-vault-token", "x-vault-mfa", "x-vault-no-request-forwarding",
    "x-vault-wrap-format", "x-vault-wrap-ttl", "x-requested-with", "x-vault-aws-iam-server-id",
    "x-vault-policy-override",
})


def extra_cors_headers(values: Any) -> list[str]:
    """allowed_headers without the ones Vault always allows (it lists them in every read)."""
    return [h for h in name_set(values) if h.lower() not in STANDARD_CORS_HEADERS]


class Cors(Adoptable):
    enabled: bool = Field(False, description="Answer cross-origin requests from allowed_origins.")
    allowed_origins: NameSet = Field(default_factory=list, description="Origins (`https://ui.example`) or `*`.")
    allowed_headers: Annotated[list[str], Canon(extra_cors_headers)] = Field(
        default_factory=list, description="Request headers allowed besides the ones Vault always allows."
    )
    allow_credentials: bool = Field(False, description="OpenBao: answer with Access-Control-Allow-Credentials.")

    @model_validator(mode="after")
    def _origins_when_enabled(self) -> Cors:
        if self.enabled and not self.allowed_origins:
            raise ValueError("CORS enabled needs at least one allowed origin (or '*'); Vault refuses none")
        if not self.enabled and (self.allowed_origins or self.allowed_headers or self.allow_credentials):
            raise ValueError(
                "allowed_origins, allowed_headers and allow_credentials need enabled: true "
                "(disabling CORS makes Vault forget them)"
            )
        return self


def cors_calls(kind: DeclaredKind, change: Change) -> list[Call]:
    """Disabling CORS is a DELETE: a write of enabled=false answers 500 ("at least one origin or
    the wildcard must be provided"), with or without origins."""
    if change.after is not None and not change.after.values["enabled"]:
        return [Call("DELETE", kind.place.api_path(change.id.path))]
    return kind.plain_calls(change)


def mime_header(name: str) -> str:
    """Go's canonical MIME header key, as Vault stores UI header names: `x-my-header` -> `X-My-Header`."""
    if not name.replace("-", "").isalnum():
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _not_vault_header(name: str) -> str:
    if name.lower().startswith("x-vault-"):
        raise ValueError(f"UI header {name!r}: Vault refuses to set X-Vault headers")
    return name


def _header_name(name: str) -> str:
    check_name(name, "header")
    return name


UiHeaderName = Annotated[str, AfterValidator(_header_name), AfterValidator(_not_vault_header)]
HeaderName = Annotated[str, AfterValidator(_header_name)]


class UiHeader(Adoptable):
    model_config = ConfigDict(json_schema_extra=or_shorthand({"type": "array", "items": {"type": "string"}}))

    values: list[str] = Field(min_length=1, description="The header's values, in order (a list alone also works).")

    @model_validator(mode="before")
    @classmethod
    def _list_alone(cls, data: Any) -> Any:
        return {"values": data} if isinstance(data, list) else data


class AuditedHeader(Adoptable):
    hmac: bool = Field(False, description="Write the header's value HMAC-ed instead of in plain text.")


def audited_headers(vault: VaultReader) -> dict[str, dict[str, Any]]:
    """sys/config/auditing/request-headers cannot be listed: one GET returns every header."""
    headers = data_of(vault.read("sys/config/auditing/request-headers")).get("headers") or {}
    return {name: spec for name, spec in headers.items() if isinstance(spec, dict)}


def multivalue(path: str) -> str:
    """Without `multivalue=true`, a UI header reads back as its first value only."""
    return f"{path}?multivalue=true"


CORS = DeclaredKind(
    name="sys_config", prune_key="", model=Cors, place=TopSingleton("sys_config.cors", "sys/config/cors", "cors"),
    calls_quirk=cors_calls,
)
UI_HEADER = DeclaredKind(
    name="ui_header", prune_key="ui_headers", model=UiHeader,
    place=TopLevel("sys_config.ui_headers", "sys/config/ui/headers"), name_canon=mime_header, read_path=multivalue,
)
AUDITED_HEADER = DeclaredKind(
    name="audited_header", prune_key="audited_headers", model=AuditedHeader,
    place=TopLevel("sys_config.audited_headers", "sys/config/auditing/request-headers"), lowercase=True,
    read_all=audited_headers,
)


class SysConfig(Strict):
    cors: Cors | None = Field(None, description="`sys/config/cors`; absent: not managed.")
    ui_headers: dict[UiHeaderName, UiHeader] = Field(default_factory=dict, description="Key: header name.")
    audited_headers: dict[HeaderName, AuditedHeader] = Field(default_factory=dict, description="Key: header name.")
