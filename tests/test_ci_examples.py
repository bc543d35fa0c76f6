"""examples/ci/ and .pre-commit-hooks.yaml, checked offline: valid against GitHub's and GitLab's schemas
(SchemaStore's, vendored in check-jsonschema), of the right shape, and every `vault-state ...` line in
them parses with the CLI's own parser."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.cli_lines import parse_line
from tests.test_docs_examples import simple_commands

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())  # YAML 1.2: GitHub's `on:` stays a string


@dataclass(frozen=True)
class Line:
    file: str
    job: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.job}:{self.text[:60]}"


def scripts() -> list[Line]:
    """Every shell line of every job, GitHub's `run:` and GitLab's `script:`."""
    found = []
    for name, job in load(GITHUB)["jobs"].items():
        for step in job["steps"]:
            found += [Line(GITHUB.name, name, line) for line in step.get("run", "").splitlines()]
    for name, job in load(GITLAB).items():
        if isinstance(job, dict) and "script" in job:
            found += [Line(GITLAB.name, name, line) for entry in job["script"] for line in entry.splitlines()]
    return found


def vault_state_commands() -> list[tuple[Line, list[str]]]:
    found = []
    for line in scripts():
        for words in simple_commands(line.text):
            if "vault-state" in words:
                found.append((line, words[words.index("vault-state") + 1:]))
    return found


CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
SCHEMAS = {GITHUB: "vendor.github-workflows", GITLAB: "vendor.gitlab-ci"}


def schema_check(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--color", "never", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_the_ci_file_matches_its_schema(path: Path) -> None:
    result = schema_check(path, SCHEMAS[path])
    assert (result.returncode, result.stdout.strip()) == (0, "ok -- validation done"), result.stdout


def test_the_schemas_refuse_a_misspelt_key(tmp_path: Path) -> None:
    bad = tmp_path / "gitlab-ci.yml"
    bad.write_text(GITLAB.read_text().replace("  script:\n", "  scripts:\n", 1))
    result = schema_check(bad, SCHEMAS[GITLAB])
    assert result.returncode == 1 and "'scripts' was unexpected" in result.stdout
    bad = tmp_path / "github.yml"
    bad.write_text(GITHUB.read_text().replace("    runs-on:", "    run-on:", 1))
    assert schema_check(bad, SCHEMAS[GITHUB]).returncode == 1


def test_the_ci_files_run_validate_lint_plan_and_apply() -> None:
    for file in (GITHUB.name, GITLAB.name):
        used = {argv[0] for line, argv in vault_state_commands() if line.file == file}
        assert used == {"validate", "lint", "plan", "apply"}, file
        (plan,) = [argv for line, argv in vault_state_commands() if line.file == file and argv[0] == "plan"]
        assert plan[plan.index("--format") + 1] == "markdown" and "--targets" in plan


@pytest.mark.parametrize("command", vault_state_commands(), ids=lambda c: c[0].id)
def test_every_vault_state_line_parses(command: tuple[Line, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    _line, argv = command
    parsed = parse_line(argv, capsys)
    assert parsed is not None and parsed.command == argv[0]
    if argv[0] == "apply":
        assert "--auto-approve" in argv, "CI has no terminal to answer the question"


def test_the_github_workflow_plans_pull_requests_comments_and_applies_on_merge() -> None:
    workflow = load(GITHUB)
    assert set(workflow["on"]) == {"pull_request", "push"} and workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}
    plan, apply = workflow["jobs"]["plan"], workflow["jobs"]["apply"]
    assert plan["if"] == "github.event_name == 'pull_request'" and apply["if"] == "github.event_name == 'push'"
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    for job in (plan, apply):
        assert job["container"]["image"] == image()
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step)
            if "uses" in step:
                assert re.fullmatch(r"actions/[\w-]+@v\d+", step["uses"]), step["uses"]
    post = next(step for step in plan["steps"] if step.get("uses", "").startswith("actions/github-script"))
    assert "readFileSync('plan.md'" in post["with"]["script"]
    assert any("> plan.md" in step.get("run", "") for step in plan["steps"])
    # Every token the targets need comes from a secret of the same name.
    for name, value in workflow["env"].items():
        assert value == "${{ secrets." + name + " }}"


def test_the_gitlab_pipeline_has_its_stages_jobs_and_needs() -> None:
    pipeline = load(GITLAB)
    jobs = {name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job}
    assert set(jobs) == {"validate", "plan", "comment", "apply"}
    assert pipeline["default"]["image"] == {"name": image(), "entrypoint": [""]}
    for name, job in jobs.items():
        assert job["stage"] in pipeline["stages"], name
        assert job.get("extends", ".on-merge-request") in pipeline, name
        for need in job.get("needs", []):
            assert need["job"] in jobs
    assert jobs["plan"]["artifacts"]["paths"] == ["plan.md"]
    assert '"body@plan.md"' in jobs["comment"]["script"][0]
    (rule,) = jobs["apply"]["rules"]
    assert rule["if"].startswith("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")


def image() -> str:
    """The image the deploy runs (deploy/kustomization.yaml's `images:`): CI runs the same one."""
    (entry,) = YAML(typ="safe").load((ROOT / "deploy" / "kustomization.yaml").read_text())["images"]
    return f"{entry['newName']}:{entry['newTag']}"


# --- pre-commit ------------------------------------------------------------------------------------


def test_the_pre_commit_hooks_exist_and_their_entries_parse(capsys: pytest.CaptureFixture[str]) -> None:
    hooks = load(HOOKS)
    assert [hook["id"] for hook in hooks] == ["vault-state-validate", "vault-state-lint"]
    for hook in hooks:
        assert set(hook) == {"id", "name", "description", "entry", "language", "pass_filenames", "files"}
        assert hook["language"] == "python" and (ROOT / "pyproject.toml").is_file()  # pre-commit pip-installs this repository
        assert hook["pass_filenames"] is False
        program, *argv = hook["entry"].split()
        assert program in PROJECT["scripts"]
        parsed = parse_line([*argv, "-f", "state/"], capsys)  # the user's `args:` follow the entry
        assert parsed is not None and parsed.command == hook["id"].removeprefix("vault-state-")
        pattern = re.compile(hook["files"])
        assert all(pattern.search(name) for name in ("state.yaml", "teams/a.yml", "policy.hcl", "ca.crt"))
        assert not pattern.search("README.md")
