"""`vault-state validate` counts the objects of every kind the file declares, offline: the kinds come
from the registry, namespaces' objects count too, and no value source is read."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, write_state

from vault_state.counts import kind_words
from vault_state.kinds.registry import KINDS

EVERY_KIND = Path(__file__).parent / "data" / "every_kind.yaml"


def test_every_kind_of_the_registry_is_counted(offline_cli: Cli) -> None:
    result = offline_cli("validate", "-f", str(EVERY_KIND))  # PG_URL, ALICE_PASSWORD...: not set, not read
    assert (result.code, result.err) == (0, ""), result.err
    summary = result.out.removeprefix(f"{EVERY_KIND}: valid (").removesuffix(")\n")
    items = [item.split(" ", 1) for item in summary.split(", ")]
    counts = {kind.name: int(n) for kind, (n, _) in zip(KINDS, items, strict=True)}  # every kind, in apply order
    assert [words for _, words in items] == [kind_words(kind, n) for kind, n in counts.items()]
    assert counts["secrets_engine"] == 6 and counts["policy"] == 2  # one of them inside the namespace
    assert set(counts.values()) == {1, 2, 6}
    assert "6 secrets engines, " in summary and "2 policies, " in summary and "1 identity entity alias, " in summary


def test_a_file_without_objects_and_a_deleted_generic_path(offline_cli: Cli, tmp_path: Path) -> None:
    empty = write_state(tmp_path, "version: 1\nstack: team-a\n")
    assert offline_cli("validate", "-f", str(empty)).out == f"{empty}: valid (no objects)\n"
    # An entry asking for a deletion declares no object.
    gone = write_state(tmp_path, "version: 1\ngeneric:\n  sys/x: {delete: true}\n  sys/y: {data: {}}\n", "gone.yaml")
    assert offline_cli("validate", "-f", str(gone)).out == f"{gone}: valid (1 generic endpoint)\n"
