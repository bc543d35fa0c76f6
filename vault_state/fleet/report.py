"""A fleet run as text (a section per target, then a summary table), as one Markdown comment for a
pull request (the summary on top, a collapsible section per target) or as one JSON document keyed by
target. Each target's own plan is formatted by the usual renderers, from its plan document."""

from __future__ import annotations

import json

from vault_state.fleet.run import Outcome
from vault_state.render.markdown import COMMENT_LIMIT, TITLE, plan_markdown
from vault_state.render.text import Line, plan_lines

NOT_RUN = "not run: an earlier target failed (--keep-going runs the rest)"


def heading(outcome: Outcome) -> Line:
    namespace = f", namespace {outcome.target.namespace}" if outcome.target.namespace else ""
    return (f"=== {outcome.name}: {outcome.target.address}{namespace} ===", "bold")


def plan_text(outcomes: list[Outcome]) -> list[Line]:
    """Each target's plan under its heading, in order, then the summary table."""
    lines: list[Line] = []
    for outcome in outcomes:
        lines += [heading(outcome), *section_lines(outcome), ("", "")]
    return lines + summary_lines(outcomes, plan=True)


def section_lines(outcome: Outcome) -> list[Line]:
    """A target's notes, then its plan or its error."""
    lines: list[Line] = [(note, "yellow") for note in outcome.notes]
    if outcome.document is not None:  # its warnings are diagnostics, printed as they are
        lines += [(warning, "yellow") for warning in outcome.document["warnings"]]
        lines += plan_lines({**outcome.document, "warnings": []})
    if outcome.error:
        lines += [(f"error: {line}", "red") for line in outcome.error.splitlines()]
    return lines


def summary_lines(outcomes: list[Outcome], plan: bool) -> list[Line]:
    """One row per target: its counts and its error (plan), or its counts and what became of it (apply)."""
    head = ["target", "add", "change", "destroy", "error" if plan else "result"]
    return _table(outcomes, head, [_row(o, plan) for o in outcomes], numbers=True)


def check_text(outcomes: list[Outcome], command: str) -> list[Line]:
    """validate/lint --targets: each target's diagnostics and verdict under its heading, then the summary."""
    lines: list[Line] = []
    for outcome in outcomes:
        lines += [heading(outcome), *((line, "yellow") for line in outcome.output)]
        lines += [(line, "red") for line in outcome.error.splitlines()]
        lines.append(("", ""))
    rows = [[o.name, _verdict(o, command)] for o in outcomes]
    return lines + _table(outcomes, ["target", "result"], rows, numbers=False)


def _verdict(outcome: Outcome, command: str) -> str:
    if outcome.errors:
        return f"invalid: {outcome.errors} error{'s' if outcome.errors != 1 else ''}"
    if outcome.error:
        return f"error: {outcome.error.splitlines()[0]}"
    said = outcome.output[-1].rsplit(": ", 1)[-1] if outcome.output else ""  # "FILES: valid (...)", "FILES: 2 warnings"
    if command == "validate":
        warned = len(outcome.output) - 1
        return "valid" + (f", {warned} warning{'s' if warned != 1 else ''}" if warned else "")
    return said + (" (--strict)" if outcome.code else "")


def _table(outcomes: list[Outcome], head: list[str], rows: list[list[str]], numbers: bool) -> list[Line]:
    rows = [head, *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines: list[Line] = [(f"Summary ({len(outcomes)} target{'s' if len(outcomes) != 1 else ''}):", "bold")]
    for index, row in enumerate(rows):
        cells = [cell.rjust(width) if 0 < column < 4 and numbers else cell.ljust(width)
                 for column, (cell, width) in enumerate(zip(row, widths, strict=True))]
        style = "bold" if index == 0 else "red" if outcomes[index - 1].code == 1 else ""
        lines.append(("  " + "  ".join(cells).rstrip(), style))
    return lines


def _row(outcome: Outcome, plan: bool) -> list[str]:
    error = outcome.error.splitlines()[0] if outcome.error else ""
    counts = _counts(outcome)
    numbers = [str(counts[k]) if counts else "-" for k in ("add", "change", "destroy")]
    if plan:
        return [outcome.name, *numbers, error]
    result = NOT_RUN if not outcome.ran else f"failed: {error}" if error else "failed" if outcome.code else "ok"
    return [outcome.name, *numbers, result]


def _counts(outcome: Outcome) -> dict[str, int] | None:
    if outcome.counts is not None:
        return outcome.counts
    return dict(outcome.document["summary"]) if outcome.document is not None else None


def plan_markdown_comment(outcomes: list[Outcome], rerun: str = "vault-state plan --targets FILE",
                          limit: int = COMMENT_LIMIT) -> str:
    """One Markdown document: the summary table on top, then a <details> section per target.

    When it would be longer than `limit`, the largest sections are cut first, each replaced by a line
    saying how long it was and the command (`rerun --only NAME`) that shows it, until the comment fits.
    """
    rows = ["| target | add | change | destroy | error |", "|---|---:|---:|---:|---|"]
    for outcome in outcomes:
        counts = _counts(outcome)
        cells = [f"`{outcome.name}`", *(str(counts[k]) if counts else "" for k in ("add", "change", "destroy")),
                 _cell(_short(outcome.error.splitlines()[0])) if outcome.error else ""]
        rows.append("| " + " | ".join(cells) + " |")
    head = [f"{TITLE}: {len(outcomes)} target{'s' if len(outcomes) != 1 else ''}", "\n".join(rows)]
    details = [_details(outcome) for outcome in outcomes]
    cut: list[int] = []

    def text() -> str:
        return "\n\n".join([*head, *_cut_note(outcomes, cut, details, rerun, limit), *details]) + "\n"

    sizes = [len(d) for d in details]
    for index in sorted(range(len(details)), key=lambda i: -sizes[i]):
        if len(text()) <= limit:
            break
        cut.append(index)
        details[index] = _cut_details(outcomes[index], sizes[index], rerun)
    if len(text()) > limit:  # so many targets that even their cut sections do not fit: the table alone
        details = []
    return text()[:limit]  # the table itself too long: thousands of targets (the text plan has them all)


def _cut_note(outcomes: list[Outcome], cut: list[int], details: list[str], rerun: str, limit: int) -> list[str]:
    if not cut:
        return []
    names = ", ".join(f"`{outcomes[i].name}`" for i in sorted(cut))
    shown = "" if details else " and every section below the table"
    return [f"> [!NOTE]\n> This comment is cut to fit a GitHub comment ({limit:,} characters): the plans of "
            f"{names}{shown} are left out. See them with `{rerun} --only NAME`, or the whole run in the job's log."]


def _cut_details(outcome: Outcome, size: int, rerun: str) -> str:
    counts = _counts(outcome)
    said = (f"{counts['add']} to add, {counts['change']} to change, {counts['destroy']} to destroy"
            if counts is not None else "error" if outcome.error else "not planned")
    return (f"<details><summary><b>{outcome.name}</b> ({_cell(outcome.target.address)}): {said} (cut)</summary>\n\n"
            f"This section ({size:,} characters) was cut to fit the comment. See it with "
            f"`{rerun} --only {outcome.name}`.\n\n</details>")


def _details(outcome: Outcome) -> str:
    counts = _counts(outcome)
    if outcome.error:
        said, body = "error", f"```text\n{outcome.error}\n```"
    elif counts is not None:
        said = f"{counts['add']} to add, {counts['change']} to change, {counts['destroy']} to destroy"
        body = ""
    else:
        said, body = "not planned", ""
    if outcome.document is not None:  # the target's own plan comment, without its title
        body = "\n\n".join(p for p in (plan_markdown(outcome.document).removeprefix(f"{TITLE}\n\n").strip(), body) if p)
    notes = "".join(f"- {_cell(note)}\n" for note in outcome.notes)
    return (f"<details><summary><b>{outcome.name}</b> ({_cell(outcome.target.address)}): {said}</summary>\n\n"
            f"{notes + chr(10) if notes else ''}{body}\n\n</details>")


def _short(text: str, most: int = 200) -> str:
    """An error in a table cell: its first `most` characters (the section below has it whole)."""
    return text if len(text) <= most else text[:most - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def plan_json(outcomes: list[Outcome]) -> str:
    """One JSON document: for every target, its server, exit code, error and plan document."""
    document = {
        "format_version": "1",
        "targets": {
            o.name: {
                "address": o.target.address, "namespace": o.target.namespace, "exit_code": o.code,
                "error": o.error or None, "warnings": o.notes, "plan": o.document,
            }
            for o in outcomes
        },
    }
    return json.dumps(document, indent=2) + "\n"
