"""The committed JSON Schema is the one the models produce, and the example validates against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import EXAMPLES
from ruamel.yaml import YAML

from vault_state.cli import state_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "state.schema.json"


def committed_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return schema


def plain(node: Any) -> Any:
    """ruamel's round-trip tree as plain dicts, lists and scalars, as JSON Schema sees a document."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def example() -> dict[str, Any]:
    data: dict[str, Any] = plain(YAML(typ="rt", pure=True).load((EXAMPLES / "state.yaml").read_text()))
    return data


def validator() -> jsonschema.protocols.Validator:
    schema = committed_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_committed_schema_is_up_to_date() -> None:
    assert committed_schema() == json.loads(json.dumps(state_schema())), (
        "schemas/state.schema.json is out of date with the models: run `make schema` and commit the result"
    )


def test_schema_is_draft_2020_12() -> None:
    assert committed_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_example_validates_against_the_schema() -> None:
    errors = [e.message for e in validator().iter_errors(example())]
    assert errors == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.update(descripton="x"), "descripton"),
        (lambda d: d["secrets_engines"]["secret"].update(descripton="x"), "descripton"),
        (lambda d: d["auth_methods"]["kubernetes"]["roles"]["eso-role"].update(token_polices=["x"]), "token_polices"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(version=2), "1"),
        (lambda d: d["secrets_engines"]["secret"]["tune"].update(default_lease_ttl="1x"), "1x"),
    ],
    ids=["top-level key", "engine key", "role key", "no version", "version 2", "bad duration"],
)
def test_invalid_documents_do_not_validate(change: Any, fragment: str) -> None:
    document = example()
    document["secrets_engines"]["secret"].setdefault("tune", {})
    change(document)
    errors = [e.message for e in validator().iter_errors(document)]
    assert errors, "the schema accepted an invalid document"
    assert any(fragment in message for message in errors), errors


def test_untyped_auth_method_validates_with_free_form_roles() -> None:
    document = example()
    document["auth_methods"]["ldap"] = {"type": "ldap", "config": {"url": "ldap://x"}, "roles": {"r": {"anything": 1}}}
    assert [e.message for e in validator().iter_errors(document)] == []


def test_typed_auth_method_is_not_also_generic() -> None:
    """`type: kubernetes` must match only the kubernetes form, or `oneOf` fails and typos pass as generic."""
    document = {"version": 1, "auth_methods": {"k": {"type": "kubernetes", "roles": {"r": {"nonsense": 1}}}}}
    assert list(validator().iter_errors(document))


def test_every_prune_key_is_a_prune_setting() -> None:
    """A kind's prune_key names its field of `prune:` ("" for one never pruned): a key the model lacks
    would read as "never prune" without a word (ReadScope reads it with getattr)."""
    from vault_state.kinds.registry import KINDS
    from vault_state.spec.models import Prune

    assert {k.prune_key for k in KINDS} - {""} == set(Prune.model_fields)
