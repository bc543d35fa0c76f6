"""Parse a `vault-state ...` command line written outside Python (manifests, CI files, docs) with the CLI's parser."""

from __future__ import annotations

import argparse

import pytest

from vault_state.cli import build_parser


def parse_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> argparse.Namespace | None:
    """The parsed arguments of `vault-state ARGV`; a usage error fails the test with argparse's message.
    None for `--help`/`--version` (they exit 0)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            pytest.fail(f"vault-state {' '.join(argv)}: {capsys.readouterr().err.strip()}")
    return None
