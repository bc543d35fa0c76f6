"""Where a no-op plan's time goes, phase by phase, in one process (VAULT_ADDR/VAULT_TOKEN set).

    python -m benchmarks.phases STATE_FILE PARALLELISM      prints one JSON object of seconds

plus, for each phase, `<phase> peak MB`: the process's peak RSS at the end of that phase.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

START = time.perf_counter()

from vault_state.cli import main as _cli  # noqa: E402,F401  (import cost is a phase)
from vault_state.desired import build_desired  # noqa: E402
from vault_state.lint import lint_state  # noqa: E402
from vault_state.plan.planner import plan  # noqa: E402
from vault_state.render.json import plan_document  # noqa: E402
from vault_state.render.text import plan_lines  # noqa: E402
from vault_state.spec.loader import load_state  # noqa: E402
from vault_state.spec.semantics import check_policy_references  # noqa: E402
from vault_state.vault.connection import connection_from  # noqa: E402
from vault_state.vault.gateway import Gateway  # noqa: E402
from vault_state.vault.reader import read_live  # noqa: E402


def main(state_file: str, parallelism: int) -> dict[str, float]:
    from pathlib import Path

    times: dict[str, float] = {"import": time.perf_counter() - START}

    def lap(name: str, began: float) -> float:
        now = time.perf_counter()
        times[name] = now - began
        times[f"{name} peak MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return now

    t = time.perf_counter()
    loaded = load_state(Path(state_file))
    t = lap("load and check the file", t)
    desired = build_desired(loaded, os.environ)
    t = lap("desired", t)
    gateway = Gateway(connection_from(os.environ), parallelism=parallelism)
    live = read_live(gateway, desired, loaded.state.prune, parallelism)
    t = lap("read the server", t)
    known = {rid.path for rid in live if rid.kind == "policy"}
    lint_state(loaded.state, loaded.source, references=False)
    check_policy_references(loaded.state, loaded.source, known=known)
    t = lap("lint", t)
    the_plan = plan(desired, live, loaded.state.prune)
    t = lap("plan", t)
    plan_lines(plan_document(the_plan))
    lap("render", t)
    return times


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
