"""Canonical values derived from a model's field declarations (spec/fields.py), for both sides.

`desired_values` turns a validated spec object into the values the plan compares and the
write-only values apply sends; `live_values` turns the server's answer into the same shape:
fields the model does not declare are dropped, a field Vault omits (or returns as null) takes the
model's default, and every field goes through the same canonical function as the file's value.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from vault_state.sensitive import Sensitive
from vault_state.spec.fields import Canon, CreateOnly, KeptWhenUnset, Meta, NotReturned, OneWay, WriteOnly
from vault_state.spec.sources import Resolver
from vault_state.spec.types import EnvSource, FileSource, KubeCaSource, KubeTokenSource

Values = dict[str, Any]
SOURCES = (EnvSource, FileSource, KubeCaSource, KubeTokenSource)


@dataclass(frozen=True)
class FieldSpec:
    """One declared field, as the derivations use it."""

    name: str
    default: Any
    canon: Canon | None
    write_only: WriteOnly | None
    create_only: CreateOnly | None
    nested: type[BaseModel] | None
    meta: bool
    required: bool
    not_returned: bool = False
    kept_when_unset: bool = False
    one_way: OneWay | None = None


@functools.cache
def field_specs(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The fields of `model` in declaration order (computed once per model)."""
    return tuple(_spec(name, info) for name, info in model.model_fields.items())


def _spec(name: str, info: FieldInfo) -> FieldSpec:
    marks = list(info.metadata)
    for arg in typing.get_args(info.annotation):  # markers inside Optional[Annotated[...]]
        marks += list(getattr(arg, "__metadata__", ()))

    def first(kind: type[Any]) -> Any:
        return next((m for m in marks if isinstance(m, kind)), None)

    default = None if info.is_required() else info.get_default(call_default_factory=True)
    return FieldSpec(
        name,
        default,
        first(Canon),
        first(WriteOnly),
        first(CreateOnly),
        _model_of(info.annotation),
        bool(first(Meta)),
        info.is_required(),
        bool(first(NotReturned)),
        bool(first(KeptWhenUnset)),
        first(OneWay),
    )


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The nested model of a field typed `Model` or `Model | None`."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def create_only(model: type[BaseModel]) -> dict[str, str]:
    """The create-only fields of `model` and what re-creating the object loses ("" for nothing)."""
    return {f.name: f.create_only.loss for f in field_specs(model) if f.create_only is not None}


def not_returned(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields Vault accepts but never returns (not secrets): the live side takes the file's."""
    return tuple(f.name for f in field_specs(model) if f.not_returned)


def canonical(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        value = spec.default
    return spec.canon.fn(value) if spec.canon is not None and value is not None else value


def desired_values(
    obj: BaseModel,
    resolver: Resolver | None,
    loc: Sequence[str | int],
    skip: Sequence[str] = (),
    model: type[BaseModel] | None = None,
) -> tuple[Values, dict[str, Sensitive]]:
    """The canonical values of a spec object and its write-only values (sources resolved; secrets
    stay Sensitive). Nested models are nested dicts; their write-only values have dotted paths.
    `model`: a base class of the object's model whose fields alone are wanted."""
    values: Values = {}
    secrets: dict[str, Sensitive] = {}
    for spec in field_specs(model or type(obj)):
        if spec.meta or spec.name in skip:
            continue
        value = getattr(obj, spec.name)
        where = (*loc, spec.name)
        if spec.kept_when_unset and value is None:
            continue  # not managed: the server's value stands (the live side drops it too)
        if spec.nested is not None and isinstance(value, BaseModel):
            values[spec.name], inner = desired_values(value, resolver, where)
            secrets.update({f"{spec.name}.{k}": v for k, v in inner.items()})
        elif spec.write_only is not None:
            if spec.write_only.reported_as:
                values[spec.write_only.reported_as] = value is not None
            if value is not None:
                assert resolver is not None, f"a write-only value at {where} needs a resolver"
                secret = resolver.resolve(value, where, secret=True)
                assert isinstance(secret, Sensitive)
                secrets[spec.name] = canonical(spec, secret)
        else:
            values[spec.name] = canonical(spec, _resolved(value, resolver, where))
    return values, secrets


def _resolved(value: Any, resolver: Resolver | None, loc: Sequence[str | int]) -> Any:
    if isinstance(value, SOURCES):
        assert resolver is not None, f"a value source at {loc} needs a resolver"
        return resolver.resolve(value, loc)
    if isinstance(value, list) and any(isinstance(v, SOURCES) for v in value):
        return [_resolved(v, resolver, (*loc, i)) for i, v in enumerate(value)]
    return value


def kept_when_unset(model: type[BaseModel]) -> frozenset[str]:
    """The fields compared only when the file gives them."""
    return frozenset(f.name for f in field_specs(model) if f.kept_when_unset)


def live_values(model: type[BaseModel], raw: Mapping[str, Any] | None, skip: Sequence[str] = ()) -> Values:
    """The server's answer in the model's canonical form: undeclared fields dropped, omitted ones
    defaulted, write-only ones replaced by what Vault reports about them (`reported_as`), the ones
    Vault never returns left out (the caller takes the file's values for those)."""
    raw = raw or {}
    values: Values = {}
    for spec in field_specs(model):
        if spec.meta or spec.not_returned or spec.name in skip:
            continue
        if spec.write_only is not None:
            if spec.write_only.reported_as:
                values[spec.write_only.reported_as] = bool(raw.get(spec.write_only.reported_as))
        elif spec.nested is not None:
            values[spec.name] = live_values(spec.nested, raw.get(spec.name))
        else:
            values[spec.name] = canonical(spec, raw.get(spec.name))
    return values
