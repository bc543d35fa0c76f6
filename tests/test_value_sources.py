"""Value sources on string fields: every string field of every kind takes {env}/{file} sources, or
refuses one with a located error saying why (a value that must be known offline)."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from conftest import Cli, read, write_state
from pydantic import BaseModel

from vault_state.kinds.auth import _TYPES
from vault_state.kinds.registry import DECLARED
from vault_state.sandbox import DevServer
from vault_state.spec.auth import AuthTune, _AuthBase
from vault_state.spec.engines import KvConfig, SecretsEngine, Tune
from vault_state.spec.fields import no_source


def models() -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = {SecretsEngine, Tune, KvConfig, _AuthBase, AuthTune}
    for auth in _TYPES.values():
        found |= {m for m in (auth.role_model, auth.config_model) if m is not None}
    return found | {kind.model for kind in DECLARED}


def _plain_str(annotation: Any) -> bool:
    """A field typed str (or str | None), not a value source union."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return len(args) == 1 and _plain_str(args[0])
    return annotation is str


def _refuses_sources(info: Any) -> bool:
    marks = list(info.metadata)
    annotation = info.annotation
    while typing.get_origin(annotation) is typing.Annotated:  # Annotated[Literal_, CreateOnly()]
        marks += typing.get_args(annotation)[1:]
        annotation = typing.get_args(annotation)[0]
    return any(getattr(m, "func", None) is no_source for m in marks)


# A plain string that neither takes a source nor says why: none may be added (declare it Text or Literal_).
def test_every_string_field_takes_a_source_or_refuses_one_saying_why() -> None:
    silent = sorted(
        f"{model.__name__}.{name}"
        for model in models()
        for name, info in model.model_fields.items()
        if _plain_str(info.annotation) and not _refuses_sources(info)
        and name not in ("type",)  # a mount's or device's type selects its model: known before anything is read
    )
    assert silent == []


def test_a_source_where_a_literal_is_needed_is_a_located_error(offline_cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, """version: 1
auth_methods:
  kubernetes:
    type: kubernetes
    roles:
      app:
        bound_service_account_names: [app]
        bound_service_account_namespaces: [apps]
        audience: {env: AUDIENCE}
""")
    result = offline_cli("validate", "-f", str(state))
    assert result.code == 1
    assert result.err == (
        f"{state}:9:19: audience: this field takes a literal string, not a value source: it must be known "
        "offline (vault-state checks it or uses it without the server or the environment)\n"
    )


def test_descriptions_and_role_fields_from_sources_apply_and_plan_empty(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    (tmp_path / "description.txt").write_text("from a file\n")
    state = write_state(tmp_path, """version: 1
secrets_engines:
  kv: {type: kv-v2, description: {env: KV_DESCRIPTION, sensitive: false}}
auth_methods:
  approle:
    type: approle
    description: {file: description.txt, sensitive: false}
""")
    env = {"KV_DESCRIPTION": "team secrets"}
    result = cli("apply", "-f", str(state), "--auto-approve", env=env)
    assert result.code == 0, result.out + result.err
    assert bao.request("GET", "sys/mounts").json()["data"]["kv/"]["description"] == "team secrets"
    assert read(bao, "sys/auth/approle")["description"] == "from a file\n"
    again = cli("plan", "-f", str(state), "--detailed-exitcode", env=env)
    assert again.code == 0, again.out + again.err
