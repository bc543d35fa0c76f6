"""How many objects of each kind a state file declares, for `validate`'s summary, without a server
and without reading any value source: every kind of the registry counts its own objects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from vault_state.desired import build_desired
from vault_state.kinds.registry import KINDS
from vault_state.sensitive import Sensitive
from vault_state.spec.loader import LoadedState
from vault_state.spec.sources import Resolver
from vault_state.spec.types import SourceValue


@dataclass
class _Unread(Resolver):
    """A resolver that reads no environment variable, file or cluster: validate runs offline, and
    a count needs no value."""

    def resolve(self, value: SourceValue, loc: Sequence[str | int], *, secret: bool = False) -> str | Sensitive:
        if isinstance(value, str):
            return Sensitive(value) if secret else value
        return Sensitive("")


def declared_counts(loaded: LoadedState) -> dict[str, int]:
    """Kind name -> number of objects the file declares (namespaces included), in apply order;
    kinds with none are left out."""
    desired = build_desired(loaded, {}, _Unread(loaded.base_dir, {}, loaded.source))
    counts = Counter(rid.kind for rid, resource in desired.items() if not resource.absent)
    return {kind.name: counts[kind.name] for kind in KINDS if counts[kind.name]}


def counts_text(counts: dict[str, int]) -> str:
    """`1 secrets engine, 2 policies, ...` (the kinds' names in words), or `no objects`."""
    return ", ".join(f"{n} {kind_words(kind, n)}" for kind, n in counts.items()) or "no objects"


def kind_words(kind: str, n: int) -> str:
    words = "generic endpoint" if kind == "generic" else kind.replace("_", " ")
    if n == 1 or words.endswith("urls"):
        return words
    if words.endswith("alias"):
        return words + "es"
    return words[:-1] + "ies" if words.endswith("y") else words + "s"
