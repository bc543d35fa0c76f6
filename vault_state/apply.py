"""Apply a plan: the only code that executes calls. Stops at the first failure and reports
what was applied, what failed and what is still pending, so a rerun can converge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vault_state.errors import VaultStateError
from vault_state.kinds.registry import BY_NAME
from vault_state.plan.model import Call, Change, Plan


@dataclass
class ApplyReport:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    pending: list[Change] = field(default_factory=list)
    warnings: list[tuple[Change, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.pending


def calls_for(change: Change) -> list[Call]:
    return BY_NAME[change.id.kind].calls(change)


def apply_plan(plan: Plan, execute: Callable[[Call], list[str]]) -> ApplyReport:
    """Run each actionable change's calls in plan order through `execute` (the gateway)."""
    report = ApplyReport()
    changes = list(plan.actionable)
    for index, change in enumerate(changes):
        try:
            for call in calls_for(change):
                report.warnings += [(change, w) for w in execute(call)]
        except VaultStateError as exc:
            report.failed.append((change, str(exc)))
            report.pending = changes[index + 1 :]
            return report
        report.applied.append(change)
    return report
