"""`vault-state ARGS`, run as the CLI runs it, but printing the number of HTTP requests it made
(counted at the gateway, across all worker threads) as the last line of stderr.

    python -m benchmarks.counted plan -f state.yaml

With BENCH_REQUEST_LOG=FILE set, it also writes every request it sent to FILE, one
`METHOD NAMESPACE PATH` a line (NAMESPACE `-` at the root), to compare with the floor's.
"""

from __future__ import annotations

import os
import sys
import threading

from vault_state.cli import main
from vault_state.vault.gateway import Gateway

made: list[Gateway] = []
sent: list[str] = []
_lock = threading.Lock()
_init = Gateway.__init__
_send = Gateway._send


def _counting_init(self: Gateway, *args: object, **kwargs: object) -> None:
    _init(self, *args, **kwargs)  # type: ignore[arg-type]
    made.append(self)


def _logging_send(self: Gateway, method: str, path: str, kwargs: dict, namespace: str) -> object:
    with _lock:
        sent.append(f"{method} {'/'.join(p for p in (self.connection.namespace, namespace) if p) or '-'} {path}")
    return _send(self, method, path, kwargs, namespace)


if __name__ == "__main__":
    Gateway.__init__ = _counting_init  # type: ignore[method-assign]
    log = os.environ.get("BENCH_REQUEST_LOG")
    if log:
        Gateway._send = _logging_send  # type: ignore[method-assign,assignment]
    code = main(sys.argv[1:])
    if log:
        with open(log, "w", encoding="utf-8") as f:
            f.write("".join(f"{line}\n" for line in sent))
    print(f"requests={sum(g.requests_made for g in made)}", file=sys.stderr)
    raise SystemExit(code)
