"""`make bench-fleet`: `plan --targets` over N real OpenBao dev servers against the same N plans run one
after another (one `vault-state plan` process per server, as a CI job without --targets would), and
what one dead target costs. Rewrites the fleet section of benchmarks/RESULTS.md.

    python -m benchmarks.fleet [--servers 4] [--sizes small,medium] [--reps 3]

Every server holds the benchmark layout of the size (benchmarks/layout.py), applied beforehand, so
each plan is a no-op plan reading the whole configuration; all servers
run on this host, beside the planning process (on 2 CPUs, the servers and the plans share two cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

from benchmarks.layout import SIZES, Layout, Size
from benchmarks.run import HERE, PY, ROOT, machine, measured, workdir_for
from vault_state.fleet.run import CONCURRENCY
from vault_state.sandbox import DevServer

BEGIN = "<!-- fleet: rewritten by python -m benchmarks.fleet -->"
END = "<!-- /fleet -->"


def plan(env: dict[str, str], *args: str) -> float:
    """Seconds of wall time of one `vault-state plan ARGS` process (start-up included)."""
    run = measured([PY, "-m", "vault_state", "plan", *args], env)
    return run.seconds


def seed(env: dict[str, str], state: str) -> None:
    """Apply the layout to one server."""
    run = subprocess.run([PY, "-m", "vault_state", "apply", "-f", state, "--auto-approve"],
                         env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-500:] + run.stderr[-500:]


def targets_yaml(servers: list[DevServer], extra: str = "") -> str:
    rows = [f"  s{i}: {{address: '{s.address}', token_env: TOKEN_{i}, files: [state.yaml]}}"
            for i, s in enumerate(servers)]
    return "targets:\n" + "\n".join(rows) + "\n" + extra


def measure_size(size: Size, count: int, reps: int) -> dict[str, list[float]]:
    layout = Layout(size)
    work = workdir_for(layout)
    servers = [DevServer().start() for _ in range(count)]
    times: dict[str, list[float]] = {"one": [], "sequential": [], "fleet": []}
    try:
        env = {**os.environ, **{f"TOKEN_{i}": s.token for i, s in enumerate(servers)}}
        state = str(work / "state.yaml")
        for server in servers:
            seed({**env, **server.env()}, state)
        (work / "targets.yaml").write_text(targets_yaml(servers))
        for rep in range(reps):
            print(f"  {size.name}: repetition {rep + 1}", file=sys.stderr)
            each = [plan({**env, **server.env()}, "-f", state, "--detailed-exitcode") for server in servers]
            times["one"].append(statistics.median(each))
            times["sequential"].append(sum(each))
            times["fleet"].append(plan(env, "--targets", str(work / "targets.yaml"), "--detailed-exitcode"))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return times


def measure_dead(count: int) -> dict[str, float]:
    """A small fleet where one target drops connections (a host down): the run's wall time by default,
    and with that target's connect_timeout: 2s."""
    layout = Layout(SIZES[0])
    work = workdir_for(layout)
    servers = [DevServer().start() for _ in range(count - 1)]
    found: dict[str, float] = {}
    try:
        for server in servers:  # the live targets' plans are no-op plans, as in the table above
            seed({**os.environ, **server.env()}, str(work / "state.yaml"))
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            host, port = listener.getsockname()
            with socket.create_connection((host, port)):  # fills the backlog: later SYNs are dropped
                env = {**os.environ, "TOKEN_DEAD": "x", **{f"TOKEN_{i}": s.token for i, s in enumerate(servers)}}
                dead = f"  dead: {{address: 'http://{host}:{port}', token_env: TOKEN_DEAD, files: [state.yaml]"
                for name, extra in (("default", "}\n"), ("connect_timeout 2s", ", connect_timeout: 2s}\n")):
                    (work / "targets.yaml").write_text(targets_yaml(servers, dead + extra))
                    started = time.perf_counter()
                    run = subprocess.run([PY, "-m", "vault_state", "plan", "--targets", str(work / "targets.yaml")],
                                         env=env, cwd=ROOT, capture_output=True, text=True, check=False)
                    found[name] = time.perf_counter() - started
                    assert run.returncode == 1 and "cannot reach" in run.stdout, run.stdout[-500:] + run.stderr
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return found


def report(results: dict[str, dict[str, list[float]]], dead: dict[str, float], count: int, reps: int,
           total: float) -> str:
    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    lines = [
        BEGIN,
        "## Fleets: `plan --targets` over several servers",
        "",
        f"Written by `python -m benchmarks.fleet` on {time.strftime('%Y-%m-%d')}: {machine()}; {count} OpenBao dev "
        f"servers on the same host, each holding the whole layout of the size (a no-op plan reads all of it); "
        f"`plan --targets` plans {CONCURRENCY} targets at once. Seconds of wall time, process start included, "
        f"median (min-max) of {reps} repetitions; whole run {total / 60:.1f} minutes.",
        "",
        f"| size (objects per server) | one server's plan s | {count} plans one after another s | "
        f"`plan --targets` over {count} s | speed-up |",
        "|---|---|---|---|---|",
    ]
    for name, times in results.items():
        size = next(s for s in SIZES if s.name == name)
        speedup = statistics.median(times["sequential"]) / statistics.median(times["fleet"])
        lines.append(f"| {name} ({size.objects}) | {cell(times['one'])} | {cell(times['sequential'])} | "
                     f"{cell(times['fleet'])} | {speedup:.2f}x |")
    if dead:
        lines += [
            "",
            f"One dead target among {count} (its connections are dropped, as by a host that is down; the others "
            f"hold the small layout), one run: `plan --targets` took {dead['default']:.1f} s with the default "
            f"10 s connect timeout, {dead['connect_timeout 2s']:.1f} s with `connect_timeout: 2s` on that target.",
        ]
    return "\n".join([*lines, END])


def write(section: str) -> None:
    path = HERE / "RESULTS.md"
    text = path.read_text()
    if BEGIN in text:
        before, rest = text.split(BEGIN, 1)
        text = before + section + rest.split(END, 1)[1]
    else:  # below the notes marker: `make bench` keeps it when it rewrites its tables
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--sizes", default="small,medium")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-dead", action="store_true", help="skip the dead-target measurement")
    args = parser.parse_args()
    began = time.perf_counter()
    results = {}
    for size in (s for s in SIZES if s.name in args.sizes.split(",")):
        print(f"[{time.perf_counter() - began:6.1f}s] {size.name} over {args.servers} servers", file=sys.stderr)
        results[size.name] = measure_size(size, args.servers, args.reps)
    dead = {} if args.no_dead else measure_dead(args.servers)
    section = report(results, dead, args.servers, args.reps, time.perf_counter() - began)
    write(section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
