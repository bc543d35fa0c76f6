"""Apply a plan: the only code that executes calls. Stops at the first failure and reports
what was applied, what failed and what is still pending, so a rerun can converge.

Changes run stage by stage (all deletes of one kind, ..., all policies, all auth methods, all
roles), in plan order; the changes of one stage are independent and run up to `workers.limit` at
a time. After a failure no new change starts; changes already running finish and are reported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from vault_state.errors import VaultStateError
from vault_state.kinds.registry import BY_NAME
from vault_state.plan.model import Action, Call, Change, Plan, ResourceId, Shown
from vault_state.plan.moves import move_calls
from vault_state.progress import Silent, Tracker
from vault_state.vault.parallel import Workers
from vault_state.vault.permissions import Forbidden


@dataclass
class ApplyReport:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    pending: list[Change] = field(default_factory=list)
    warnings: list[tuple[Change, str]] = field(default_factory=list)
    shown: list[tuple[Change, str]] = field(default_factory=list)
    """Values of Vault's answers the output shows (`Call.show`), e.g. a generated public key."""
    forbidden: list[str] = field(default_factory=list)
    """`METHOD path` of each write Vault refused with 403 (the token's policy does not allow it)."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.pending


def calls_for(change: Change) -> list[Call]:
    """The change's calls, each sent in the change's namespace (joined with the call's own, if any)."""
    namespace = change.id.namespace
    calls = move_calls(change) if change.action is Action.MOVE else BY_NAME[change.id.kind].calls(change)
    if not namespace:
        return calls
    return [replace(c, namespace=f"{namespace}/{c.namespace}" if c.namespace else namespace) for c in calls]


def apply_plan(
    plan: Plan, execute: Callable[[Call], list[str]], workers: Workers | None = None, tracker: Tracker | None = None,
) -> ApplyReport:
    """Run each actionable change's calls through `execute` (the gateway), stage by stage in plan
    order; a stage starts only when the one before it has fully succeeded."""
    report, tracker = ApplyReport(), tracker or Silent()
    workers = workers or Workers(1)
    stages = apply_stages(plan.actionable)
    tracker.expect(len(plan.actionable))

    def run(change: Change) -> list[str]:
        warnings = [w for call in calls_for(change) for w in execute(call)]
        tracker.advance()
        return warnings

    for index, stage in enumerate(stages):
        for change, outcome in zip(stage, workers.run(run, stage), strict=True):
            if outcome.error is not None and not isinstance(outcome.error, VaultStateError):
                raise outcome.error
            if outcome.error is not None:
                report.failed.append((change, str(outcome.error)))
                if isinstance(outcome.error, Forbidden):
                    report.forbidden.append(f"{outcome.error.method} {outcome.error.path}")
            elif not outcome.started:
                report.pending.append(change)
            else:
                report.applied.append(change)
                report.warnings += [(change, w) for w in outcome.value or [] if not isinstance(w, Shown)]
                report.shown += [(change, w) for w in outcome.value or [] if isinstance(w, Shown)]
        if report.failed:
            report.pending += [change for later in stages[index + 1 :] for change in later]
            return report
    return report


def apply_stages(changes: tuple[Change, ...]) -> list[list[Change]]:
    """Runs of consecutive changes that may run concurrently: same kind, deletes apart from the
    rest (the plan already puts deletes first, in reverse kind order), and none needing another
    of its run (a group naming a member group: the plan orders it after that group). A `serial`
    kind's changes each run alone."""
    stages: list[list[Change]] = []
    in_stage: set[ResourceId] = set()  # the ids of the last stage, kept as it grows (linear, not quadratic)
    for change in changes:
        needs = {n.within(change.id.namespace) for n in change.after.needs} if change.after is not None else set()
        waits = bool(needs & in_stage)
        serial = getattr(BY_NAME[change.id.kind], "serial", False)  # one change at a time, in plan order
        if stages and not waits and not serial and _stage_key(stages[-1][0]) == _stage_key(change):
            stages[-1].append(change)
        else:
            stages.append([change])
            in_stage = set()
        in_stage.add(change.id)
    return stages


def _stage_key(change: Change) -> tuple[str, bool, int]:
    # Namespaces one level at a time: a namespace is created after its parent, deleted before it.
    level = change.id.namespace.count("/") + bool(change.id.namespace) if change.id.kind == "namespace" else 0
    return change.id.kind, change.action is Action.DELETE, level
