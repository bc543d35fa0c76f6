"""Human plan output in the style of Terraform's, formatted from the JSON plan document.

First the stack the plan is for (`Stack: NAME (...)`, docs/ownership.md), then `+` create, `~`
update with `old -> new` per field, `-` delete, `-/+` replace, `~> OLD -> NEW` a move (sys/remount)
with the fields that change after it; a policy change as a unified diff; a closing line
"Plan: N to add, N to change, N to destroy." or "No changes.".
"""

from __future__ import annotations

import difflib
import json
from typing import Any

Line = tuple[str, str]  # (text, style)

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "move": "~>"}
STYLES = {"create": "green", "update": "yellow", "delete": "red", "replace": "magenta", "move": "cyan"}


def plan_lines(document: dict[str, Any]) -> list[Line]:
    changes = [c for c in document["changes"] if c["action"] != "no-op"]
    lines: list[Line] = [(text, "") for text in (stack_lines(document["stack"]) if "stack" in document else [])]
    for warning in document.get("warnings", []):
        lines.append((f"warning: {warning}", "yellow"))
    for kept in document["changes"]:  # what a kind says about an object it leaves as it is
        lines += [(f"note: {kept['id']}: {note}", "dim") for note in kept["warnings"] if kept["action"] == "no-op"]
    if not changes:
        lines.append(("No changes. The server matches the state file.", "bold"))
        return lines
    if lines:
        lines.append(("", ""))
    lines.append(("vault-state will perform the following actions:", ""))
    for change in changes:
        lines.append(("", ""))
        lines += change_lines(change, located="files" in document)
    summary = document["summary"]
    lines.append(("", ""))
    lines.append(
        (f"Plan: {summary['add']} to add, {summary['change']} to change, {summary['destroy']} to destroy.", "bold")
    )
    return lines


def stack_lines(stack: dict[str, Any]) -> list[str]:
    """The plan's first lines: which stack it plans for (the JSON plan's `stack`), and what it could
    not check (docs/ownership.md)."""
    if stack["inventory"] == "unreadable":
        said = "its inventory is not readable with this token: no conflicts with other stacks or fingerprints checked"
    elif stack["inventory"] == "none":
        said = "no inventory yet"
    else:
        count = stack["inventory_ids"]
        said = f"its inventory holds {count} id{'' if count == 1 else 's'}"
    others = [ns for ns in stack["unreadable_namespaces"] if ns]
    if others:
        said += f"; inventories in namespace{'s' if len(others) > 1 else ''} {', '.join(others)} are not readable " \
                "with this token: no conflicts checked there"
    if not stack["fingerprints"]:
        said += "; --no-fingerprints: write-only values neither compared nor recorded"
    lines = [f"Stack: {stack['name']} ({said})"]
    if stack["deletes_owned"]:
        lines.append(f"this plan deletes {len(stack['deletes_owned'])} of them: {', '.join(stack['deletes_owned'])}")
    return lines



def change_lines(change: dict[str, Any], located: bool = False) -> list[Line]:
    """The lines of one change; `located`: name the file and line it is declared at (several files)."""
    action = change["action"]
    style = STYLES[action]
    head = f"  {SYMBOLS[action]} {change['id']}"
    if action == "move":  # Terraform's `moved` notation: old id -> new id
        head = f"  ~> {change['moved_from']} -> {change['id']}"
    if located and change["location"]:
        head += f"  ({change['location']})"
    lines: list[Line] = [(head, style)]
    for path, where in change.get("overlaid", {}).items():  # --overlay: the values an overlay set
        lines.append((f"      # {path} from {where}", "dim"))
    if action == "create" and change.get("moved_from"):
        lines.append((f"      # moved from {change['moved_from']} (created here, then deleted there)", style))
    if action == "delete" and change.get("moved_to"):
        lines.append((f"      # moved to {change['moved_to']} (deleted after it is created)", style))
    if change["reason"]:
        lines.append((f"      # replace: {change['reason']}", style))
    if change["refusal"]:
        lines.append((f"      !! REFUSED: {change['refusal']}", "bold red"))
    if change["destroys_data"]:
        lines.append((f"      !! DESTROYS DATA: {change['data_loss']}", "bold red"))
    for warning in change["warnings"]:
        lines.append((f"      !! {warning}", "bold yellow"))
    if action == "create":
        shown = _without(change["after"], change["write_only"])
        lines += [(f"      {text}", style) for text in _value_lines(shown)]
    elif action in ("update", "replace", "move"):
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
        elif _multiline(value):
            out += _heredoc(path, value)
        elif _text_items(value):
            for index, item in enumerate(value):  # PEM keys: each as text, not as one escaped JSON string
                out += _heredoc(f"{path}[{index}]", item) if _multiline(item) else [f"{path}[{index}] = {_show(item)}"]
        else:
            out.append(f"{path} = {_show(value)}")
    return out


def _heredoc(path: str, text: str) -> list[str]:
    return [f"{path} = <<EOT", *(f"    {line}" for line in text.rstrip("\n").split("\n")), "EOT"]


def _diff_lines(diff: dict[str, Any]) -> list[str]:
    before, after = diff["before"], diff["after"]
    if _multiline(before) or _multiline(after):
        lines = [f"~ {diff['path']}:"]
        text = difflib.unified_diff(
            (before or "").splitlines(), (after or "").splitlines(), "live", "state file", lineterm="", n=2
        )
        return lines + [f"    {line}" for line in text]
    if _text_items(before) or _text_items(after):
        return _list_diff_lines(diff["path"], before or [], after or [])
    if diff["sensitive"] and before is None and after == "(sensitive)":  # e.g. a write-only value's new fingerprint
        return [f"~ {diff['path']}: (sensitive, changed)"]
    return [f"~ {diff['path']}: {_show(before)} -> {_show(after)}"]


def _list_diff_lines(path: str, before: list[Any], after: list[Any]) -> list[str]:
    """A list of multi-line text (PEM keys, compared as a set): each removed item as `-` lines and each
    added item as `+` lines, as a text diff from `live` to `state file`; unchanged items are counted."""
    lines = [f"~ {path}:", "    --- live", "    +++ state file"]
    for sign, items in (("-", [i for i in before if i not in after]), ("+", [i for i in after if i not in before])):
        for item in items:
            lines += [f"    {sign}{line}" for line in str(item).rstrip("\n").split("\n")]
    if kept := sum(1 for item in after if item in before):
        lines.append(f"    ({kept} unchanged)")
    return lines


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value.rstrip("\n")


def _text_items(value: Any) -> bool:
    """A list with multi-line text in it (`pem_keys`, `jwt_validation_pubkeys`)."""
    return isinstance(value, list) and any(_multiline(item) for item in value)


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
