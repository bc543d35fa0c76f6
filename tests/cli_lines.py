"""Parse a `vault-state ...` command line written outside Python (manifests, CI files, docs) with the CLI's parser.

Issue 14's commands and flags are built on several branches at once (fleet: --targets, --only,
--overlay, --keep-going; watch: watch, --metrics-file; reqpolicy: required-policy). A line that uses one
of them before its branch is merged is skipped, never passed: once the parser knows the name, the line
is parsed like any other.
"""

from __future__ import annotations

import argparse

import pytest

from vault_state.cli import build_parser

ISSUE_14 = {"watch", "required-policy", "--targets", "--only", "--overlay", "--keep-going", "--metrics-file",
            "--interval", "--listen", "--apply", "--name"}


def known_names() -> set[str]:
    """Every subcommand name and every option string the parser accepts, in any subcommand."""
    parser = build_parser()
    names = {option for action in parser._actions for option in action.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            names |= set(action.choices)
            names |= {o for sub in action.choices.values() for a in sub._actions for o in a.option_strings}
    return names


def unbuilt(argv: list[str]) -> set[str]:
    """The issue-14 names in ARGV that the parser does not know yet."""
    return {word.split("=")[0] for word in argv if word.split("=")[0] in ISSUE_14} - known_names()


def parse_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> argparse.Namespace | None:
    """The parsed arguments of `vault-state ARGV`; a usage error fails the test with argparse's message.
    None for `--help`/`--version` (they exit 0)."""
    if missing := unbuilt(argv):
        pytest.skip(f"vault-state {' '.join(argv)}: {', '.join(sorted(missing))} not merged yet (issue 14)")
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            pytest.fail(f"vault-state {' '.join(argv)}: {capsys.readouterr().err.strip()}")
    return None
