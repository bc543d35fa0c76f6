"""The runs of `vault-state watch`: the CLI's own plan and apply, made quiet, each run's outcome data.

A run logs in (with --login), plans, and with --apply applies a plan that has changes exactly as
`apply --auto-approve` would (the lock, the destroy and mass-change guards). Errors become the run's
result and the lines worth logging; they are never raised.
"""

from __future__ import annotations

import argparse
import contextlib
from io import StringIO

from rich.console import Console

from vault_state.cli import Io, _files, _logged_in, _metrics_target, _plan, cmd_apply
from vault_state.errors import VaultStateError
from vault_state.metrics import ApplyOutcome, measure
from vault_state.plan.model import Plan
from vault_state.spec.reads import recording
from vault_state.watch import RunReport, StateFiles, WatchSettings, watch


def watch_command(args: argparse.Namespace, io: Io) -> int:
    """`vault-state watch`: the schedule, the HTTP server and the logging are vault_state/watch.py's."""
    def log(line: str) -> None:
        io.err.print(f"vault-state watch: {line}", markup=False, highlight=False)

    if args.targets or args.only or args.keep_going:  # a fleet: vault_state/fleet/watch.py
        from vault_state.fleet.watch import fleet_watch_command

        return fleet_watch_command(args, log)
    settings = WatchSettings.from_args(args)
    target = _metrics_target(args)

    overlays = getattr(args, "overlay", None) or []  # --overlay FILE (issue 14's fleet part): watched too
    files = StateFiles([*_files(args), *overlays], args.recursive)
    return watch(settings, lambda: _watch_run(args, target), files, log)


def _watch_run(args: argparse.Namespace, target: str) -> RunReport:
    """One run of watch: log in (with --login), plan, and with --apply apply when there are changes.
    An error is the run's result, never raised."""
    quiet = Io(_captured(StringIO()), _captured(StringIO()))
    with contextlib.ExitStack() as session:

        def run(timings: dict[str, float]) -> Plan:
            session.enter_context(_logged_in(args))
            return _plan(args, quiet, quiet=True, timings=timings)[0]

        with recording() as reads:
            result = measure(target, run)
        if not (args.apply and result.plan is not None and result.plan.has_changes):
            return RunReport(result, reads=reads)
        notes: list[str] = []
        return RunReport(result, _watch_apply(args, notes), notes, reads)


def _watch_apply(args: argparse.Namespace, notes: list[str]) -> ApplyOutcome:
    """Apply as `apply --auto-approve` would (lock, destroy and mass-change guards); what it
    refused or failed on goes into `notes`."""
    out, err = StringIO(), StringIO()
    seen: list[Plan] = []
    settings = {**vars(args), "planfile": None, "auto_approve": True, "target": None, "verify": False,
                "targets": None, "only": None, "keep_going": False}  # one server: not apply --targets
    try:
        code = cmd_apply(argparse.Namespace(**settings), Io(_captured(out), _captured(err)), seen.append)
    except VaultStateError as exc:
        notes += [*_said(out, err), str(exc)]
        return ApplyOutcome(False)
    if code != 0:
        notes += _said(out, err)
        return ApplyOutcome(False)
    return ApplyOutcome(True, len(seen[0].actionable) if seen else 0)


def _captured(buffer: StringIO) -> Console:
    return Console(file=buffer, soft_wrap=True, highlight=False)


def _said(out: StringIO, err: StringIO) -> list[str]:
    """The lines of a quiet apply worth a log line: refusals, failed changes, errors."""
    lines = [line.strip() for line in out.getvalue().splitlines() + err.getvalue().splitlines()]
    return [line for line in lines if line.startswith(("refused:", "FAILED", "error:"))]
