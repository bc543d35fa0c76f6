"""`vault-state watch --targets`: one process watches a fleet. Each round plans the targets that are
due (concurrently, as `plan --targets` does), and with --apply applies them in the file's order.

Every target has its own schedule: its own backoff while its server cannot be reached, and a run
at once when one of its files (state files, overlays, policy files, `{file:}` sources) changes. The
targets file is polled too: a changed target is planned at once, a removed one leaves /metrics.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import NoReturn

from vault_state.errors import ConfigurationError, VaultStateError
from vault_state.fleet.commands import _chosen
from vault_state.fleet.run import Outcome, plan_all, run_one
from vault_state.fleet.targets import Fleet, Target, load_targets
from vault_state.metrics import ApplyOutcome
from vault_state.spec.reads import Reads, file_digest, recording
from vault_state.watch import TICK, RunReport, StateFiles, Watcher, WatchSettings, _line, next_delay, serve_and_loop


@dataclass
class Member:
    """One target of the watched fleet: its definition, its files and its schedule."""

    name: str
    target: Target
    files: StateFiles
    stamp: tuple[object, ...] = ()
    digest: str = ""
    due: float = 0.0
    trigger: str | None = "start"
    failures: int = 0
    runs: int = 0
    healthy: bool = True
    """Its last plan succeeded and its last apply (if any) did not fail: the targets after it may be applied."""

    @classmethod
    def of(cls, name: str, target: Target, trigger: str) -> Member:
        files = StateFiles([*target.files, *target.overlays], target.recursive)
        return cls(name, target, files, files.stamp(), files.digest(), time.monotonic(), trigger)

    def poll(self) -> None:
        """Make the member due at once when one of its files changed."""
        stamp = self.files.stamp()
        if stamp == self.stamp:
            return
        self.stamp, digest = stamp, self.files.digest()
        if digest != self.digest:
            self.digest, self.trigger, self.due = digest, self.trigger or "state files changed", time.monotonic()
        changed = self.files.read_changed()
        if changed:
            self.trigger, self.due = self.trigger or changed, time.monotonic()


@dataclass
class FleetRuns:
    """What a round runs: the plan of many targets at once, and the apply of one."""

    plan: Callable[[Fleet, list[str]], dict[str, RunReport]]
    apply: Callable[[Fleet, str, list[str]], ApplyOutcome]


class FleetWatcher(Watcher):
    """The schedule, readiness and metrics of every target of a targets file."""

    def __init__(self, settings: WatchSettings, path: Path, only: list[str], keep_going: bool, runs: FleetRuns,
                 log: Callable[[str], None]) -> None:
        super().__init__(settings, _never, StateFiles([], False), log)
        self.path, self.only, self.keep_going, self.runs = path, only, keep_going, runs
        self.fleet = _load(path, only)
        self.members = {name: Member.of(name, self.fleet.targets[name], "start") for name in self.order}
        self.targets_digest = file_digest(path)
        self.why_not_ready = "no plan has reached a server yet"

    @property
    def order(self) -> list[str]:
        return self.fleet.selected(self.only)

    def loop(self, stop: threading.Event) -> None:
        """Until `stop`: every second look at the files; run a round when a target is due."""
        self.log(f"watching {self.path}: {', '.join(self.order)}")
        while not stop.is_set():
            self._reload()
            for member in self.members.values():
                member.poll()
            now = time.monotonic()
            due = [name for name in self.order if self.members[name].due <= now]
            if due:
                self.running = True
                try:
                    self._round(due)
                except KeyboardInterrupt:  # a second signal during a round
                    self.log("interrupted the run in progress")
                    return
                finally:
                    self.running = False
            wait = min((m.due for m in self.members.values()), default=now + TICK) - time.monotonic()
            stop.wait(max(0.0, min(TICK, wait)))

    def _reload(self) -> None:
        """A changed targets file: new and changed targets are planned at once, removed ones forgotten.
        A targets file that no longer loads is logged, and the last good one is kept."""
        digest = file_digest(self.path)
        if digest == self.targets_digest:
            return
        self.targets_digest = digest
        try:
            fleet = _load(self.path, self.only)
        except VaultStateError as exc:
            self.log(f"{self.path}: not reloaded, still watching {', '.join(self.order)}: "
                     + "; ".join(str(exc).splitlines()))
            return
        old, self.fleet = self.members, fleet
        self.members = {}
        for name in self.order:
            kept = old.get(name)
            same = kept is not None and kept.target == fleet.targets[name]
            self.members[name] = kept if kept is not None and same else \
                Member.of(name, fleet.targets[name], "targets file changed")
        for name in old.keys() - self.members.keys():
            self.metrics.forget(name)
        self._readiness()
        self.log(f"{self.path} reloaded: watching {', '.join(self.order)}")

    def _round(self, due: list[str]) -> None:
        """Plan the due targets at once; with --apply, apply those with changes in the file's order,
        none after a target that failed (its plan or apply) unless --keep-going."""
        reports = self.runs.plan(self.fleet, due)
        blocked = ""
        for name in self.order:
            member = self.members[name]
            report = reports.get(name)
            if report is not None:
                plan = report.result.plan
                if self.settings.apply and plan is not None and plan.has_changes:
                    if blocked and not self.keep_going:
                        report.notes.append(f"not applied: {blocked} failed before it (--keep-going applies anyway)")
                    else:
                        report.applied = self.runs.apply(self.fleet, name, report.notes)
                member.healthy = plan is not None and (report.applied is None or report.applied.ok)
                self._record(member, report)
            if not member.healthy and not blocked:
                blocked = name
        self._readiness()

    def _record(self, member: Member, report: RunReport) -> None:
        self.metrics.record(report.result, report.applied)
        member.runs += 1
        reached = report.result.reached
        member.failures = member.failures + 1 if reached is False else 0
        delay = next_delay(self.settings.interval, member.failures, self.settings.max_backoff)
        confirm = report.applied is not None and report.applied.changes > 0 and member.trigger != "confirm"
        if confirm:  # check at once that the server now matches (a second apply at most)
            delay = 0.0
        self.log(_line(member.runs, member.trigger or "schedule", report, delay, member.failures))
        member.trigger, member.due = ("confirm" if confirm else None), time.monotonic() + delay
        if report.reads is not None and (report.reads.files or report.reads.patterns):
            member.files.reads = report.reads  # a load that stopped early keeps the last list
            member.stamp = member.files.stamp()
        changed = member.files.read_changed()  # changed while the run was loading it
        if changed:
            member.trigger, member.due = member.trigger or changed, time.monotonic()

    def _readiness(self) -> None:
        """Ready while at least one target's last plan reached its server: a fleet with one region
        down is still watched (that target's vault_state_server_reachable is 0); none reached means
        this process cannot do its work (its network, DNS or CA), which is what a probe is for."""
        reached = {name: self.metrics.reached(name) for name in self.order}
        down = [name for name, ok in reached.items() if ok is False]
        self.ready = any(ok for ok in reached.values())
        self.ready_text = f"ready; unreachable: {', '.join(down)}" if down else "ready"
        self.why_not_ready = (f"no target's last plan reached its server (unreachable: {', '.join(down)})"
                              if down else "no plan has reached a server yet")


def _never() -> NoReturn:
    raise AssertionError("a fleet watcher runs rounds, not the single server's run")


def _load(path: Path, only: list[str]) -> Fleet:
    fleet = load_targets(path)
    fleet.selected(only)  # --only must still match
    return fleet


def fleet_watch_command(args: argparse.Namespace, log: Callable[[str], None]) -> int:
    """`vault-state watch --targets FILE`: settings and the targets file are checked before serving."""
    settings = WatchSettings.from_args(args)
    if args.keep_going and not args.apply:
        raise ConfigurationError("--keep-going: only with --apply")
    _chosen(args)  # refuses -f, --address, ... beside --targets; a located error for a bad targets file
    runs = FleetRuns(lambda fleet, names: _plan_round(args, fleet, names),
                     lambda fleet, name, notes: _apply_one(args, fleet, name, notes))
    watcher = FleetWatcher(settings, Path(args.targets), list(args.only or []), args.keep_going, runs, log)
    return serve_and_loop(watcher)


def _plan_round(args: argparse.Namespace, fleet: Fleet, names: list[str]) -> dict[str, RunReport]:
    """Plan `names` at once (as plan --targets); each target's result and the files its load read."""
    from vault_state.cli import Io, _plan
    from vault_state.watch_runs import _captured

    read: dict[str, Reads] = {}

    def step(targeted: argparse.Namespace, outcome: Outcome) -> None:
        quiet = Io(_captured(StringIO()), _captured(StringIO()))
        with recording() as reads:
            read[outcome.name] = reads
            outcome.plan = _plan(targeted, quiet, quiet=True, timings=outcome.timings)[0]

    outcomes = plan_all(fleet, names, args, step)
    return {o.name: RunReport(o.metrics(), reads=read.get(o.name)) for o in outcomes}


def _apply_one(args: argparse.Namespace, fleet: Fleet, name: str, notes: list[str]) -> ApplyOutcome:
    """Apply one target as `apply --targets` would (its lock, guards); what failed goes into `notes`."""
    from vault_state.watch_runs import _watch_apply

    applied: list[ApplyOutcome] = []
    outcome = run_one(name, fleet.targets[name], args, lambda targeted, _: applied.append(
        _watch_apply(targeted, notes)))
    if outcome.error:  # no token: its variable unset, a login refused
        notes.append(outcome.error)
        return ApplyOutcome(False)
    return applied[0]
