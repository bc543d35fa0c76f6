"""`vault-state ARGS`, run as the CLI runs it, but printing the number of HTTP requests it made
(counted at the gateway, across all worker threads) as the last line of stderr.

    python -m benchmarks.counted plan -f state.yaml
"""

from __future__ import annotations

import sys

from vault_state.cli import main
from vault_state.vault.gateway import Gateway

made: list[Gateway] = []
_init = Gateway.__init__


def _counting_init(self: Gateway, *args: object, **kwargs: object) -> None:
    _init(self, *args, **kwargs)  # type: ignore[arg-type]
    made.append(self)


if __name__ == "__main__":
    Gateway.__init__ = _counting_init  # type: ignore[method-assign]
    code = main(sys.argv[1:])
    print(f"requests={sum(g.requests_made for g in made)}", file=sys.stderr)
    raise SystemExit(code)
