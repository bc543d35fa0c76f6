"""The benchmark's outputs: the Markdown table of RESULTS.md and the time-against-size plot."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.run import SizeResult

TARGETS = """\
Targets on the 5,000-object state: no-op plan within 1.5x of the floor; apply from empty at
least 20x faster than the CLI script; no-op plan request count equal to the floor's; peak RSS
under 200 MB."""


def _row(r: SizeResult, what: str, ours: str, raw: str, cli: str = "") -> str:
    vs, fl = r.series[ours], r.series[raw]
    cli_cells = ["-", "-"]
    if cli:
        cli_cells = [f"{r.cli_seconds:.1f} ({r.cli_commands} cmds{', ' + r.cli_note if r.cli_note else ''})",
                     f"{r.cli_seconds / vs.median:.0f}x"]
    return (
        f"| {r.size.name} ({r.size.objects}) | {what} | {vs.median:.2f} ({vs.spread}) | {fl.median:.2f} ({fl.spread}) "
        f"| {vs.median / fl.median:.2f}x | {cli_cells[0]} | {cli_cells[1]} | {vs.requests} / {fl.requests} "
        f"| {vs.rss:.0f} / {fl.rss:.0f} |"
    )


def write_results(path: Path, results: list[SizeResult], sweep: list[tuple[int, float, float]],
                  parallelism: int, total: float, machine: str, scenarios: list[SizeResult] | None = None) -> None:
    """The base table and the scenarios' table; a part not measured in this run (no sizes, or no
    scenarios) keeps what the file had."""
    old = path.read_text() if path.exists() else ""
    old_base, old_scenarios = _old_parts(old)
    base = _base(results, sweep, parallelism, total, machine) if results else old_base
    part = _scenarios(scenarios, parallelism, total, machine) if scenarios else old_scenarios
    path.write_text(base + (SCENARIOS_MARKER + part if part else "") + NOTES_MARKER + _kept_notes(path))


SCENARIOS_MARKER = "\n<!-- scenarios: rewritten by make bench when it runs them -->\n"


def _old_parts(text: str) -> tuple[str, str]:
    head = text.split(NOTES_MARKER, 1)[0]
    base, _, scenarios = head.partition(SCENARIOS_MARKER)
    return base, scenarios


def _base(results: list[SizeResult], sweep: list[tuple[int, float, float]], parallelism: int, total: float,
          machine: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.date.today().isoformat()}: {machine}; OpenBao dev server "
        f"(in-memory storage) on the same host; `--parallelism {parallelism}` for vault-state and the floor; "
        f"whole run {total / 60:.1f} minutes. Times are seconds of wall time per command, process start included, "
        "median (min-max) of the repetitions (small 5, medium 3, large 3); each repetition uses fresh servers.",
        "",
        "| size (objects) | operation | vault-state s | floor s | vault-state / floor | CLI script s | "
        "CLI / vault-state | requests (vault-state / floor) | peak RSS MB (vault-state / floor) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(_row(r, "apply from empty", "vs apply", "floor apply", cli="yes"))
        lines.append(_row(r, "no-op plan", "vs plan", "floor plan"))
        lines.append(_row(r, "plan after 1% drift", "vs drift", "floor drift"))
    if sweep:
        lines += ["", f"No-op plan seconds against `--parallelism` ({results[-1].size.name} state, median of 2):", "",
                  "| parallelism | vault-state s | floor s |", "|---|---|---|"]
        lines += [f"| {n} | {ours:.2f} | {raw:.2f} |" for n, ours, raw in sweep]
    lines += ["", "![time against size](results.png)", "", TARGETS, ""]
    lines += _verdicts(results)
    return "\n".join(lines) + "\n"


SCENARIO_TARGETS = """\
Targets (issues 11 and 12): the no-op plan of the engines' configuration (about 5,000 objects) within
1.5x of the floor, one read per object, each path once; the no-op plan of 50,000 objects over 100
namespaces within 1.5x of the floor, peak RSS under 500 MB."""


def _scenarios(scenarios: list[SizeResult], parallelism: int, total: float, machine: str) -> str:
    lines = [
        "## Scenarios: engines' configuration, namespaces",
        "",
        f"Written by `make bench` on {datetime.date.today().isoformat()}: {machine}; `--parallelism {parallelism}`; "
        f"whole run {total / 60:.1f} minutes. Median (min-max) seconds of the repetitions, each on fresh servers.",
        "",
        "| scenario (objects) | operation | vault-state s | floor s | vault-state / floor | "
        "requests (vault-state / floor) | peak RSS MB (vault-state / floor) | repetitions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in scenarios:
        for what, ours, raw in (("apply from empty", "vs apply", "floor apply"),
                                ("no-op plan", "vs plan", "floor plan")):
            vs, fl = r.series[ours], r.series[raw]
            lines.append(
                f"| {r.size.name} ({r.size.objects}) | {what} | {vs.median:.2f} ({vs.spread}) | "
                f"{fl.median:.2f} ({fl.spread}) | {vs.median / fl.median:.2f}x | {vs.requests} / {fl.requests} | "
                f"{vs.rss:.0f} / {fl.rss:.0f} | {len(vs.runs)} |"
            )
    lines += ["", "No-op plan requests, logged one by one and compared with the floor's:", ""]
    for r in scenarios:
        extra = ", ".join(f"`{e}`" for e in r.extra[:5]) + (" ..." if len(r.extra) > 5 else "")
        missing = ", ".join(f"`{e}`" for e in r.missing[:5]) + (" ..." if len(r.missing) > 5 else "")
        lines.append(f"- {r.size.name}: {r.repeated} repeated; {len(r.extra)} not in the floor"
                     f"{' (' + extra + ')' if extra else ''}; {len(r.missing)} of the floor's not sent"
                     f"{' (' + missing + ')' if missing else ''}.")
    lines += ["", SCENARIO_TARGETS, "", "Results against the targets:", ""]
    for r in scenarios:
        ratio = r.series["vs plan"].median / r.series["floor plan"].median
        plan_rss, apply_rss = r.series["vs plan"].rss, r.series["vs apply"].rss
        checks = [(f"{r.size.name} ({r.size.objects} objects): no-op plan {ratio:.3f}x the floor (target ≤ 1.5x)",
                   ratio <= 1.5)]
        if r.size.name.startswith("ns-"):
            checks.append((f"{r.size.name}: peak RSS {plan_rss:.0f} MB for the no-op plan, {apply_rss:.0f} MB for "
                           "the apply from empty (target < 500 MB)", max(plan_rss, apply_rss) < 500))
        lines += [f"- {'met' if ok else 'MISSED'}: {text}" for text, ok in checks]
    return "\n".join(lines) + "\n"


NOTES_MARKER = "\n<!-- notes: everything below is kept when make bench rewrites the table above -->\n"


def _kept_notes(path: Path) -> str:
    if not path.exists() or NOTES_MARKER not in path.read_text():
        return ""
    return path.read_text().split(NOTES_MARKER, 1)[1]


def _verdicts(results: list[SizeResult]) -> list[str]:
    large = next((r for r in results if r.size.name == "large"), None)
    if large is None:
        return []
    s = large.series
    plan_ratio = s["vs plan"].median / s["floor plan"].median
    cli_ratio = large.cli_seconds / s["vs apply"].median
    rss = max(x.rss for name, x in s.items() if name.startswith("vs"))
    checks = [
        (f"no-op plan {plan_ratio:.2f}x the floor (target ≤ 1.5x)", plan_ratio <= 1.5),
        (f"apply from empty {cli_ratio:.0f}x faster than the CLI script (target ≥ 20x)", cli_ratio >= 20),
        (f"no-op plan requests {s['vs plan'].requests} vs floor {s['floor plan'].requests} (target: equal)",
         s["vs plan"].requests == s["floor plan"].requests),
        (f"peak RSS {rss:.0f} MB (target < 200 MB)", rss < 200),
    ]
    verdicts = [f"- {'met' if ok else 'MISSED'}: {text}" for text, ok in checks]
    return ["Results against the targets (large):", "", *verdicts]


def write_plot(path: Path, results: list[SizeResult], scenarios: list[SizeResult] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r.size.objects for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(sizes, [r.cli_seconds for r in results], "o-", color="tab:red", label="bao CLI script")
    left.plot(sizes, [r.series["vs apply"].median for r in results], "o-", color="tab:blue", label="vault-state apply")
    left.plot(sizes, [r.series["floor apply"].median for r in results], "o--", color="tab:gray", label="raw HTTP floor")
    left.set_title("apply from an empty server")
    right.plot(sizes, [r.series["vs plan"].median for r in results], "o-", color="tab:blue",
               label="vault-state no-op plan")
    right.plot(sizes, [r.series["vs drift"].median for r in results], "s:", color="tab:cyan",
               label="vault-state plan, 1% drift")
    right.plot(sizes, [r.series["floor plan"].median for r in results], "o--", color="tab:gray", label="raw HTTP floor")
    for i, r in enumerate(scenarios or []):
        label = "scenarios: vault-state (top), floor" if i == 0 else None
        right.plot([r.size.objects] * 2, [r.series["vs plan"].median, r.series["floor plan"].median], "^-",
                   color="tab:green", label=label)
        right.annotate(r.size.name, (r.size.objects, r.series["vs plan"].median), textcoords="offset points",
                       xytext=(-10, 6), fontsize=8)
    right.set_title("no-op plan on a converged server")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("objects in the state file")
        ax.set_ylabel("seconds (median, wall)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def replot(results_md: Path, png: Path) -> None:
    """Redraw the plot from the medians recorded in RESULTS.md (both tables), for a run that
    measured only a part: `python -m benchmarks.report`."""
    import re

    from benchmarks.layout import SIZES
    from benchmarks.run import Run, SizeResult
    from benchmarks.scenarios import scenario_layout

    names = {"apply from empty": ("vs apply", "floor apply"), "no-op plan": ("vs plan", "floor plan"),
             "plan after 1% drift": ("vs drift", "floor drift")}
    row = re.compile(r"^\| ([\w-]+) \((\d+)\) \| ([^|]+?) \| ([\d.]+) \([^)]*\) \| ([\d.]+) \([^)]*\) "
                     r"\| [^|]+ \| ([^|]+) \|")
    base: dict[str, SizeResult] = {}
    scenarios: dict[str, SizeResult] = {}
    for line in results_md.read_text().splitlines():
        m = row.match(line)
        if not m or m[3] not in names:
            continue
        name, what, ours, raw, cli = m[1], m[3], float(m[4]), float(m[5]), m[6].strip()
        sizes = {s.name: s for s in SIZES}
        target = base if name in sizes else scenarios
        result = target.setdefault(name, SizeResult(sizes[name] if name in sizes else scenario_layout(name).size))
        result.add(names[what][0], Run(ours, 0, 0, ""))
        result.add(names[what][1], Run(raw, 0, 0, ""))
        if what == "apply from empty" and name in sizes:
            result.cli_seconds = float(cli.split()[0])
    write_plot(png, list(base.values()), list(scenarios.values()))


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    replot(here / "RESULTS.md", here / "results.png")
