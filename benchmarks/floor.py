"""The floor: the minimum raw HTTP requests for the same reads and writes, written plainly with
`requests` (one keep-alive Session per worker thread, the same parallelism as vault-state).

    python -m benchmarks.floor {apply,plan} SIZE PARALLELISM CA_FILE   (VAULT_ADDR, VAULT_TOKEN set)

SIZE is one of the base sizes (benchmarks.layout) or of the scenarios (benchmarks.scenarios: the
engines' configuration, namespaces); a request inside a namespace sends X-Vault-Namespace, as
vault-state does. Prints the number of requests made.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from benchmarks.layout import SIZES, Layout, Write
from benchmarks.scenarios import scenario_layout

ADDR, TOKEN = os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"]
_local = threading.local()
_count = 0
_lock = threading.Lock()


def session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.headers["X-Vault-Token"] = TOKEN
    return _local.session


def send(method: str, path: str, body: object = None, namespace: str = "") -> dict:
    global _count
    with _lock:
        _count += 1
    headers = {"X-Vault-Namespace": namespace} if namespace else None
    response = session().request(method, f"{ADDR}/v1/{path}", json=body, headers=headers, timeout=30)
    if response.status_code >= 400 and response.status_code != 404:
        raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
    return response.json() if response.content else {}


def main(mode: str, size_name: str, parallelism: int, ca_file: str) -> None:
    if size_name not in {s.name for s in SIZES}:
        return scenario(mode, size_name, parallelism, ca_file)
    layout = Layout(next(s for s in SIZES if s.name == size_name))
    lists, gets = layout.reads()
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        if mode == "apply":  # what a plan of an empty server reads, then the writes stage by stage
            for method, path in lists[:3]:
                send(method, path)
            with open(ca_file, encoding="utf-8") as f:
                ca = f.read()
            for stage in layout.write_stages(ca):
                list(pool.map(lambda w: send(w.method, w.path, w.body), stage))
        else:  # a plan: the lists, then every object's read
            for method, path in lists:
                send(method, path)
            list(pool.map(lambda p: send("GET", p), gets))
    print(_count)


def scenario(mode: str, size_name: str, parallelism: int, ca_file: str) -> None:
    """A scenario's phases one after the other; a phase's tasks up to `parallelism` at a time, each
    task's requests in order."""
    layout = scenario_layout(size_name)
    with open(ca_file, encoding="utf-8") as f:
        ca = f.read()
    phases = layout.plan_phases() if mode == "plan" else layout.apply_phases(ca)
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        for phase in phases:
            list(pool.map(lambda task: [send(r.method, r.path, r.body, r.namespace) for r in task], phase))
    print(_count)


def apply_writes(writes: list[Write]) -> None:
    for w in writes:
        send(w.method, w.path, w.body)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
