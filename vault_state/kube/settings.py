"""How to reach the cluster (environment and --kube-context), and a connector that connects on first use.

Importing this module does not import the `kubernetes` package: commands that never touch the
cluster do not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vault_state.kube.cluster import Cluster


@dataclass(frozen=True)
class KubeSettings:
    """Where the cluster connection comes from: the environment and the --kube-context flag."""

    env: Mapping[str, str]
    context: str | None = None


def connector(settings: KubeSettings) -> Callable[[], Cluster]:
    """A function that connects (as kubectl would) on first use and then returns the same Cluster."""
    made: list[Cluster] = []
    failed: list[Exception] = []

    def get() -> Cluster:
        if failed:  # the same answer for every value that needs the cluster, without retrying
            raise failed[0]
        if not made:
            from vault_state.kube.cluster import connect

            try:
                made.append(connect(settings))
            except Exception as exc:
                failed.append(exc)
                raise
        return made[0]

    return get
