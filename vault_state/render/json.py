"""The plan as one JSON document: the single walk over a Plan, and the single place of redaction.

Sensitive values (and every write-only value) print as "(sensitive)". Text and Markdown output
format this document, so human and machine output cannot disagree.
"""

from __future__ import annotations

from typing import Any

from vault_state.plan.deferred import shown_all
from vault_state.plan.model import Change, Plan, Resource
from vault_state.sensitive import REDACTED, redact_all

FORMAT_VERSION = "1"


def plan_document(plan: Plan, warnings: list[str] | None = None, files: list[str] | None = None) -> dict[str, Any]:
    """The plan; `files`: the state files it was made from, when several (text and Markdown then
    name each change's file and line)."""
    return {
        "format_version": FORMAT_VERSION,
        "changes": [change_document(c) for c in plan.changes],
        "summary": plan.counts(),
        "warnings": list(warnings or []),
        **({"files": list(files)} if files else {}),
    }


def change_document(change: Change) -> dict[str, Any]:
    document = {
        "kind": change.id.kind,
        "id": str(change.id),
        "action": change.action.value,
        "before": _values(change.before),
        "after": _values(change.after),
        "diff": [
            {
                "path": d.path,
                "before": REDACTED if d.sensitive and d.before is not None else shown_all(d.before),
                "after": REDACTED if d.sensitive and d.after is not None else shown_all(d.after),
                "sensitive": d.sensitive,
            }
            for d in change.diffs
        ],
        "write_only": sorted((change.after.write_only if change.after else {}).keys()),
        "reason": change.reason,
        "destroys_data": change.destroys_data,
        "data_loss": change.data_loss,
        "refusal": change.refusal,
        "warnings": list(change.warnings),
        "location": str(change.location) if change.location else None,
    }
    if change.moved_from is not None:  # a `moved:` entry: only then, so other documents keep their shape
        document["moved_from"] = str(change.moved_from)
    if change.moved_to is not None:
        document["moved_to"] = str(change.moved_to)
    return document


def _values(resource: Resource | None) -> dict[str, Any] | None:
    if resource is None:
        return None
    values = shown_all(redact_all(resource.values))
    for path in resource.write_only:
        _set_path(values, path, REDACTED)
    return values  # type: ignore[no-any-return]


def _set_path(values: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        values = values.setdefault(part, {})
    values[leaf] = value
