"""The result type of `vault-state doctor`: ok/warn/fail lines, each failure with the fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from vault_state.render.text import Line


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    status: Status
    message: str
    fix: str = ""


def ok(message: str) -> Finding:
    return Finding(Status.OK, message)


def warn(message: str, fix: str = "") -> Finding:
    return Finding(Status.WARN, message, fix)


def fail(message: str, fix: str = "") -> Finding:
    return Finding(Status.FAIL, message, fix)


_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}


def finding_lines(findings: Sequence[Finding]) -> list[Line]:
    lines: list[Line] = []
    for f in findings:
        lines.append((f"{f.status.value:<5} {f.message}", _STYLE[f.status]))
        if f.fix:
            lines.append((f"      fix: {f.fix}", ""))
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    summary = f"doctor: {counts[Status.OK]} ok, {counts[Status.WARN]} warn, {counts[Status.FAIL]} fail"
    lines.append((summary, "bold red" if counts[Status.FAIL] else "bold green"))
    return lines
