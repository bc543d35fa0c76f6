"""The plan as compact Markdown for a pull-request comment, formatted from the JSON plan document.

The stack it plans for, a summary line, destroy actions called out, one table row per change (action,
id, changed fields), policy text changes as ```diff blocks, then the warnings.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from vault_state.render.text import SYMBOLS, stack_lines

TITLE = "### vault-state plan"


def plan_markdown(document: dict[str, Any]) -> str:
    changes = [c for c in document["changes"] if c["action"] != "no-op"]
    if not changes:
        body = ["**No changes.** The server matches the state file."]
    else:
        s = document["summary"]
        body = [f"**Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy.**"]
        body += _destroys(changes) + _table(changes, "files" in document) + _diffs(changes)
    stack = ["\n".join(stack_lines(document["stack"]))] if "stack" in document else []  # one paragraph
    return "\n\n".join([TITLE, *stack, *body, *_warnings(document, document["changes"])]) + "\n"


def _destroys(changes: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"> - `{c['id']}` ({c['action']}{': ' + c['reason'] if c['reason'] else ''}): {c['data_loss']}"
        for c in changes if c["destroys_data"]
    ]
    if not lines:
        return []
    head = "> [!CAUTION]\n> **Destroys data:** these changes delete data that cannot be recovered.\n"
    return [head + "\n".join(lines)]


def _table(changes: list[dict[str, Any]], located: bool) -> list[str]:
    """One row per change; `located` (several state files): a column naming its file and line."""
    rows = ["| | action | id | changed fields |", "|---|---|---|---|"]
    if located:
        rows = ["| | action | id | declared at | changed fields |", "|---|---|---|---|---|"]
    for c in changes:
        fields = ", ".join(f"`{_cell(d['path'])}`" for d in c["diff"]) if c["action"] != "create" else ""
        rid = f"`{c['moved_from']}` -> `{c['id']}`" if c["action"] == "move" else f"`{c['id']}`"
        where = [f"`{_cell(c['location'])}`" if c["location"] else ""] if located else []
        if located and c.get("overlaid"):  # --overlay: the values an overlay set
            where[0] += "".join(f"<br>`{_cell(p)}` from `{_cell(w)}`" for p, w in c["overlaid"].items())
        cells = [f"`{SYMBOLS[c['action']]}`", c["action"], rid, *where, fields]
        rows.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return ["\n".join(rows)]


def _diffs(changes: list[dict[str, Any]]) -> list[str]:
    """A ```diff block per policy whose text changes (hunk headers only where something is kept)."""
    blocks = []
    for c in changes:
        for d in c["diff"] if c["kind"] == "policy" else []:
            before, after = _lines(d["before"]), _lines(d["after"])
            lines = list(difflib.unified_diff(before, after, lineterm="", n=3))[2:]
            if not before or not after:
                lines = [line for line in lines if not line.startswith("@@")]
            fence = "`" * max([3, *(len(run) + 1 for run in re.findall("`+", "\n".join(lines)))])
            blocks.append(f"#### `{c['id']}`\n\n{fence}diff\n" + "\n".join(lines) + f"\n{fence}")
    return blocks


def _warnings(document: dict[str, Any], changes: list[dict[str, Any]]) -> list[str]:
    items = [f"- `{c['id']}`: {w}" for c in changes for w in c["warnings"]]
    items += [f"- {w}" for w in document.get("warnings", [])]
    return ["**Warnings**\n\n" + "\n".join(items)] if items else []


def _lines(value: Any) -> list[str]:
    return value.rstrip("\n").split("\n") if isinstance(value, str) and value else []


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
