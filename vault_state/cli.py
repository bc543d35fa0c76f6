"""The command line: validate, plan, apply, schema. Catches VaultStateError once, maps it to an exit code.

Exit codes: 0 success or no changes, 1 error, 2 (plan --detailed-exitcode) changes present.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from vault_state import __version__
from vault_state.apply import ApplyReport, apply_plan
from vault_state.desired import build_desired
from vault_state.errors import ApplyRefused, Diagnostic, InputError, VaultStateError, sort_diagnostics
from vault_state.export import export_state
from vault_state.kinds.registry import KINDS
from vault_state.lint import lint_state
from vault_state.plan.model import Plan
from vault_state.plan.planner import plan as make_plan
from vault_state.plan.safety import destroy_refusals
from vault_state.render.json import plan_document
from vault_state.render.text import Line, apply_lines, plan_lines
from vault_state.spec.loader import LoadedState, load_state
from vault_state.spec.models import StateFile
from vault_state.spec.semantics import check_policy_references
from vault_state.vault.connection import connection_from
from vault_state.vault.gateway import Gateway
from vault_state.vault.reader import read_live


@dataclass
class Io:
    out: Console
    err: Console

    def lines(self, lines: list[Line]) -> None:
        for text, style in lines:
            self.out.print(text, style=style or None, markup=False, highlight=False, soft_wrap=True)

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        for d in sort_diagnostics(diagnostics):
            self.err.print(str(d), style="yellow" if not d.is_error else "red", markup=False, highlight=False)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 1: exit 2 means "changes present" for plan --detailed-exitcode."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def _global_flags(suppress: bool) -> _Parser:
    """Flags accepted before or after the command (defaults only on the main parser)."""
    parser = _Parser(add_help=False)
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("-f", "--file", default=argparse.SUPPRESS if suppress else "state.yaml",
                        help="state file (default: ./state.yaml)")
    parser.add_argument("--address", default=default, help="server address (default: VAULT_ADDR or BAO_ADDR)")
    parser.add_argument("--token", default=default, help="token (default: VAULT_TOKEN, BAO_TOKEN, ~/.vault-token)")
    parser.add_argument("--namespace", default=default, help="namespace (default: VAULT_NAMESPACE)")
    parser.add_argument("--ca-cert", default=default, help="CA certificate file (default: VAULT_CACERT)")
    parser.add_argument("--tls-skip-verify", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="do not verify the server's certificate (insecure)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vault-state", parents=[_global_flags(False)],
        description="Keep a Vault or OpenBao server's configuration in a YAML state file.",
    )
    parser.add_argument("--version", action="version", version=f"vault-state {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    flags = [_global_flags(True)]
    sub.add_parser("validate", parents=flags, help="check the state file, without a server")
    plan = sub.add_parser("plan", parents=flags, help="show how the server differs from the file")
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes")
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    apply = sub.add_parser("apply", parents=flags, help="make the server match the file")
    apply.add_argument("--auto-approve", action="store_true", help="apply without asking for 'yes'")
    apply.add_argument("--allow-destroy", action="store_true",
                       help="allow disabling secrets engines and auth methods (destroys their data)")
    sub.add_parser("schema", parents=flags, help="print the state file's JSON Schema")
    export = sub.add_parser("export", parents=flags, help="write the server's configuration as a state file")
    export.add_argument("-o", "--output", help="write to this file (default: standard output)")
    lint = sub.add_parser("lint", parents=flags, help="warn about risky or mistaken settings, without a server")
    lint.add_argument("--strict", action="store_true", help="exit 1 when there is any warning")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    io = Io(Console(highlight=False, soft_wrap=True), Console(stderr=True, highlight=False, soft_wrap=True))
    try:
        return COMMANDS[args.command](args, io)
    except InputError as exc:
        io.warn(exc.diagnostics)
        return 1
    except VaultStateError as exc:
        io.err.print(f"error: {exc}", style="red", markup=False, highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        io.err.print("interrupted", markup=False)
        return 130


def cmd_validate(args: argparse.Namespace, io: Io) -> int:
    loaded = _load(args, io)
    io.warn(check_policy_references(loaded.state, loaded.source, known=None))
    state = loaded.state
    roles = sum(len(getattr(m, "roles", {})) + len(getattr(m, "users", {})) for m in state.auth_methods.values())
    io.out.print(
        f"{args.file}: valid ({len(state.secrets_engines)} secrets engines, {len(state.policies)} policies, "
        f"{len(state.auth_methods)} auth methods, {roles} roles)", markup=False, highlight=False,
    )
    return 0


def cmd_plan(args: argparse.Namespace, io: Io) -> int:
    the_plan, loaded, _ = _plan(args, io, quiet=args.json)
    document = plan_document(the_plan, [str(w) for w in loaded.warnings])
    if args.json:
        print(json.dumps(document, indent=2, sort_keys=False))
    else:
        io.lines(plan_lines({**document, "warnings": []}))
    return 2 if args.detailed_exitcode and the_plan.has_changes else 0


def cmd_apply(args: argparse.Namespace, io: Io) -> int:
    the_plan, loaded, gateway = _plan(args, io, quiet=False)
    io.lines(plan_lines(plan_document(the_plan)))
    if not the_plan.has_changes:
        return 0
    prune_at = {kind.name: loaded.source.locate(("prune", kind.prune_key)) for kind in KINDS}
    refusals = destroy_refusals(the_plan, args.allow_destroy, prune_at)
    if refusals:
        for message in refusals:
            io.err.print(f"refused: {message}", style="bold red", markup=False, highlight=False)
        raise ApplyRefused("apply refused before making any change; nothing was changed")
    _confirm(args, io)
    report = apply_plan(the_plan, gateway.execute)
    return _report(report, the_plan, io)


def cmd_lint(args: argparse.Namespace, io: Io) -> int:
    loaded = _load(args, io, quiet=True)
    warnings = sort_diagnostics([*loaded.warnings, *lint_state(loaded.state, loaded.source)])
    for d in warnings:
        io.out.print(str(d), markup=False, highlight=False)
    count = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else "no warnings"
    io.err.print(f"{args.file}: {count}", markup=False, highlight=False)
    return 1 if args.strict and warnings else 0


def cmd_export(args: argparse.Namespace, io: Io) -> int:
    gateway = _gateway(args, io)
    exported = export_state(gateway, source=gateway.connection.address)
    if args.output is None:
        sys.stdout.write(exported.text)
    else:
        try:
            Path(args.output).write_text(exported.text, encoding="utf-8")
        except OSError as exc:
            raise VaultStateError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        counts = ", ".join(f"{n} {what}" for what, n in exported.counts.items())
        io.err.print(f"wrote {args.output} ({counts})", markup=False, highlight=False)
    for name in exported.env:
        io.err.print(f"set {name} before plan or apply (write-only, not exported)", markup=False, highlight=False)
    for reason in exported.skipped:
        io.err.print(f"warning: not exported: {reason}", style="yellow", markup=False, highlight=False)
    return 0


def cmd_schema(args: argparse.Namespace, io: Io) -> int:
    print(json.dumps(state_schema(), indent=2))
    return 0


def state_schema() -> dict[str, object]:
    schema = StateFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://vault-state.dev/schemas/state.schema.json",
        **schema,
        "title": "vault-state state file",
    }


def _gateway(args: argparse.Namespace, io: Io) -> Gateway:
    """A gateway connected as the vault CLI would be, from the flags and the environment."""
    connection = connection_from(
        os.environ, address=args.address, token=args.token, namespace=args.namespace,
        ca_cert=args.ca_cert, skip_verify=True if args.tls_skip_verify else None,
    )
    if connection.skip_verify:
        io.err.print("warning: TLS verification is disabled (--tls-skip-verify / VAULT_SKIP_VERIFY)",
                     style="yellow", markup=False)
    return Gateway(connection)


def _load(args: argparse.Namespace, io: Io, quiet: bool = False) -> LoadedState:
    loaded = load_state(Path(args.file))
    if not quiet:
        io.warn(loaded.warnings)
    return loaded


def _plan(args: argparse.Namespace, io: Io, quiet: bool) -> tuple[Plan, LoadedState, Gateway]:
    """Load, resolve, read the server and plan. The loaded state's warnings include the server checks."""
    loaded = _load(args, io, quiet)
    desired = build_desired(loaded, os.environ)
    gateway = _gateway(args, io)
    live = read_live(gateway, desired, loaded.state.prune)
    known = {rid.path for rid in live if rid.kind == "policy"}
    warnings = [*lint_state(loaded.state, loaded.source, references=False),
                *check_policy_references(loaded.state, loaded.source, known=known)]
    if not quiet:
        io.warn(warnings)
    loaded.warnings += warnings
    return make_plan(desired, live, loaded.state.prune), loaded, gateway


def _confirm(args: argparse.Namespace, io: Io) -> None:
    if args.auto_approve:
        return
    if not sys.stdin.isatty():
        raise ApplyRefused("refusing to apply without confirmation: stdin is not a terminal; pass --auto-approve")
    io.out.print("\nDo you want to perform these actions? Only 'yes' will be accepted.", markup=False)
    if input("  Enter a value: ").strip() != "yes":
        raise ApplyRefused("apply cancelled; nothing was changed")


def _report(report: ApplyReport, the_plan: Plan, io: Io) -> int:
    for change, warning in report.warnings:
        io.err.print(f"warning: {change.id}: Vault says: {warning}", style="yellow", markup=False, highlight=False)
    if report.ok:
        counts = the_plan.counts()
        io.out.print(
            f"\nApply complete! Resources: {counts['add']} added, {counts['change']} changed, "
            f"{counts['destroy']} destroyed.", style="bold green", markup=False, highlight=False,
        )
        return 0
    io.lines(apply_lines(
        [str(c.id) for c in report.applied],
        [(str(c.id), message) for c, message in report.failed],
        [str(c.id) for c in report.pending],
    ))
    io.err.print(
        f"error: apply failed: {len(report.applied)} applied, {len(report.failed)} failed, "
        f"{len(report.pending)} not applied. Fix the cause and run apply again to converge.",
        style="bold red", markup=False, highlight=False,
    )
    return 1


COMMANDS: dict[str, Callable[[argparse.Namespace, Io], int]] = {
    "validate": cmd_validate,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "schema": cmd_schema,
    "export": cmd_export,
    "lint": cmd_lint,
}
