"""The command line: validate, plan, apply, watch, schema. Catches VaultStateError once, maps it to an exit code.

Exit codes: 0 success or no changes, 1 error, 2 (plan --detailed-exitcode) changes present.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from vault_state import __version__
from vault_state.apply import ApplyReport, apply_plan
from vault_state.counts import counts_text, declared_counts
from vault_state.durations import to_seconds
from vault_state.errors import (
    ApplyRefused,
    ConfigurationError,
    Diagnostic,
    InputError,
    Location,
    VaultStateError,
    sort_diagnostics,
)
from vault_state.export import export_state, write_policy_files
from vault_state.export_filter import parse_pattern
from vault_state.fleet.commands import apply_targets, check_targets, plan_targets
from vault_state.fleet.run import Outcome, Step
from vault_state.inputs import read_local
from vault_state.inventory import (
    INVENTORY_LIST,
    Owners,
    adopted,
    all_namespaces,
    guard_owned_namespace_deletes,
    ownership_of,
    read_inventories,
    relies_on_ownership,
    write_inventory,
)
from vault_state.kinds.facts import fact_reader
from vault_state.kinds.identity import IDENTITY_LISTS
from vault_state.kinds.registry import KINDS, ROOT_ONLY
from vault_state.kube.settings import KubeSettings, connector
from vault_state.kube.warnings import reviewer_warnings
from vault_state.kube_commands import doctor_command, eso_command, verify_command
from vault_state.lint import lint_state
from vault_state.lock import ApplyLock, held
from vault_state.metrics import measure, write_metrics_file
from vault_state.plan.deferred import settle_call
from vault_state.plan.model import Action, Plan, Resource, ResourceId
from vault_state.plan.moves import for_reading, moved_id, moves_of, plan_with_moves, remounts
from vault_state.plan.safety import destroy_refusals, mass_change_refusals
from vault_state.plan.saved import (
    Observed,
    read_saved,
    save,
    server_address,
    stale_reasons,
    state_file_reasons,
    write_saved,
)
from vault_state.plan.saved import changes_differ as saved_changes_differ
from vault_state.plan.targets import TargetError, limit_to_targets, parse_target
from vault_state.progress import progress_bar
from vault_state.render.json import plan_document
from vault_state.render.markdown import COMMENT_LIMIT, plan_markdown
from vault_state.render.text import Line, apply_lines, plan_lines
from vault_state.required_policy import DEFAULT_NAME, policy_text
from vault_state.spec.loader import LoadedState
from vault_state.spec.many import load_states
from vault_state.spec.models import StateFile
from vault_state.spec.overlay import overlay_origins
from vault_state.spec.semantics import check_identity_references, check_policy_references
from vault_state.vault.connection import connection_from
from vault_state.vault.gateway import Gateway
from vault_state.vault.login import METHODS as LOGIN_METHODS
from vault_state.vault.login import SERVICE_ACCOUNT_TOKEN, LoginSettings, logged_in
from vault_state.vault.parallel import DEFAULT_PARALLELISM
from vault_state.vault.permissions import Forbidden, forbidden_writes
from vault_state.vault.reader import read_live
from vault_state.vault.retry import RetryPolicy
from vault_state.watch import add_watch_flags


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
    parser.add_argument("-f", "--file", action="append", default=argparse.SUPPRESS if suppress else None,
                        metavar="FILE|DIR",
                        help="state file, or a directory of them (its *.yaml, *.yml); repeatable: the files merge "
                             "into one state (default: ./state.yaml)")
    parser.add_argument("--recursive", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="with -f DIR, read the files of its subdirectories too")
    parser.add_argument("--overlay", action="append", default=argparse.SUPPRESS if suppress else None,
                        metavar="FILE", help="merge this overlay over the -f files (repeatable, applied in order; "
                                             "docs/fleets.md)")
    parser.add_argument("--address", default=default, help="server address (default: VAULT_ADDR or BAO_ADDR)")
    parser.add_argument("--token", default=default, help="token (default: VAULT_TOKEN, BAO_TOKEN, ~/.vault-token)")
    parser.add_argument("--namespace", default=default, help="namespace (default: VAULT_NAMESPACE)")
    parser.add_argument("--ca-cert", default=default, help="CA certificate file (default: VAULT_CACERT)")
    parser.add_argument("--login", choices=LOGIN_METHODS, default=default,
                        help="log in instead of using a token (credentials from the environment; see docs)")
    parser.add_argument("--login-role", default=default, help="role for --login jwt/kubernetes (or VAULT_LOGIN_ROLE)")
    parser.add_argument("--login-mount", default=default, help="auth mount for --login (default: the method's name)")
    parser.add_argument("--login-jwt-file", default=default,
                        help=f"service account token for --login kubernetes (default: {SERVICE_ACCOUNT_TOKEN})")
    parser.add_argument("--tls-skip-verify", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="do not verify the server's certificate (insecure)")
    parser.add_argument("--kube-context", default=default, metavar="NAME",
                        help="kubeconfig context for values and checks from the cluster (default: the current one)")
    parser.add_argument("--connect-timeout", type=_timeout, metavar="DURATION", default=default,
                        help="give up connecting to a server after this long (default: 10s)")
    parser.add_argument("--retry-budget", type=_duration, metavar="DURATION", default=default,
                        help="wait at most this long in all between retries of a request to a server that "
                             "answers with errors (default: 10-21s; 0s: no retry)")
    parser.add_argument("--parallelism", type=_positive, metavar="N",
                        default=argparse.SUPPRESS if suppress else DEFAULT_PARALLELISM,
                        help=f"at most N requests in flight (default: {DEFAULT_PARALLELISM})")
    return parser


def _duration(text: str) -> float:
    try:
        return float(to_seconds(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _timeout(text: str) -> float:
    seconds = _duration(text)
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1s, got {text!r}")
    return seconds


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vault-state", parents=[_global_flags(False)],
        description="Keep a Vault or OpenBao server's configuration in a YAML state file.",
    )
    parser.add_argument("--version", action="version", version=f"vault-state {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    flags = [_global_flags(True)]
    validate = sub.add_parser("validate", parents=flags, help="check the state file, without a server")
    _fleet_flags(validate)
    plan = sub.add_parser("plan", parents=flags, help="show how the server differs from the file")
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes")
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON document (--format json)")
    plan.add_argument("--format", choices=("text", "json", "markdown"), help="output format (default: text)")
    plan.add_argument("-o", "--out", metavar="PLANFILE", help="also save the plan, for `apply PLANFILE`")
    plan.add_argument("--target", action="append", metavar="KIND/PATH",
                      help="plan only this object and what it needs (repeatable)")
    _fleet_flags(plan)
    plan.add_argument("--metrics-file", metavar="PATH",
                      help="also write Prometheus metrics of the plan here (also when it fails; docs/metrics.md)")
    _fingerprint_flags(plan)
    apply = sub.add_parser("apply", parents=flags, help="make the server match the file")
    apply.add_argument("planfile", nargs="?", metavar="PLANFILE",
                       help="apply exactly this saved plan (from `plan -o`), without asking")
    apply.add_argument("--auto-approve", action="store_true", help="apply without asking for 'yes'")
    apply.add_argument("--target", action="append", metavar="KIND/PATH",
                       help="apply only this object and what it needs (repeatable)")
    _fleet_flags(apply)
    apply.add_argument("--keep-going", action="store_true",
                       help="with --targets: apply the other targets after one fails")
    apply.add_argument("--allow-destroy", action="store_true",
                       help="allow disabling secrets engines and auth methods (destroys their data)")
    _fingerprint_flags(apply)
    apply.add_argument("--allow-mass-change", action="store_true",
                       help="allow deleting or replacing more than `mass_change.percent` %% of a kind")
    sub.add_parser("schema", parents=flags, help="print the state file's JSON Schema")
    export = sub.add_parser("export", parents=flags, help="write the server's configuration as a state file")
    export.add_argument("-o", "--output", help="write to this file (default: standard output)")
    export.add_argument("--policies-dir", metavar="DIR",
                        help="write each policy to DIR/NAME.hcl and name it with {file:} in the state file")
    export.add_argument("--include", action="append", metavar="KIND[/GLOB]",
                        help="export only objects whose id matches (repeatable)")
    export.add_argument("--exclude", action="append", metavar="KIND[/GLOB]",
                        help="leave out objects whose id matches (repeatable)")
    apply.add_argument("--verify", action="store_true", help="run the file's access checks after applying")
    apply.add_argument("--lock-timeout", default="0s", metavar="DURATION",
                       help="wait this long for another apply's lock (default 0s: fail at once)")
    unlock = sub.add_parser("force-unlock", parents=flags, help="remove a stale apply lock left by a run that died")
    unlock.add_argument("lock_id", metavar="ID", help="the lock's ID, as the refused apply printed it")
    sub.add_parser("verify", parents=flags, help="run the file's access checks against the server")
    sub.add_parser("doctor", parents=flags, help="check the server and the cluster for the usual mistakes")
    eso = sub.add_parser("eso-manifests", parents=flags, help="print the External Secrets Operator manifests")
    eso.add_argument("-o", "--output-dir", metavar="DIR", help="write one file per manifest and a kustomization.yaml")
    eso.add_argument("--example-external-secret", action="store_true", help="add an ExternalSecret reading one key")
    sub.add_parser("inventory", parents=flags, help="list what each stack owns (its inventory on the server)")
    adopt = sub.add_parser("adopt", parents=flags, help="record existing objects the file declares as this stack's")
    adopt.add_argument("ids", nargs="*", metavar="ID", help="ids as the plan prints them")
    adopt.add_argument("--all", action="store_true", help="every object the file declares that the server has")
    required = sub.add_parser("required-policy", parents=flags,
                              help="print the ACL policy a token needs to plan and apply the file, without a server")
    required.add_argument("--name", default=DEFAULT_NAME,
                          help="the policy's name, in its header (default: vault-state)")
    required.add_argument("--format", choices=("hcl", "yaml"), default="hcl",
                          help="hcl (default), or yaml: a state file declaring the policy as --name")
    required.add_argument("-o", "--output", metavar="FILE",
                          help="write to FILE (after reading the files: it may be one of them)")
    required.add_argument("--allow-destroy", action="store_true",
                          help="also grant the deletes a replace makes (what apply --allow-destroy allows)")
    lint = sub.add_parser("lint", parents=flags, help="warn about risky or mistaken settings, without a server")
    lint.add_argument("--strict", action="store_true", help="exit 1 when there is any warning")
    watcher = sub.add_parser("watch", parents=flags,
                             help="plan on a schedule (apply with --apply); serve /metrics, /healthz, /readyz")
    add_watch_flags(watcher)
    _fingerprint_flags(watcher)
    _fleet_flags(watcher)
    watcher.add_argument("--keep-going", action="store_true",
                         help="with --targets and --apply: apply the targets after one that failed")
    _fleet_flags(lint)
    return parser


def _fleet_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--targets", metavar="FILE", help="run for every server of this targets.yaml (docs/fleets.md)")
    parser.add_argument("--only", action="append", metavar="GLOB",
                        help="with --targets: only the targets whose name matches (repeatable)")


def _fingerprint_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resend-write-only", action="store_true",
                        help="send every write-only value again (and record its fingerprint)")
    parser.add_argument("--no-fingerprints", action="store_true",
                        help="neither compare nor record fingerprints of write-only values")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    io = Io(Console(highlight=False, soft_wrap=True), Console(stderr=True, highlight=False, soft_wrap=True))
    try:
        return _run(args, io)
    except InputError as exc:
        io.warn(exc.diagnostics)
        return 1
    except VaultStateError as exc:
        io.err.print(f"error: {exc}", style="red", markup=False, highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        io.err.print("interrupted", markup=False)
        return 130


def _run(args: argparse.Namespace, io: Io) -> int:
    """The command, under a token from --login (revoked at exit) when one is asked for."""
    if args.command == "watch":  # logs in for each run: one token for days would outlive its TTL
        return cmd_watch(args, io)
    if args.command == "required-policy":  # talks to no server: with --login, it grants what a login needs
        return COMMANDS[args.command](args, io)
    with _logged_in(args):
        return COMMANDS[args.command](args, io)


@contextlib.contextmanager
def _logged_in(args: argparse.Namespace) -> Iterator[None]:
    """With --login: `args.token` is a fresh token for the block, revoked when it ends."""
    if not getattr(args, "login", None):
        yield
        return
    settings = LoginSettings(args.login, args.login_mount or "", args.login_role or "",
                             args.login_jwt_file or SERVICE_ACCOUNT_TOKEN)
    connection = connection_from(os.environ, address=args.address, token="(login)", namespace=args.namespace,
                                 ca_cert=args.ca_cert, skip_verify=True if args.tls_skip_verify else None,
                                 connect_timeout=args.connect_timeout, retry_budget=args.retry_budget)
    with logged_in(connection, settings, os.environ) as token:
        args.token = token.reveal()
        yield


def cmd_validate(args: argparse.Namespace, io: Io) -> int:
    if args.targets or args.only:
        return check_targets(args, "validate", io.lines, _check_step(cmd_validate, verdict_on_stderr=False))
    loaded = _load(args, io)
    io.warn(check_policy_references(loaded.state, loaded.source, known=None))
    io.out.print(f"{_shown(args)}: valid ({counts_text(declared_counts(loaded))})", markup=False, highlight=False)
    return 0


def cmd_plan(args: argparse.Namespace, io: Io) -> int:
    if args.targets or args.only:  # with --metrics-file, one document of every target's metrics
        return plan_targets(args, _plan_format(args), io.lines, _plan_step)
    if not args.metrics_file:
        return _show_plan(args, io, {})[1]
    codes: list[int] = []

    def run(timings: dict[str, float]) -> Plan:
        the_plan, code = _show_plan(args, io, timings)
        codes.append(code)
        return the_plan

    result = measure(_metrics_target(args), run)
    try:  # also after a failed plan: plan_success 0 is what an alert needs to see
        write_metrics_file(args.metrics_file, [result])
    except VaultStateError as exc:
        if result.error is None:
            raise
        io.err.print(f"error: {exc}", style="red", markup=False, highlight=False)
    if result.error is not None:
        raise result.error
    return codes[0]


def _metrics_target(args: argparse.Namespace) -> str:
    """The `target` label of a single server's metrics: its address, without credentials."""
    address = args.address or os.environ.get("VAULT_ADDR") or os.environ.get("BAO_ADDR") or ""
    return server_address(address).rstrip("/")


def _show_plan(args: argparse.Namespace, io: Io, timings: dict[str, float]) -> tuple[Plan, int]:
    """Plan and print it (and save it with -o); the plan and the exit code."""
    output = _plan_format(args)
    the_plan, document, _, observed = _planned(args, io, output, timings)
    if output == "json":
        print(json.dumps(document, indent=2, sort_keys=False))
    elif output == "markdown":
        sys.stdout.write(plan_markdown(document, COMMENT_LIMIT))
    else:
        io.lines(plan_lines({**document, "warnings": _target_note(args)}))
    if args.out:
        targets = [str(parse_target(t)) for t in args.target or []]
        write_saved(Path(args.out), save(observed, document, targets))
        io.err.print(f"Saved the plan to {args.out}. Apply exactly these changes with: vault-state apply {args.out}",
                     markup=False, highlight=False)
    refused = _refused(the_plan)
    if refused:  # apply would refuse the whole plan: say so now, in CI, not at apply time
        io.err.print(f"error: {refused}", style="bold red", markup=False, highlight=False)
        return the_plan, 1
    return the_plan, 2 if args.detailed_exitcode and the_plan.has_changes else 0


def _planned(args: argparse.Namespace, io: Io, output: str, timings: dict[str, float] | None = None,
             ) -> tuple[Plan, dict[str, Any], LoadedState, Observed]:
    """Plan, and the document to show (with the warnings found and the stack)."""
    the_plan, loaded, _, observed, owners = _plan(args, io, quiet=output != "text", timings=timings)
    # Text and Markdown show no unchanged object but those with a note: leave the rest out of the
    # document they format (at 50,000 objects, their values were most of a plan's memory).
    whole = output == "json" or bool(args.out)
    shown = the_plan if whole else Plan(tuple(c for c in the_plan.changes if c.action is not Action.NOOP or c.warnings))
    document = _document(shown, loaded, [str(w) for w in loaded.warnings] + _target_note(args))
    document["stack"] = owners.summary(the_plan)
    return the_plan, document, loaded, observed


def _refused(the_plan: Plan) -> str:
    """Why apply would refuse the whole plan ("" when it would not)."""
    refused = [c for c in the_plan.actionable if c.refusal]
    if not refused:
        return ""
    return (f"this plan cannot be applied: {', '.join(str(c.id) for c in refused)} "
            f"{'is' if len(refused) == 1 else 'are'} refused (see the !! REFUSED lines); change the file")


def _plan_step(args: argparse.Namespace, outcome: Outcome) -> None:
    """plan --targets: one target's plan, its document kept for the fleet's report (nothing printed)."""
    notes = StringIO()
    quiet = Io(Console(file=StringIO()), Console(file=notes, width=1000, no_color=True))
    output = "json" if _plan_format(args) == "json" else "markdown"  # json: no-ops too; either way quiet
    the_plan, outcome.document, _, _ = _planned(args, quiet, output, outcome.timings)
    outcome.plan = the_plan
    outcome.notes = notes.getvalue().splitlines()
    outcome.error = _refused(the_plan)
    outcome.code = 1 if outcome.error else 2 if args.detailed_exitcode and the_plan.has_changes else 0


def _apply_step(screen: Io) -> Step:
    """apply --targets: one target's apply, printed as it goes (targets run one at a time); the counts
    of the plan it applied are kept for the summary."""
    def step(args: argparse.Namespace, outcome: Outcome) -> None:
        def planned(the_plan: Plan) -> None:
            outcome.counts = the_plan.counts()
        outcome.code = _apply_held(args, screen, planned)
    return step


def _check_step(command: Callable[[argparse.Namespace, Io], int], verdict_on_stderr: bool) -> Step:
    """validate/lint --targets: one target's command, what it prints kept for its section (the
    diagnostics first, then the verdict line)."""
    def step(args: argparse.Namespace, outcome: Outcome) -> None:
        out, err = StringIO(), StringIO()
        quiet = Io(Console(file=out, width=1000, no_color=True), Console(file=err, width=1000, no_color=True))
        outcome.code = command(args, quiet)
        first, last = (out, err) if verdict_on_stderr else (err, out)
        outcome.output = first.getvalue().splitlines() + last.getvalue().splitlines()
    return step


def cmd_apply(args: argparse.Namespace, io: Io, on_plan: Callable[[Plan], None] | None = None) -> int:
    """Apply while holding the lock kept in Vault (vault_state/lock.py), released on every exit.
    `on_plan` is shown the plan apply computed (watch counts the changes applied)."""
    if args.targets or args.only or args.keep_going:
        return apply_targets(args, io.lines, _apply_step(io))
    return _apply_held(args, io, on_plan)


def _apply_held(args: argparse.Namespace, io: Io, on_plan: Callable[[Plan], None] | None = None) -> int:
    """apply under the lock; `on_plan` is told the plan before it is applied (or refused)."""
    try:
        timeout = to_seconds(args.lock_timeout)
    except ValueError as exc:
        raise ConfigurationError(f"--lock-timeout: {exc}") from None
    with held(ApplyLock(_lock_gateway(args)), timeout):
        return _apply(args, io, on_plan)


def cmd_force_unlock(args: argparse.Namespace, io: Io) -> int:
    released = ApplyLock(_lock_gateway(args)).force_unlock(args.lock_id)
    io.out.print(f"released the apply lock {released.describe()}", markup=False, highlight=False)
    return 0


def _lock_gateway(args: argparse.Namespace) -> Gateway:
    connection = connection_from(
        os.environ, address=args.address, token=args.token, namespace=args.namespace,
        ca_cert=args.ca_cert, skip_verify=True if args.tls_skip_verify else None,
        connect_timeout=args.connect_timeout, retry_budget=args.retry_budget,
    )
    return Gateway(connection, parallelism=1, retry=RetryPolicy.from_env(os.environ))


def _apply(args: argparse.Namespace, io: Io, on_plan: Callable[[Plan], None] | None = None) -> int:
    if args.planfile is not None:
        the_plan, loaded, gateway, owners = _saved_plan(args, io)
    else:
        the_plan, loaded, gateway, _, owners = _plan(args, io, quiet=False)
        document = _document(the_plan, loaded, _target_note(args))
        io.lines(plan_lines({**document, "stack": owners.summary(the_plan)}))
    if on_plan is not None:
        on_plan(the_plan)
    if not the_plan.has_changes:
        _say_unrecorded(io, owners, owners.record(gateway, the_plan, ApplyReport()))  # adoptions
        return _verify_after(args, io, loaded, gateway, 0)
    prune_at = {kind.name: loaded.source.locate(("prune", kind.prune_key)) for kind in KINDS}
    refusals = destroy_refusals(the_plan, args.allow_destroy, prune_at)
    guard = loaded.state.mass_change
    if not args.allow_mass_change:
        refusals += mass_change_refusals(the_plan, owners.live, guard.percent, guard.minimum)
    if refusals:
        for message in refusals:
            io.err.print(f"refused: {message}", style="bold red", markup=False, highlight=False)
        raise ApplyRefused("apply refused before making any change; nothing was changed")
    if args.planfile is None:  # a saved plan was reviewed: it needs no confirmation
        _confirm(args, io)
    with progress_bar(io.err, "applying") as tracker:
        known = fact_reader(gateway)
        report = apply_plan(
            the_plan,
            lambda call: gateway.execute(settle_call(call, lambda fact: known(fact, call.namespace))),
            gateway.workers,
            tracker,
        )
    code = _report(report, the_plan, io)
    try:  # after the report: a server that went away must not hide what was applied
        _say_unrecorded(io, owners, owners.record(gateway, the_plan, report))
    except VaultStateError as exc:
        when = "the token may write it" if isinstance(exc, Forbidden) else "the server answers"
        io.err.print(f"error: the inventory of stack {owners.ownership.stack} was not updated ({exc}); once "
                     f"{when}, record the objects this apply wrote with `vault-state adopt ID...`",
                     style="bold red", markup=False, highlight=False)
        return 1
    return _verify_after(args, io, loaded, gateway, code)


def _say_unrecorded(io: Io, owners: Owners, namespaces: list[str]) -> None:
    """The token could not list the inventories there, so apply did not write them (it would have
    replaced what it could not read): the objects it wrote are not recorded as this stack's."""
    for namespace in namespaces:
        where, path = (f"namespace {namespace}", f"{namespace}/{INVENTORY_LIST}") if namespace else (
            "the namespace it connects to", INVENTORY_LIST)
        io.err.print(f"warning: the inventory of stack {owners.ownership.stack} was not updated in {where}: the "
                     f"token may not list {path}, so writing it would replace what it could not read; "
                     "`prune: owned` will not know these objects (record them with `vault-state adopt ID...` "
                     "using a token that may)", style="yellow", markup=False, highlight=False)


def cmd_inventory(args: argparse.Namespace, io: Io) -> int:
    gateway = _gateway(args, io)
    gateway.check_namespace()
    inventories = read_inventories(gateway, all_namespaces(gateway)).stacks
    if not inventories:
        io.out.print("no stack has an inventory on this server yet", markup=False, highlight=False)
    for name, inventory in sorted(inventories.items()):
        io.out.print(f"{name}: {len(inventory.ids)} ids, {len(inventory.fingerprints)} fingerprints "
                     f"(updated {inventory.updated} by vault-state {inventory.tool_version})",
                     markup=False, highlight=False)
        for rid in sorted(inventory.ids):
            io.out.print(f"  {rid}", markup=False, highlight=False)
    return 0


def cmd_adopt(args: argparse.Namespace, io: Io) -> int:
    """Record objects the file declares and the server has as this stack's, under the apply lock."""
    if bool(args.ids) == bool(args.all):
        raise ConfigurationError("adopt: give the ids to adopt, or --all (not both)")
    args.no_fingerprints, args.resend_write_only = True, False
    with held(ApplyLock(_lock_gateway(args)), 0):
        the_plan, loaded, gateway, _, owners = _plan(args, io, quiet=True)
        existing = {str(c.id) for c in the_plan.changes if c.before is not None and c.after is not None}
        wanted = sorted(existing) if args.all else list(dict.fromkeys(args.ids))
        unknown = [rid for rid in wanted if rid not in existing]
        if unknown:
            raise ConfigurationError(f"adopt: not declared by {args.file} or not on the server: {', '.join(unknown)}")
        for inventory, before in adopted(owners.inventories, loaded.state.stack, wanted):
            write_inventory(gateway, inventory, before)
    for rid in wanted:
        source = owners.ownership.others.get(rid)
        io.out.print(f"adopted {rid}" + (f" from stack {source}" if source else ""), markup=False, highlight=False)
    io.out.print(f"stack {loaded.state.stack} owns {len(wanted)} more ids", markup=False, highlight=False)
    return 0


def cmd_lint(args: argparse.Namespace, io: Io) -> int:
    if args.targets or args.only:
        return check_targets(args, "lint", io.lines, _check_step(cmd_lint, verdict_on_stderr=True))
    loaded = _load(args, io, quiet=True)
    warnings = sort_diagnostics([*loaded.warnings, *lint_state(loaded.state, loaded.source)])
    for d in warnings:
        io.out.print(str(d), markup=False, highlight=False)
    count = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else "no warnings"
    io.err.print(f"{_shown(args)}: {count}", markup=False, highlight=False)
    return 1 if args.strict and warnings else 0


def cmd_required_policy(args: argparse.Namespace, io: Io) -> int:
    try:
        text = policy_text(_load(args, io), _files(args), args.name, args.allow_destroy, args.format, args.login or "",
                           args.namespace or "")
    except ValueError as exc:  # an invalid --name for a state file
        raise ConfigurationError(f"--name: {exc}") from None
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise VaultStateError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    return 0


def cmd_export(args: argparse.Namespace, io: Io) -> int:
    include = [parse_pattern(p, "--include") for p in args.include or []]
    exclude = [parse_pattern(p, "--exclude") for p in args.exclude or []]
    gateway = _gateway(args, io)
    gateway.check_namespace()
    beside = Path(args.output).parent if args.output else Path()  # {file:} paths are relative to the state file
    in_file = os.path.relpath(args.policies_dir, beside) if args.policies_dir else None
    with gateway.forbidden_reads_collected():
        exported = export_state(gateway, source=gateway.connection.address, include=include, exclude=exclude,
                                policies_dir=in_file)
    write_policy_files(beside, exported.files)
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
        connect_timeout=args.connect_timeout, retry_budget=args.retry_budget,
    )
    if connection.skip_verify:
        io.err.print("warning: TLS verification is disabled (--tls-skip-verify / VAULT_SKIP_VERIFY)",
                     style="yellow", markup=False)
    return Gateway(connection, parallelism=args.parallelism, retry=RetryPolicy.from_env(os.environ))


def _load(args: argparse.Namespace, io: Io, quiet: bool = False) -> LoadedState:
    loaded = load_states(_files(args), args.recursive, _overlays(args))
    if not quiet:
        io.warn(loaded.warnings)
    return loaded


def _files(args: argparse.Namespace) -> list[str]:
    """The -f arguments (files or directories), ./state.yaml when none is given."""
    return list(args.file or ["state.yaml"])


def _overlays(args: argparse.Namespace) -> list[str]:
    """The --overlay files, in the order given."""
    return list(getattr(args, "overlay", None) or [])


def _shown(args: argparse.Namespace) -> str:
    return ", ".join(_files(args))


def _document(the_plan: Plan, loaded: LoadedState, warnings: list[str] | None = None) -> dict[str, Any]:
    """The plan document, naming the files and the values overlays set when there are several."""
    document = plan_document(the_plan, warnings, _names(loaded))
    overlay_origins(document, loaded.source)
    return document


def _names(loaded: LoadedState) -> list[str]:
    """The state files read, when several (plans then name each change's file)."""
    return [str(path) for path in loaded.files]


def _plan(args: argparse.Namespace, io: Io, quiet: bool, timings: dict[str, float] | None = None,
          ) -> tuple[Plan, LoadedState, Gateway, Observed, Owners]:
    """Load, resolve, read the server and the inventories, and plan (limited to --target). The
    loaded state's warnings include the server checks; `Observed` is what a saved plan keeps digests of.
    `timings` gets the seconds of the phases done: load, read, plan."""
    timings = {} if timings is None else timings
    started = time.monotonic()
    targets = [parse_target(t) for t in getattr(args, "target", None) or []]
    local = read_local(_files(args), os.environ, _cluster(args), args.recursive, _overlays(args))
    started = _lap(timings, "load", started)
    loaded, desired = local.loaded, local.desired
    if not quiet:
        io.warn(loaded.warnings)
    gateway = _gateway(args, io)
    gateway.check_namespace()
    _refuse_server_wide(desired, gateway.connection.namespace or "", loaded)
    with progress_bar(io.err, "reading", enabled=not quiet) as gateway.tracker, gateway.forbidden_reads_collected():
        moves = moves_of(loaded.state, loaded.source.locate)
        live = read_live(gateway, for_reading(desired, moves), loaded.state.prune, gateway.workers.limit,
                         inside=bool(gateway.connection.namespace))
    # Each namespace keeps the inventories of its own objects (docs/ownership.md#namespaces).
    inventories = read_inventories(gateway, {rid.namespace for rid in (*desired, *live)},
                                   needed=relies_on_ownership(loaded.state, desired))
    before_move = {new: old for old, new in remounts(moves, live).items()}
    previous = {str(rid): str(old) for rid in desired if (old := moved_id(rid, before_move)) is not None}
    ownership = ownership_of(gateway, loaded.state.stack, loaded.state.adopt, desired, inventories.stacks,
                             track=not args.no_fingerprints, resend=args.resend_write_only, previous=previous)
    _check_identity(loaded, gateway, live, local.state_bytes)
    known = {rid.path for rid in live if rid.kind == "policy" and not rid.namespace}
    warnings = [*lint_state(loaded.state, loaded.source, references=False),
                *check_policy_references(loaded.state, loaded.source, known=known),
                *reviewer_warnings(loaded.state, loaded.source, desired)]
    if not quiet:
        io.warn(warnings)
    loaded.warnings += warnings
    started = _lap(timings, "read", started)
    the_plan = plan_with_moves(desired, live, loaded.state.prune, moves, ownership)
    the_plan = guard_owned_namespace_deletes(gateway, the_plan, ownership, loaded.state.prune)
    if targets:
        the_plan = limit_to_targets(the_plan, targets)
    _lap(timings, "plan", started)
    connection = gateway.connection
    observed = Observed(server_address(connection.address), connection.namespace or "", _shown(args),
                        local.state_bytes, local.sources, live, local.file_bytes, _files(args), args.recursive,
                        _overlays(args))
    owners = Owners(ownership, inventories, frozenset(live), track=not args.no_fingerprints)
    return the_plan, loaded, gateway, observed, owners


def _refuse_server_wide(desired: Mapping[ResourceId, Resource], namespace: str, loaded: LoadedState) -> None:
    """Server-wide objects (audit devices, CORS, ...) in a file planned with --namespace: Vault
    configures them in the root namespace only ("operation only available in root namespace")."""
    if not namespace:
        return
    problems = [
        Diagnostic(r.location or Location(str(loaded.path), 1, 1),
                   f"{rid} is server-wide: Vault configures it in the root namespace only, and --namespace "
                   f"{namespace} connects inside a namespace; declare it in a file planned at the root")
        for rid, r in desired.items() if rid.kind in ROOT_ONLY and not rid.namespace
    ]
    if problems:
        raise InputError(problems)


def _lap(timings: dict[str, float], phase: str, started: float) -> float:
    now = time.monotonic()
    timings[phase] = now - started
    return now


def _check_identity(loaded: LoadedState, gateway: Gateway, live: dict[ResourceId, Resource], text: bytes) -> None:
    """Names an alias, a group or a policy placeholder uses that neither the file nor the server has."""
    identity = loaded.state.identity
    named = bool(identity.entities or identity.groups)
    problems = check_identity_references(
        loaded.state, loaded.source,
        auth_mounts={rid.path for rid in live if rid.kind == "auth_method"},
        entities=set(gateway.list(IDENTITY_LISTS[0])) if named else set(),
        groups=set(gateway.list(IDENTITY_LISTS[1])) if named else set(),
        lines=text.decode("utf-8", "replace").splitlines() if text else None,  # None: several files
    )
    if problems:
        raise InputError(problems)


def _plan_format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise VaultStateError(f"--json and --format {args.format} conflict: give one of them")
    return str(args.format or ("json" if args.json else "text"))


def _target_note(args: argparse.Namespace) -> list[str]:
    targets = getattr(args, "target", None)
    if not targets:
        return []
    return [f"--target in effect: only {', '.join(targets)} and the objects they need are planned; "
            "run without --target to see every change"]


def _saved_plan(args: argparse.Namespace, io: Io) -> tuple[Plan, LoadedState, Gateway, Owners]:
    """Plan again from the saved plan's state file and targets; refuse unless nothing it read changed
    and the changes are exactly the saved ones."""
    path = Path(args.planfile)
    saved = read_saved(path)
    if args.target:
        raise TargetError("--target cannot be used with a saved plan: it applies the targets it was made with")
    made_from = saved.inputs or [saved.state_file]
    if args.file not in (None, ["state.yaml"], made_from):
        raise VaultStateError(f"the saved plan was made from {saved.state_file}, not {_shown(args)}; leave out -f")
    if args.overlay not in (None, saved.overlays):
        raise VaultStateError(f"the saved plan was made with --overlay {', '.join(saved.overlays) or '(none)'}; "
                              "leave out --overlay")
    _refuse_stale(io, path, state_file_reasons(saved))
    args.file, args.target, args.recursive = made_from, saved.targets, saved.recursive
    args.overlay = saved.overlays
    the_plan, loaded, gateway, observed, owners = _plan(args, io, quiet=True)
    document = _document(the_plan, loaded)
    document["stack"] = owners.summary(the_plan)
    reasons = stale_reasons(saved, observed)
    if not reasons and saved_changes_differ(saved, document):
        reasons = ["the plan computed now differs from the saved one"]
    _refuse_stale(io, path, reasons)
    io.lines(plan_lines(document))
    return the_plan, loaded, gateway, owners


def _refuse_stale(io: Io, path: Path, reasons: list[str]) -> None:
    if reasons:
        for message in reasons:
            io.err.print(f"refused: {message}", style="bold red", markup=False, highlight=False)
        raise ApplyRefused(f"the saved plan {path} is stale; nothing was changed. Run plan again and review it")


def _cluster(args: argparse.Namespace) -> Callable[[], Any]:
    """The cluster, connected on first use as kubectl would (KUBECONFIG, --kube-context, in-cluster)."""
    return connector(KubeSettings(os.environ, getattr(args, "kube_context", None)))


def cmd_verify(args: argparse.Namespace, io: Io) -> int:
    loaded = _load(args, io)
    lines, code = verify_command(loaded.state, _gateway(args, io), _cluster(args))
    io.lines(lines)
    return code


def _verify_after(args: argparse.Namespace, io: Io, loaded: LoadedState, gateway: Gateway, code: int) -> int:
    if code != 0 or not args.verify:
        return code
    lines, code = verify_command(loaded.state, gateway, _cluster(args))
    io.lines(lines)
    return code


def cmd_doctor(args: argparse.Namespace, io: Io) -> int:
    loaded = _load(args, io)
    lines, code = doctor_command(loaded, os.environ, _gateway(args, io), _cluster(args))
    io.lines(lines)
    return code


def cmd_eso_manifests(args: argparse.Namespace, io: Io) -> int:
    loaded = _load(args, io)
    out = Path(args.output_dir) if args.output_dir else None
    text, notes = eso_command(loaded, os.environ, _cluster(args), out, args.example_external_secret)
    sys.stdout.write(text)
    for note in notes:
        io.err.print(note, markup=False, highlight=False)
    return 0


def cmd_watch(args: argparse.Namespace, io: Io) -> int:
    """Plan (with --apply, apply) on a schedule and serve the metrics: vault_state/watch.py."""
    from vault_state.watch_runs import watch_command  # it runs this module's plan and apply

    return watch_command(args, io)


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
    for change, line in report.shown:
        io.out.print(f"{change.id}: {line}", markup=False, highlight=False)
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
    if report.forbidden:
        io.err.print(f"error: {forbidden_writes(report.forbidden)}", style="bold red", markup=False, highlight=False)
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
    "force-unlock": cmd_force_unlock,
    "schema": cmd_schema,
    "export": cmd_export,
    "lint": cmd_lint,
    "required-policy": cmd_required_policy,
    "inventory": cmd_inventory,
    "adopt": cmd_adopt,
    "verify": cmd_verify,
    "doctor": cmd_doctor,
    "eso-manifests": cmd_eso_manifests,
    "watch": cmd_watch,
}
