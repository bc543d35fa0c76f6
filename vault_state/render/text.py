"""Human plan output in the style of Terraform's, formatted from the JSON plan document.

`+` create, `~` update with `old -> new` per field, `-` delete, `-/+` replace; a policy change
as a unified diff; a closing line "Plan: N to add, N to change, N to destroy." or "No changes.".
"""

from __future__ import annotations

import difflib
import json
from typing import Any

Line = tuple[str, str]  # (text, style)

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
STYLES = {"create": "green", "update": "yellow", "delete": "red", "replace": "magenta"}


def plan_lines(document: dict[str, Any]) -> list[Line]:
    changes = [c for c in document["changes"] if c["action"] != "no-op"]
    lines: list[Line] = []
    for warning in document.get("warnings", []):
        lines.append((f"warning: {warning}", "yellow"))
    if not changes:
        lines.append(("No changes. The server matches the state file.", "bold"))
        return lines
    if lines:
        lines.append(("", ""))
    lines.append(("vault-state will perform the following actions:", ""))
    for change in changes:
        lines.append(("", ""))
        lines += change_lines(change)
    summary = document["summary"]
    lines.append(("", ""))
    lines.append(
        (f"Plan: {summary['add']} to add, {summary['change']} to change, {summary['destroy']} to destroy.", "bold")
    )
    return lines


def change_lines(change: dict[str, Any]) -> list[Line]:
    action = change["action"]
    style = STYLES[action]
    head = f"  {SYMBOLS[action]} {change['id']}"
    lines: list[Line] = [(head, style)]
    if change["reason"]:
        lines.append((f"      # replace: {change['reason']}", style))
    if change["destroys_data"]:
        lines.append((f"      !! DESTROYS DATA: {change['data_loss']}", "bold red"))
    for warning in change["warnings"]:
        lines.append((f"      !! {warning}", "bold yellow"))
    if action == "create":
        shown = _without(change["after"], change["write_only"])
        lines += [(f"      {text}", style) for text in _value_lines(shown)]
    elif action in ("update", "replace"):
        for diff in change["diff"]:
            lines += [(f"      {text}", "") for text in _diff_lines(diff)]
    for name in change["write_only"]:
        lines.append((f"      {name} = (sensitive)  # write-only: sent, never read back or compared", "dim"))
    return lines


def _without(values: dict[str, Any] | None, paths: list[str]) -> dict[str, Any]:
    """`values` without the write-only paths (listed on lines of their own)."""
    shown = json.loads(json.dumps(values or {}))
    for path in paths:
        *parents, leaf = path.split(".")
        node = shown
        for part in parents:
            node = node.get(part, {})
        node.pop(leaf, None)
    return shown  # type: ignore[no-any-return]


def _value_lines(values: dict[str, Any] | None, prefix: str = "") -> list[str]:
    """One `path = value` line per set field; empty values ([], "", {}) are left out."""
    out: list[str] = []
    for key, value in (values or {}).items():
        path = f"{prefix}{key}"
        if value in ([], "", {}, None):
            continue
        if isinstance(value, dict):
            out += _value_lines(value, f"{path}.")
        elif isinstance(value, str) and "\n" in value.rstrip("\n"):
            out.append(f"{path} = <<EOT")
            out += [f"    {line}" for line in value.rstrip("\n").split("\n")]
            out.append("EOT")
        else:
            out.append(f"{path} = {_show(value)}")
    return out


def _diff_lines(diff: dict[str, Any]) -> list[str]:
    before, after = diff["before"], diff["after"]
    if _multiline(before) or _multiline(after):
        lines = [f"~ {diff['path']}:"]
        text = difflib.unified_diff(
            (before or "").splitlines(), (after or "").splitlines(), "live", "state file", lineterm="", n=2
        )
        return lines + [f"    {line}" for line in text]
    return [f"~ {diff['path']}: {_show(before)} -> {_show(after)}"]


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value.rstrip("\n")


def _show(value: Any) -> str:
    if value == "(sensitive)":
        return "(sensitive)"
    if value is None:
        return "(none)"
    return json.dumps(value)


def apply_lines(applied: list[str], failed: list[tuple[str, str]], pending: list[str]) -> list[Line]:
    lines: list[Line] = []
    for rid in applied:
        lines.append((f"  applied  {rid}", "green"))
    for rid, error in failed:
        lines.append((f"  FAILED   {rid}: {error}", "bold red"))
    for rid in pending:
        lines.append((f"  pending  {rid} (not applied)", "yellow"))
    return lines
