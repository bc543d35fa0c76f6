"""`make bench`: vault-state, the hand-run `bao` CLI and the raw-HTTP floor, side by side, on a fresh
real OpenBao dev server per size and repetition. Writes benchmarks/RESULTS.md and results.png.

    python -m benchmarks.run [--sizes small,medium,large] [--scenarios engines,ns-50k] [--parallelism N]

The scenarios (benchmarks/scenarios.py) are the secrets engines' own configuration (PKI roles,
transit keys, database connections and roles) and the base layout spread over many namespaces;
for them the apply from empty and the no-op plan are measured against the floor, and the no-op
plan's requests are logged and compared one by one with the floor's.

Every command runs in its own process, timed from start to exit (what a user or CI job waits for),
with its peak RSS from wait4(). vault-state runs through benchmarks.counted, which counts its
HTTP requests at the gateway.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.layout import SIZES, Layout, Size, Write, shell_script
from benchmarks.scenarios import DB_PASSWORD_ENV, EngineSize, NamespaceSize, ScenarioLayout, scenario_layout
from vault_state.sandbox import DevServer, bao_binary
from vault_state.vault.parallel import DEFAULT_PARALLELISM

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
REPS = {"small": 5, "medium": 3, "large": 3,
        "engines-small": 3, "engines": 3, "ns-small": 3, "ns-10k": 2, "ns-50k": 1}
CLI_SAMPLE = Size("cli-sample", policies=40, mounts=2, auth_methods=2, roles=40)  # 87 commands
SWEEP = (1, 2, 4, 8, 16, 32)


@dataclass
class Run:
    seconds: float
    rss_mb: float
    requests: int
    output: str


@dataclass
class Series:
    """The repetitions of one measurement."""

    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def spread(self) -> str:
        times = [r.seconds for r in self.runs]
        return f"{min(times):.2f}-{max(times):.2f}"

    @property
    def requests(self) -> int:
        return self.runs[0].requests

    @property
    def rss(self) -> float:
        return max(r.rss_mb for r in self.runs)


def measured(argv: list[str], env: dict[str, str]) -> Run:
    """Run argv to completion; its wall time, peak RSS, and the request count it reports."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if process.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(argv)} exited {process.returncode}:\n{text[-2000:]}")
    lines = [line for line in text.splitlines() if line.startswith("requests=") or line.strip().isdigit()]
    count = int(lines[-1].removeprefix("requests=")) if lines else 0
    return Run(seconds, usage.ru_maxrss / 1024, count, text)


def vault_state(env: dict[str, str], *args: str) -> Run:
    return measured([PY, "-m", "benchmarks.counted", *args], env)


def floor(env: dict[str, str], mode: str, size: AnySize, parallelism: int, ca: Path) -> Run:
    return measured([PY, "-m", "benchmarks.floor", mode, size.name, str(parallelism), str(ca)], env)


def send_all(server: DevServer, writes: list[Write]) -> None:
    with requests.Session() as session:
        for w in writes:
            session.request(w.method, f"{server.address}/v1/{w.path}", json=w.body,
                            headers={"X-Vault-Token": server.token}, timeout=10).raise_for_status()


def workdir_for(layout: Layout) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"vault-state-bench-{layout.size.name}-"))
    shutil.copy(ROOT / "examples" / "ca.crt", work / "ca.crt")
    (work / "state.yaml").write_text(layout.state_yaml())
    (work / "policies").mkdir()
    for i in range(layout.size.policies):
        (work / "policies" / f"app-{i}.hcl").write_text(layout.policy_text(i))
    return work


AnySize = Size | EngineSize | NamespaceSize


@dataclass
class SizeResult:
    size: AnySize
    series: dict[str, Series] = field(default_factory=dict)
    cli_seconds: float = 0.0
    cli_commands: int = 0
    cli_note: str = ""
    extra: list[str] = field(default_factory=list)
    """Scenarios: vault-state's no-op plan requests that the floor does not send (`METHOD NS PATH`)."""
    missing: list[str] = field(default_factory=list)
    """Scenarios: the floor's requests that vault-state's no-op plan did not send."""
    repeated: int = 0
    """Scenarios: requests of the no-op plan that repeat an earlier one (same method, namespace, path)."""

    def add(self, name: str, run: Run) -> None:
        self.series.setdefault(name, Series()).runs.append(run)


def one_repetition(result: SizeResult, layout: Layout, work: Path, parallelism: int) -> None:
    state, ca, par = str(work / "state.yaml"), work / "ca.crt", ["--parallelism", str(parallelism)]
    server = DevServer().start()
    try:
        env = {**os.environ, **server.env()}
        result.add("vs apply", vault_state(env, "apply", "-f", state, "--auto-approve", *par))
        noop = vault_state(env, "plan", "-f", state, "--detailed-exitcode", *par)
        assert "No changes" in noop.output, noop.output[-500:]
        result.add("vs plan", noop)
        send_all(server, layout.drift())
        result.add("vs drift", vault_state(env, "plan", "-f", state, *par))
    finally:
        server.stop()
    server = DevServer().start()
    try:
        env = {**os.environ, **server.env()}
        result.add("floor apply", floor(env, "apply", layout.size, parallelism, ca))
        result.add("floor plan", floor(env, "plan", layout.size, parallelism, ca))
        send_all(server, layout.drift())
        result.add("floor drift", floor(env, "plan", layout.size, parallelism, ca))
    finally:
        server.stop()


def scenario_workdir(layout: ScenarioLayout) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"vault-state-bench-{layout.size.name}-"))
    shutil.copy(ROOT / "examples" / "ca.crt", work / "ca.crt")
    (work / "state.yaml").write_text(layout.state_yaml())
    return work


def scenario_repetition(result: SizeResult, layout: ScenarioLayout, work: Path, parallelism: int,
                        log: Path | None) -> None:
    """Apply from empty and a no-op plan, vault-state then the floor, each on a fresh server."""
    state, ca, par = str(work / "state.yaml"), work / "ca.crt", ["--parallelism", str(parallelism)]
    server = DevServer().start()
    try:
        env = {**os.environ, **server.env(), DB_PASSWORD_ENV: "bench"}
        result.add("vs apply", vault_state(env, "apply", "-f", state, "--auto-approve", *par))
        plan_env = {**env, "BENCH_REQUEST_LOG": str(log)} if log else env
        noop = vault_state(plan_env, "plan", "-f", state, "--detailed-exitcode", *par)
        assert "No changes" in noop.output, noop.output[-500:]
        result.add("vs plan", noop)
    finally:
        server.stop()
    server = DevServer().start()
    try:
        env = {**os.environ, **server.env()}
        result.add("floor apply", floor(env, "apply", layout.size, parallelism, ca))
        result.add("floor plan", floor(env, "plan", layout.size, parallelism, ca))
    finally:
        server.stop()
    if log:
        compare_requests(result, layout, log)


def compare_requests(result: SizeResult, layout: ScenarioLayout, log: Path) -> None:
    """vault-state's logged no-op plan requests against the floor's, as multisets."""
    from collections import Counter

    ours = Counter(log.read_text().splitlines())
    raw = Counter(f"{r.method} {r.namespace or '-'} {r.path}"
                  for phase in layout.plan_phases() for task in phase for r in task)
    result.extra = sorted((ours - raw).elements())
    result.missing = sorted((raw - ours).elements())
    result.repeated = sum(n - 1 for n in ours.values())


def run_scenario(name: str, parallelism: int, began: float) -> SizeResult:
    layout = scenario_layout(name)
    result = SizeResult(layout.size)
    work = scenario_workdir(layout)
    for rep in range(REPS.get(name, 1)):
        print(f"[{time.perf_counter() - began:6.1f}s] {name}: repetition {rep + 1}", file=sys.stderr)
        scenario_repetition(result, layout, work, parallelism, work / "requests.log" if rep == 0 else None)
    shutil.rmtree(work, ignore_errors=True)
    return result


def cli_seconds(layout: Layout, work: Path, reps: int) -> tuple[float, int]:
    """Median wall time of the whole hand-run script (one `bao` per object) on a fresh server."""
    commands = layout.cli_commands(str(work / "ca.crt"), str(work / "policies"))
    script = work / "by-hand.sh"
    script.write_text(shell_script(bao_binary(), commands))
    times = []
    for _ in range(reps):
        server = DevServer().start()
        try:
            env = {**os.environ, "BAO_ADDR": server.address, "BAO_TOKEN": server.token}
            times.append(measured(["sh", str(script)], env).seconds)
        finally:
            server.stop()
    return statistics.median(times), len(commands)


def parallelism_sweep(layout: Layout, work: Path) -> list[tuple[int, float, float]]:
    """No-op plan seconds of vault-state and of the floor at each parallelism, on one server."""
    server = DevServer().start()
    rows = []
    try:
        env = {**os.environ, **server.env()}
        state = str(work / "state.yaml")
        vault_state(env, "apply", "-f", state, "--auto-approve")
        for n in SWEEP:
            ours = statistics.median(vault_state(env, "plan", "-f", state, "--parallelism", str(n)).seconds
                                     for _ in range(2))
            raw = statistics.median(floor(env, "plan", layout.size, n, work / "ca.crt").seconds for _ in range(2))
            rows.append((n, ours, raw))
    finally:
        server.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--parallelism", type=int, default=DEFAULT_PARALLELISM)
    parser.add_argument("--no-sweep", action="store_true", help="skip the parallelism sweep")
    parser.add_argument("--scenarios", default="engines,ns-50k",
                        help="scenario sizes (benchmarks/scenarios.py), comma-separated; '' for none")
    args = parser.parse_args()
    began = time.perf_counter()
    results: list[SizeResult] = []
    sample_seconds = sample_commands = 0.0
    for size in (s for s in SIZES if s.name in args.sizes.split(",")):
        layout, result = Layout(size), SizeResult(size)
        work = workdir_for(layout)
        for rep in range(REPS[size.name]):
            print(f"[{time.perf_counter() - began:6.1f}s] {size.name}: repetition {rep + 1}", file=sys.stderr)
            one_repetition(result, layout, work, args.parallelism)
        full_commands = len(layout.cli_commands("ca", "dir"))
        if size.name == "small":
            print(f"[{time.perf_counter() - began:6.1f}s] {size.name}: the CLI script", file=sys.stderr)
            result.cli_seconds, result.cli_commands = cli_seconds(layout, work, reps=2)
        else:
            if not sample_commands:
                print(f"[{time.perf_counter() - began:6.1f}s] the CLI sample", file=sys.stderr)
                sample = Layout(CLI_SAMPLE)
                sample_seconds, sample_commands = cli_seconds(sample, workdir_for(sample), reps=2)
            result.cli_commands = full_commands
            result.cli_seconds = sample_seconds / sample_commands * full_commands
            result.cli_note = f"extrapolated from {int(sample_commands)} commands"
        results.append(result)
        shutil.rmtree(work, ignore_errors=True)
    scenarios = [run_scenario(name, args.parallelism, began) for name in args.scenarios.split(",") if name]
    sweep: list[tuple[int, float, float]] = []
    if not args.no_sweep and results:
        size = next(s for s in SIZES if s.name == ("large" if "large" in args.sizes else args.sizes.split(",")[-1]))
        print(f"[{time.perf_counter() - began:6.1f}s] parallelism sweep on {size.name}", file=sys.stderr)
        layout = Layout(size)
        work = workdir_for(layout)
        sweep = parallelism_sweep(layout, work)
        shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - began
    from benchmarks.report import write_plot, write_results

    write_results(HERE / "RESULTS.md", results, sweep, args.parallelism, total, machine(), scenarios)
    if results:
        write_plot(HERE / "results.png", results, scenarios)
    print((HERE / "RESULTS.md").read_text())
    return 0


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


if __name__ == "__main__":
    raise SystemExit(main())
