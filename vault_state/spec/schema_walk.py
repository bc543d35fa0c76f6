"""The spec model reached by a pydantic `loc`, to suggest field names for an unknown key."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, Tag

from vault_state.spec.models import StateFile


def field_names_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model at `loc` (its keys in the file), or [] when it cannot be told."""
    current: Any = StateFile
    for part in loc:
        current = _step(_unwrap(current), part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def unwrap_type(tp: Any) -> Any:
    """The type inside `Annotated[...]` and `X | None`."""
    return _unwrap(tp)


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if _is_union(tp) and len(args) == 1:
        return _unwrap(args[0])
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _step(tp: Any, part: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part)
        return field.annotation if field else None
    origin = typing.get_origin(tp)
    if origin is dict:
        return typing.get_args(tp)[1]
    if origin is list:
        return typing.get_args(tp)[0]
    if _is_union(tp):
        for member in typing.get_args(tp):
            meta = getattr(member, "__metadata__", ())
            if any(isinstance(m, Tag) and m.tag == part for m in meta):
                return member
    return None
