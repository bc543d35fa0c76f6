"""Running one command over many targets: plans concurrently (bounded), applies one target after
another in the file's order, stopping at the first failure unless told to keep going.

What one target runs is given by the caller (the CLI's plan or apply, against that target's
server); a target that fails, or cannot be reached, is an `Outcome` with an error, never a crash.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vault_state.errors import ConfigurationError, InputError, VaultStateError, sort_diagnostics
from vault_state.fleet.targets import Fleet, Target, TargetLogin
from vault_state.metrics import TargetResult
from vault_state.plan.model import Plan
from vault_state.vault.connection import connection_from
from vault_state.vault.login import SERVICE_ACCOUNT_TOKEN, Credential, LoginSettings, logged_in

CONCURRENCY = 4
"""Targets planned at once: each plan already runs its own reads in parallel (--parallelism)."""


@dataclass
class Outcome:
    """What one target's run gave: its plan document (plan), its exit code, or the error that stopped it."""

    name: str
    target: Target
    code: int = 0
    document: dict[str, Any] | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    """What the run said on stderr besides the error (warnings), shown in its section."""
    ran: bool = True
    """False: not run, because an earlier target failed (apply without --keep-going)."""
    plan: Plan | None = None
    """The plan made (plan --targets), for --metrics-file."""
    exception: VaultStateError | None = None
    """The error that stopped the run, as raised (--metrics-file tells a file error from an unreachable server)."""
    timings: dict[str, float] = field(default_factory=dict)
    duration: float = 0.0

    def metrics(self) -> TargetResult:
        """This target's metrics (vault_state/metrics.py), labelled with its name."""
        return TargetResult(self.name, self.plan, self.exception, self.duration, self.timings)
    counts: dict[str, int] | None = None
    """apply: the add/change/destroy counts of the plan it applied (or refused); None before planning."""
    output: list[str] = field(default_factory=list)
    """validate, lint: what the command printed for this target."""
    errors: int = 0
    """How many located problems `error` lists (an invalid file), 0 for any other error."""


Step = Callable[[argparse.Namespace, Outcome], None]
"""Runs the command for one target: the arguments are the command's own, pointed at the target's
server, files and token. It fills `outcome` (code, document, notes) or raises VaultStateError."""


def plan_all(fleet: Fleet, names: list[str], args: argparse.Namespace, step: Step) -> list[Outcome]:
    """Run `step` for every target named, at most CONCURRENCY at once; outcomes in `names`' order."""
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(names)), thread_name_prefix="target") as pool:
        futures = [pool.submit(run_one, name, fleet.targets[name], args, step) for name in names]
        return [future.result() for future in futures]


def apply_all(fleet: Fleet, names: list[str], args: argparse.Namespace, step: Step, keep_going: bool,
              started: Callable[[Outcome], None], finished: Callable[[Outcome], None]) -> list[Outcome]:
    """Run `step` for each target in turn; after a failure the rest are not run unless `keep_going`.
    `started` and `finished` are told before and after each target runs (to print its section)."""
    outcomes: list[Outcome] = []
    failed = False
    for name in names:
        outcome = Outcome(name, fleet.targets[name])
        if failed and not keep_going:
            outcome.ran = False
        else:
            started(outcome)
            outcome = run_one(name, fleet.targets[name], args, step)
            finished(outcome)
            failed = failed or outcome.code != 0
        outcomes.append(outcome)
    return outcomes


def run_one(name: str, target: Target, args: argparse.Namespace, step: Step) -> Outcome:
    """`step` for one target under its token; any VaultStateError becomes the outcome's error."""
    outcome = Outcome(name, target)
    started = time.monotonic()
    try:
        targeted = target_arguments(args, target, "")
        with target_token(target, os.environ, targeted) as token:
            targeted.token = token
            step(targeted, outcome)
    except VaultStateError as exc:
        _failed(outcome, exc)
    outcome.duration = time.monotonic() - started
    return outcome


def check_all(fleet: Fleet, names: list[str], args: argparse.Namespace, step: Step) -> list[Outcome]:
    """`step` for every target named, offline (no token, no server): validate and lint."""
    outcomes = []
    for name in names:
        outcome = Outcome(name, fleet.targets[name])
        try:
            step(target_arguments(args, outcome.target, ""), outcome)
        except VaultStateError as exc:
            _failed(outcome, exc)
        outcomes.append(outcome)
    return outcomes


def _failed(outcome: Outcome, exc: VaultStateError) -> None:
    if isinstance(exc, InputError):
        problems = sort_diagnostics(exc.diagnostics)
        outcome.code, outcome.error = 1, "\n".join(str(d) for d in problems)
        outcome.errors = sum(1 for d in problems if d.is_error)
    else:
        outcome.code, outcome.error = exc.exit_code, str(exc)
    outcome.exception = exc


@contextlib.contextmanager
def target_token(target: Target, env: Mapping[str, str], args: argparse.Namespace) -> Iterator[str]:
    """The target's token: from its `token_env` variable, or from a login (revoked at the end).
    `args` are the target's (target_arguments): its timeouts and TLS settings apply to the login."""
    if target.login is None:
        token = env.get(target.token_env or "", "")
        if not token:
            raise ConfigurationError(f"the variable {target.token_env} (token_env) is not set or empty")
        yield token
        return
    settings = login_settings(target.login)
    connection = connection_from(env, address=target.address, token="(login)", namespace=target.namespace,
                                 ca_cert=target.ca_cert or None,
                                 skip_verify=True if getattr(args, "tls_skip_verify", False) else None,
                                 connect_timeout=args.connect_timeout, retry_budget=args.retry_budget)
    with logged_in(connection, settings, env) as secret:
        yield secret.reveal()


def login_settings(login: TargetLogin) -> LoginSettings:
    """The target's login: its own credentials where it names them, else those `--login` reads."""
    def credential(env: str | None, file: str, default: str) -> Credential:
        return Credential(file=file) if file else Credential(env=env or default)

    jwt = None
    if login.jwt_env or (login.jwt_file and login.method == "jwt"):
        jwt = credential(login.jwt_env, login.jwt_file, "VAULT_JWT")
    return LoginSettings(
        login.method, login.mount, login.role, login.jwt_file or SERVICE_ACCOUNT_TOKEN,
        role_id=credential(login.role_id_env, login.role_id_file, "VAULT_ROLE_ID"),
        secret_id=credential(login.secret_id_env, login.secret_id_file, "VAULT_SECRET_ID"),
        jwt=jwt,
    )


def target_arguments(args: argparse.Namespace, target: Target, token: str) -> argparse.Namespace:
    """The command's arguments, pointed at one target: its server, namespace, CA, token and files."""
    return argparse.Namespace(**{
        **vars(args),
        "address": target.address, "token": token, "namespace": target.namespace,
        "ca_cert": target.ca_cert or None, "login": None,
        "file": list(target.files), "overlay": list(target.overlays), "recursive": target.recursive,
        "targets": None, "only": None, "keep_going": False,
        # The target's own timeouts win over the flags, which are the default for every target.
        "connect_timeout": _first(target.connect_timeout, getattr(args, "connect_timeout", None)),
        "retry_budget": _first(target.retry_budget, getattr(args, "retry_budget", None)),
    })


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


def worst_code(outcomes: list[Outcome]) -> int:
    """An error (1) beats changes (2, with --detailed-exitcode), which beat none (0)."""
    codes = {o.code for o in outcomes if o.ran}
    return 1 if codes - {0, 2} else 2 if 2 in codes else 0
