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
COMMENT_LIMIT = 65536
"""GitHub refuses a pull-request comment longer than this many characters ("Body is too long")."""


def plan_markdown(document: dict[str, Any], limit: int | None = None) -> str:
    """The comment; with `limit`, cut to fit it: the policy diffs go first, then the table's last
    rows, each cut said in the comment (the text plan in the job's log has it all)."""
    changes = [c for c in document["changes"] if c["action"] != "no-op"]
    stack = ["\n".join(stack_lines(document["stack"]))] if "stack" in document else []  # one paragraph
    warnings = _warnings(document, document["changes"])
    if not changes:
        return "\n\n".join([TITLE, *stack, "**No changes.** The server matches the state file.", *warnings]) + "\n"
    s = document["summary"]
    head = [TITLE, *stack, f"**Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy.**",
            *_destroys(changes)]
    rows, diffs = _table(changes, "files" in document), _diffs(changes)
    left_out: dict[str, int] = {}

    def text() -> str:
        said = [f"> [!NOTE]\n> Left out to fit a GitHub comment ({limit:,} characters): "
                + " and ".join(f"{what} ({n})" for what, n in left_out.items())
                + ". The plan in the job's log shows every change."] if left_out else []
        return "\n\n".join([*head, *said, "\n".join(rows), *diffs, *warnings]) + "\n"

    if limit is None or len(text()) <= limit:
        return text()
    if diffs:
        left_out["the policy diffs"], diffs = len(diffs), []
    while (excess := len(text()) - limit) > 0 and len(rows) > 2:  # the table's header and rule stay
        while excess > 0 and len(rows) > 2:  # a pass per note length: the note grows with the count
            excess -= len(rows.pop()) + 1
            left_out["the table's last rows"] = left_out.get("the table's last rows", 0) + 1
    return text()[:limit]


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
    """One row per change (after the header's two lines); `located` (several state files): a column
    naming its file and line."""
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
    return rows


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
