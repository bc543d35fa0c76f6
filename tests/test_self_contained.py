"""The repository is self-contained: no tracked file reads a directory beside the repository.

A user's fresh clone has nothing next to it, so the build, the tests and the docs must not name the
team's common directory beside it. Data the tests need is copied in under tests/data/ with its source and license.
.ci/run also runs the whole suite from a copy in an empty temporary directory (see its comments).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Built from parts so that this file (and any scanner reading it) does not take it for a reference.
NAME = "sha" + "red"
OUTSIDE = re.compile("|".join([r"\.\./" + NAME, NAME + "/data", r"""["']""" + NAME + r"""["']"""]))
# Directories a work tree holds that are not part of the repository (.gitignore).
UNTRACKED = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "build"}


def tracked_files() -> list[Path]:
    """The tracked files; in a copy without .git (as .ci/run makes), every file but the ignored ones."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(["git", "-c", f"safe.directory={ROOT}", "ls-files", "-z"], cwd=ROOT,
                                capture_output=True, check=True).stdout.decode()
        return [ROOT / name for name in listed.split("\0") if name]
    return [p for p in ROOT.rglob("*") if p.is_file() and not UNTRACKED & set(p.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in p.parts)]


def references_outside(text: str) -> list[str]:
    return [f"{number}: {line.strip()}" for number, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]


@pytest.mark.parametrize("line, found", [
    (f'ESO_CRDS = Path(__file__).parents[1] / ".." / "{NAME}" / "data" / "eso"', True),
    (f"CRDS := ../{NAME}/data/eso", True),
    (f"see ../{NAME}/STYLE.md", True),
    (f'path "apps/data/{NAME}/*" {{', False),
    (f"One cluster is {NAME} by these tests", False),
])
def test_the_pattern_finds_paths_to_the_common_directory(line: str, found: bool) -> None:
    assert bool(references_outside(line)) is found


def test_no_tracked_file_names_a_directory_beside_the_repository() -> None:
    files = tracked_files()
    assert ROOT / "tests" / "data" / "eso" / "SOURCE.md" in files, "tests/data/eso must be in the repository"
    found = {}
    for path in files:
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (for example benchmarks/results.png)
        if lines := references_outside(text):
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}


def test_the_eso_crds_are_carried_with_their_source_and_license() -> None:
    data = ROOT / "tests" / "data" / "eso"
    source = (data / "SOURCE.md").read_text()
    assert "external-secrets/external-secrets" in source
    assert "cc5bfbc2234ace9cb0caff4ea89c435cf517b27b" in source
    assert "Apache License" in (data / "LICENSE-Apache-2.0.txt").read_text()
    for kind in ("clustersecretstores", "secretstores", "externalsecrets"):
        assert (data / f"external-secrets.io_{kind}.yaml").stat().st_size > 10_000
