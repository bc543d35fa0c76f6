"""Prometheus metrics of plans: drift per target, kind and action, success, timings, reachability.

`plan --metrics-file` writes them once (for node-exporter's textfile collector); `watch` serves them.
Both build them from a list of per-target results, so a fleet's plans fit in one document. Labels
carry a target's name or address, kinds, actions and phases only: never a token, a path or a value.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from vault_state import __version__
from vault_state.errors import InputError, VaultApiError, VaultConnectionError, VaultStateError
from vault_state.plan.model import Action, Plan
from vault_state.vault.permissions import PermissionsError

ACTIONS = (Action.CREATE, Action.UPDATE, Action.DELETE, Action.REPLACE, Action.MOVE)
PHASES = ("load", "read", "plan")


@dataclass(frozen=True)
class TargetResult:
    """One target's plan, or the error that stopped it, and how long it took.

    `target`: the target's name in a fleet, else the server's address without credentials.
    `phases`: seconds spent loading the files and value sources (`load`), reading the server
    (`read`) and computing the plan (`plan`); a phase the run did not reach is absent.
    `finished`: when the run ended (Unix time).
    """

    target: str
    plan: Plan | None
    error: VaultStateError | None = None
    duration: float = 0.0
    phases: Mapping[str, float] = field(default_factory=dict)
    finished: float = field(default_factory=time.time)

    @property
    def reached(self) -> bool | None:
        """Whether the server answered: a plan, or an HTTP error below 500 (a 403 is an answer;
        a sealed or failing server's 5xx is not). None when the run stopped before asking it:
        an invalid file or value source, missing connection settings."""
        if self.plan is not None or isinstance(self.error, PermissionsError):  # the server said 403
            return True
        if isinstance(self.error, VaultConnectionError):
            return False
        if isinstance(self.error, VaultApiError):
            return self.error.status < 500
        return None


def measure(target: str, run: Callable[[dict[str, float]], Plan]) -> TargetResult:
    """Run one target's plan and time it. `run` gets a dict to fill with phase durations; a
    VaultStateError it raises becomes the result's error (anything else propagates)."""
    phases: dict[str, float] = {}
    started = time.monotonic()
    try:
        plan = run(phases)
    except VaultStateError as exc:
        return TargetResult(target, None, exc, time.monotonic() - started, phases)
    return TargetResult(target, plan, None, time.monotonic() - started, phases)


@dataclass
class History:
    """What `watch` remembers of one target across runs (a single plan has no history)."""

    kinds: set[str] = field(default_factory=set)
    """Kinds seen in earlier plans: their rows stay, at 0, so alerts on them resolve."""
    runs: Counter[str] = field(default_factory=Counter)
    applies: Counter[str] = field(default_factory=Counter)
    applied_changes: int = 0
    last_success: float | None = None
    last_apply_ok: bool | None = None
    reached: bool | None = None


def families(results: Sequence[TargetResult], history: Mapping[str, History] | None = None) -> list[Metric]:
    """The metric families of these results (one per target), with `watch`'s counters when a history is given."""
    drift_objects = _gauge("drift_objects", "Objects the last plan would change, per kind and action "
                           "(0 for kinds the plan saw unchanged)", "kind", "action")
    drift = _gauge("drift", "Changes in the last plan (0: the server matches the state file)")
    declared = _gauge("declared_objects", "Objects the state file declares, per kind", "kind")
    success = _gauge("plan_success", "1 when the last plan completed, 0 when it failed")
    last_run = _gauge("last_run_timestamp_seconds", "When the last plan ended, successful or not (Unix time)")
    last_ok = _gauge("last_success_timestamp_seconds", "When the last successful plan ended (Unix time)")
    duration = _gauge("plan_duration_seconds", "How long the last plan took")
    phase = _gauge("plan_phase_duration_seconds", "How long each phase of the last plan took: load (files, "
                   "value sources), read (the server), plan", "phase")
    valid = _gauge("input_valid", "0 when the last run stopped on an invalid state file or value source")
    reachable = _gauge("server_reachable", "1 when the last run that asked the server got an answer")
    history = history or {}
    for result in sorted(results, key=lambda r: r.target):
        target, past = result.target, history.get(result.target)
        success.add_metric([target], 1.0 if result.plan is not None else 0.0)
        last_run.add_metric([target], result.finished)
        duration.add_metric([target], result.duration)
        for name in PHASES:
            if name in result.phases:
                phase.add_metric([target, name], result.phases[name])
        valid.add_metric([target], 0.0 if isinstance(result.error, InputError) else 1.0)
        reached = result.reached if past is None else past.reached
        if reached is not None:
            reachable.add_metric([target], 1.0 if reached else 0.0)
        ok_at = result.finished if result.plan is not None else (past.last_success if past else None)
        if ok_at is not None:
            last_ok.add_metric([target], ok_at)
        if result.plan is not None:
            _drift(result.plan, target, past.kinds if past else set(), drift_objects, drift, declared)
    found: list[Metric] = [drift_objects, drift, declared, success, last_run, last_ok, duration, phase, valid,
                           reachable, _build_info()]
    if history:
        found += _counters(history)
    return found


def _gauge(name: str, documentation: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"vault_state_{name}", documentation, labels=["target", *labels])


def _drift(plan: Plan, target: str, seen: set[str], objects: GaugeMetricFamily, total: GaugeMetricFamily,
           declared: GaugeMetricFamily) -> None:
    counts = Counter((c.id.kind, c.action) for c in plan.actionable)
    kinds = sorted(seen | {c.id.kind for c in plan.changes})
    for kind in kinds:
        for action in ACTIONS:
            objects.add_metric([target, kind, action.value], float(counts[kind, action]))
    total.add_metric([target], float(len(plan.actionable)))
    files = Counter(c.id.kind for c in plan.changes if c.after is not None)
    for kind in kinds:
        declared.add_metric([target, kind], float(files[kind]))


def _build_info() -> GaugeMetricFamily:
    info = GaugeMetricFamily("vault_state_build_info", "The vault-state version (always 1)", labels=["version"])
    info.add_metric([__version__], 1.0)
    return info


def _counters(history: Mapping[str, History]) -> list[Metric]:
    runs = CounterMetricFamily("vault_state_runs", "Plans run by watch, by result (success, error)",
                               labels=["target", "result"])
    applies = CounterMetricFamily("vault_state_applies", "Applies run by watch --apply, by result (success, error)",
                                  labels=["target", "result"])
    changes = CounterMetricFamily("vault_state_applied_changes", "Changes applied by watch --apply", labels=["target"])
    apply_ok = _gauge("apply_success", "1 when the last apply of watch --apply succeeded, 0 when it failed "
                      "or was refused")
    for target, past in sorted(history.items()):
        for result in ("success", "error"):
            runs.add_metric([target, result], float(past.runs[result]))
            applies.add_metric([target, result], float(past.applies[result]))
        changes.add_metric([target], float(past.applied_changes))
        if past.last_apply_ok is not None:
            apply_ok.add_metric([target], 1.0 if past.last_apply_ok else 0.0)
    return [runs, applies, changes, apply_ok]


class _Fixed:
    """A collector of a fixed list of families."""

    def __init__(self, found: list[Metric]) -> None:
        self.found = found

    def collect(self) -> Iterable[Metric]:
        return self.found


def registry_of(results: Sequence[TargetResult]) -> CollectorRegistry:
    """A registry of its own (not the library's global one) holding these results' metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families(results)))
    return registry


def write_metrics_file(path: str | Path, results: Sequence[TargetResult]) -> None:
    """Write the results' metrics in Prometheus text format, atomically (a temporary file renamed
    over `path`, as node-exporter's textfile collector needs: it must never read a half file)."""
    try:
        write_to_textfile(str(path), registry_of(results))
    except OSError as exc:
        raise VaultStateError(f"cannot write the metrics file {path}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class ApplyOutcome:
    """What `watch --apply` did in one run: `ok`, and how many changes it applied."""

    ok: bool
    changes: int = 0


class WatchMetrics:
    """The metrics `watch` serves: the last result of each target and its history. Thread-safe:
    the worker records, the HTTP server's threads collect."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, TargetResult] = {}
        self._history: dict[str, History] = {}

    def record(self, result: TargetResult, applied: ApplyOutcome | None = None) -> History:
        """Record one run; returns the target's history after it (its `reached` is the readiness)."""
        with self._lock:
            past = self._history.setdefault(result.target, History())
            past.runs["success" if result.plan is not None else "error"] += 1
            if result.reached is not None:
                past.reached = result.reached
            if result.plan is not None:
                past.last_success = result.finished
                past.kinds |= {c.id.kind for c in result.plan.changes}
            if applied is not None:
                past.applies["success" if applied.ok else "error"] += 1
                past.applied_changes += applied.changes
                past.last_apply_ok = applied.ok
            self._results[result.target] = result
            return past

    def reached(self, target: str) -> bool | None:
        """Whether the target's last run that asked its server got an answer (None: none asked yet)."""
        with self._lock:
            past = self._history.get(target)
            return past.reached if past is not None else None

    def forget(self, target: str) -> None:
        """Drop a target's rows (watch --targets: the target left the targets file)."""
        with self._lock:
            self._results.pop(target, None)
            self._history.pop(target, None)

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            return families(list(self._results.values()), self._history)
