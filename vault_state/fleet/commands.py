"""`plan --targets` and `apply --targets`: the flags they refuse, the targets chosen by `--only`, and
the report printed. What runs against each target is the CLI's own plan or apply (a `Step`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from vault_state.errors import ConfigurationError
from vault_state.fleet.report import (
    check_text,
    heading,
    plan_json,
    plan_markdown_comment,
    plan_text,
    section_lines,
    summary_lines,
)
from vault_state.fleet.run import Outcome, Step, apply_all, check_all, plan_all, worst_code
from vault_state.fleet.targets import Fleet, load_targets
from vault_state.metrics import write_metrics_file
from vault_state.render.text import Line

Printer = Callable[[list[Line]], None]

# What targets.yaml gives each target: the same flags on the command line would be ambiguous.
_FROM_TARGETS = {
    "file": "-f", "overlay": "--overlay", "address": "--address", "token": "--token", "namespace": "--namespace",
    "ca_cert": "--ca-cert", "login": "--login", "login_role": "--login-role", "login_mount": "--login-mount",
    "login_jwt_file": "--login-jwt-file", "out": "-o", "planfile": "PLANFILE",
}


def plan_targets(args: argparse.Namespace, output: str, show: Printer, step: Step) -> int:
    """Plan every chosen target (concurrently), print one report, exit with the worst code."""
    fleet, names = _chosen(args)
    outcomes = plan_all(fleet, names, args, step)
    if args.metrics_file:  # every target's, failed ones too (vault_state_plan_success 0)
        write_metrics_file(args.metrics_file, [outcome.metrics() for outcome in outcomes])
    if output == "json":
        sys.stdout.write(plan_json(outcomes))
    elif output == "markdown":
        sys.stdout.write(plan_markdown_comment(outcomes, f"vault-state plan --targets {args.targets}"))
    else:
        show(plan_text(outcomes))
    return worst_code(outcomes)


def apply_targets(args: argparse.Namespace, show: Printer, step: Step) -> int:
    """Apply the chosen targets one after another in the file's order (the first is the canary)."""
    fleet, names = _chosen(args)

    def started(outcome: Outcome) -> None:
        show([("", ""), heading(outcome)])

    def finished(outcome: Outcome) -> None:
        show(section_lines(Outcome(outcome.name, outcome.target, error=outcome.error)))

    outcomes = apply_all(fleet, names, args, step, args.keep_going, started, finished)
    show([("", ""), *summary_lines(outcomes, plan=False)])
    return 1 if worst_code(outcomes) == 1 else 0


def check_targets(args: argparse.Namespace, command: str, show: Printer, step: Step) -> int:
    """validate or lint every chosen target's files and overlays, offline; exit with the worst code."""
    fleet, names = _chosen(args)
    outcomes = check_all(fleet, names, args, step)
    show(check_text(outcomes, command))
    return worst_code(outcomes)


def _chosen(args: argparse.Namespace) -> tuple[Fleet, list[str]]:
    if not args.targets:
        raise ConfigurationError("--only and --keep-going choose among the targets of --targets FILE; give it")
    given = [flag for name, flag in _FROM_TARGETS.items() if getattr(args, name, None)]
    if given:
        raise ConfigurationError(f"--targets: {', '.join(given)} cannot be given with it; each target's come "
                                 f"from {args.targets}")
    fleet = load_targets(Path(args.targets))
    return fleet, fleet.selected(args.only or [])
