"""Field types that carry their normalisation, and the markers a kind's model declares fields with.

A kind's pydantic model is the one declaration of its fields. Each field's annotation says how a
value becomes canonical (`Canon`), and whether Vault never returns it (`WriteOnly`), accepts it
only on create (`CreateOnly`), turns it on but never off (`OneWay`) or whether it is not a value
at all (`Meta`). The same canonical function runs on the file's value (after its source is
resolved) and on the server's answer, so both sides of a diff are canonical by construction
(kinds/values.py derives them).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from vault_state.durations import go_duration_to_seconds
from vault_state.sensitive import Sensitive
from vault_state.spec.types import Duration, Strict, Value


@dataclass(frozen=True)
class Canon:
    """How one field's value is made canonical. `fn` takes the file's value (resolved; maybe a
    Sensitive) or the server's (never None: a field Vault omits takes the model's default first)."""

    fn: Callable[[Any], Any]


@dataclass(frozen=True)
class WriteOnly:
    """Vault never returns this field: it is sent, never compared. `reported_as` names the boolean
    Vault returns instead (kubernetes' `token_reviewer_jwt_set`), compared as "is one set"."""


    reported_as: str = ""
    implied_by: str = ""
    """A field whose value implies this one is set (export then asks for it): a client id's secret."""
    always: bool = False
    """Export always asks for it (a userpass password: optional only because password_hash may
    replace it, and Vault says neither whether one is set)."""


@dataclass(frozen=True)
class CreateOnly:
    """Vault takes this field only when the object is created; changing it re-creates the object,
    and `loss` says what that destroys (empty: nothing, so no --allow-destroy is needed). `refuse`:
    re-creating is never done, even with --allow-destroy; it says why and what to do instead."""

    loss: str = ""
    refuse: str = ""


@dataclass(frozen=True)
class OneWay:
    """A flag Vault turns on and never off (it silently ignores `false`): turning it on is warned
    (it cannot be undone), turning it off is refused, even with --allow-destroy. `why` says what
    stays allowed and what to do instead."""

    why: str


@dataclass(frozen=True)
class NotReturned:
    """Vault accepts this field but never returns it, and it is no secret (a TOTP key's skew, the
    SSH CA's key_type): sent when the object is written, never compared; the live side of a plan
    takes the file's value, and export cannot write it."""


@dataclass(frozen=True)
class KeptWhenUnset:
    """Vault fills this field in when it is not given (approle's generated role_id): it is sent and
    compared only when the file gives it (default None), and removing it leaves the server's value."""


@dataclass(frozen=True)
class Meta:
    """Not a value sent to Vault: settings of the tool (prevent_destroy) or child objects (roles)."""


class Adoptable(Strict):
    """Base of every model that is one object of the state file and is written as a mapping: the
    settings of the tool each such object takes. Meta: never sent to Vault, compared or exported."""

    adopt: Annotated[bool, Meta()] = Field(
        False,
        description="Take this object over from the stack whose inventory holds it, as listing its id in the "
        "top-level `adopt:` does (docs/ownership.md).",
    )


def adopts(spec: object) -> bool:
    """Whether a spec object says `adopt: true` (a policy's HCL text cannot: it is a string)."""
    return bool(getattr(spec, "adopt", False))


def _map(value: Any, fn: Callable[[str], str]) -> Any:
    return value.map(fn) if isinstance(value, Sensitive) else fn(value)


def text(value: Any) -> Any:
    """A string field: Vault returns null or omits it when unset."""
    return _map(value, lambda v: "" if v is None else str(v))


def lower_text(value: Any) -> Any:
    """A string Vault stores lowercased (jwt's default_role)."""
    return _map(value, lambda v: "" if v is None else str(v).lower())


def stripped(value: Any) -> Any:
    """A token or key pasted with surrounding whitespace (a trailing newline from a file)."""
    return _map(value, lambda v: str(v or "").strip())


def pem(value: Any) -> Any:
    """A PEM block with surrounding whitespace removed and one trailing newline.

    Vault stores kubernetes_ca_cert verbatim and strips JWT public keys' trailing newline."""
    return _map(value, lambda v: v.strip() + "\n" if v and v.strip() else "")


def url(value: Any) -> Any:
    """A base URL: stored verbatim, so a trailing '/' would differ from the same URL without it."""
    return _map(value, lambda v: str(v or "").rstrip("/"))


def name_set(values: Iterable[Any] | None) -> list[Any]:
    """A list whose order means nothing to Vault, as a sorted list without duplicates or blanks.

    Vault keeps order and duplicates as written; comparing them as sets stops the perpetual diffs
    Terraform's provider is known for."""
    items = {_map(v, str.strip) for v in values or []}
    return sorted((v for v in items if v != ""), key=_sort_key)


def _sort_key(value: Any) -> str:
    return value.reveal() if isinstance(value, Sensitive) else str(value)


def lower_name_set(values: Iterable[Any] | None) -> list[Any]:
    """Names Vault lowercases (policies at login): a set of lowercase names."""
    return name_set(_map(v, str.lower) for v in values or [])


def pem_set(values: Iterable[Any] | None) -> list[Any]:
    """PEM blocks whose order means nothing (kubernetes pem_keys, jwt_validation_pubkeys)."""
    return sorted({pem(v) for v in values or []} - {""}, key=_sort_key)


def cidr_set(values: Iterable[Any] | None) -> list[Any]:
    """CIDRs as Vault stores them: a host CIDR (/32, /128) reads back as the bare address and IPv6
    in compressed lowercase; other CIDRs keep their address bits as written."""
    return name_set(_map(v, _cidr) for v in values or [])


def _cidr(value: str) -> str:
    try:
        iface = ipaddress.ip_interface(value.strip())
    except ValueError:
        return value
    host = iface.network.prefixlen == iface.max_prefixlen
    return str(iface.ip) if host else f"{iface.ip}/{iface.network.prefixlen}"


def comma_set(value: str | Iterable[str] | None) -> str:
    """A comma-separated string Vault splits into a set (SSH roles' allowed_users, allowed_domains):
    sorted, without blanks or duplicates, joined by ','. The file may give a string or a list."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return ",".join(sorted({item.strip() for item in items} - {""}))


def sorted_map(value: dict[str, Any] | None) -> dict[str, Any]:
    """A map compared by key: Vault returns null for an empty one."""
    return dict(sorted((value or {}).items()))


def seconds(value: Any) -> int:
    """A duration as seconds: the file's `1h`, Vault's integer seconds and its Go `768h0m0s`."""
    return value if isinstance(value, int) and not isinstance(value, bool) else go_duration_to_seconds(value)


# The field types kinds declare with. Each is the pydantic type that validates the file plus the
# canonical form both sides are compared in.
Text = Annotated[Value, Canon(text)]
"""A string that may come from a value source ({env}, {file}, {kubernetes})."""
def no_source(value: Any) -> Any:
    """Refuse a value source where a literal is needed (BeforeValidator of Literal_ and the like)."""
    if isinstance(value, dict) and value.keys() & {"env", "file", "kubernetes"}:
        raise ValueError(
            "this field takes a literal string, not a value source: it must be known offline "
            "(vault-state checks it or uses it without the server or the environment)"
        )
    return value


Literal_ = Annotated[str, BeforeValidator(no_source), Canon(text)]
"""A string that must be known offline (checked against the file, or used in generated manifests):
a value source is refused with a located error saying why."""
Url = Annotated[Value, Canon(url)]
Pem = Annotated[Value, Canon(pem)]
NameSet = Annotated[list[str], Canon(name_set)]
TextSet = Annotated[list[Value], Canon(name_set)]
"""A set of strings whose items may come from value sources (a redirect URI that differs per cluster)."""
LowerNameSet = Annotated[list[str], Canon(lower_name_set)]
CidrSet = Annotated[list[str], Canon(cidr_set)]
PemSet = Annotated[list[str], Canon(pem_set)]
StringMap = Annotated[dict[str, str], Canon(sorted_map)]
CommaSet = Annotated[str | list[str], Canon(comma_set)]
"""Names Vault keeps as one comma-separated string but uses as a set ("ops,deploy" or a list)."""
Seconds = Annotated[Duration, Canon(seconds)]
Secret = Annotated[Value | None, WriteOnly(), Field(description="Write-only: sent, never read back or compared.")]


def or_shorthand(shorthand: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A model's JSON Schema that also accepts the short form its before-validator expands
    (`{type: string}` for a policy's text alone, `{type: array}` for a header's values alone)."""

    def widen(schema: dict[str, Any]) -> None:
        model = dict(schema)
        schema.clear()
        schema.update(anyOf=[shorthand, model], title=model.get("title", ""))

    return widen


def prevent_destroy_field(what: str) -> Any:
    return Field(False, description=f"Refuse any plan that would {what}.")


PreventDestroy = Annotated[bool, Meta()]
