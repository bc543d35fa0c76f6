"""Reads the .hcl files that `policies: {NAME: {file: PATH}}` names, when the state file is loaded.

A path is relative to the file that declares the policy (a peer file of `-f DIR`, an overlay), as
`{file:}` value sources are. A file that cannot be read is a located error at its `file:` key.
"""

from __future__ import annotations

from pathlib import Path

from vault_state.errors import Diagnostic
from vault_state.spec.models import StateFile, walk_sections
from vault_state.spec.policies import PolicyFile, policy_file_path
from vault_state.spec.positions import SourceMap
from vault_state.spec.sources import MAX_SOURCE_BYTES


def read_policy_files(state: StateFile, source: SourceMap, base_dir: Path) -> list[Diagnostic]:
    """Give every `{file:}` policy in the state (namespaces included) its file's text; the problems."""
    problems = []
    for _, sections, prefix in walk_sections(state):
        for name, spec in sections.policies.items():
            if not isinstance(spec, PolicyFile):
                continue
            loc = (*prefix, "policies", name, "file")
            path = policy_file_path(source.base_dir_at(loc) or base_dir, spec.file)
            text, problem = _read(path, spec.file)
            if problem:
                problems.append(Diagnostic(source.locate(loc), f"policy '{name}': {problem}"))
            else:
                spec.loaded(text, str(path))
    return problems


def _read(path: Path, file: str) -> tuple[str, str]:
    """The file's text and '', or '' and what is wrong (the words of `{file:}` value sources)."""
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return "", f"file {file} is larger than 1 MB"
        return path.read_text(encoding="utf-8"), ""
    except FileNotFoundError:
        return "", f"file {file} not found (looked at {path.resolve()})"
    except IsADirectoryError:
        return "", f"file {file} is a directory (looked at {path.resolve()})"
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else "not UTF-8 text"
        return "", f"cannot read file {file}: {reason}"
