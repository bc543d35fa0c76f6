"""Reads the policy files a state declares, when it is loaded: each `policies: {NAME: {file: PATH}}`
and each file a `policy_files:` pattern matches (one policy per file, named by its file name).

Paths and patterns are relative to the file that declares them (a peer file of `-f DIR`, an
overlay), as `{file:}` value sources are. Every problem is a located error at the `file:` key or
the pattern; problems inside a policy's text are located in its file by the semantic checks.
"""

from __future__ import annotations

from pathlib import Path

from vault_state.errors import Diagnostic
from vault_state.spec.models import Sections, StateFile, walk_sections
from vault_state.spec.policies import PolicyFile, policy_file_path
from vault_state.spec.positions import SourceMap
from vault_state.spec.reads import note_file, note_pattern
from vault_state.spec.sources import MAX_SOURCE_BYTES
from vault_state.spec.types import check_policy_key

SUFFIXES = (".hcl", ".json")


def read_policy_files(state: StateFile, source: SourceMap, base_dir: Path) -> list[Diagnostic]:
    """Give every `{file:}` policy its file's text and add a policy for each file `policy_files:`
    matches (namespaces included); the problems found."""
    problems = []
    for _, sections, prefix in walk_sections(state):
        for name, spec in sections.policies.items():
            if not isinstance(spec, PolicyFile):
                continue
            loc = (*prefix, "policies", name, "file")
            path = policy_file_path(source.base_dir_at(loc) or base_dir, spec.file)
            text, problem = _read(path, spec.file)
            note_file(path)  # watch polls it
            if problem:
                problems.append(Diagnostic(source.locate(loc), f"policy '{name}': {problem}"))
            else:
                spec.loaded(text, str(path))
        problems += _expand(sections, source, prefix, base_dir)
    return problems


def _expand(sections: Sections, source: SourceMap, prefix: tuple[str, ...], base_dir: Path) -> list[Diagnostic]:
    """Add the policies `sections.policy_files` matches to `sections.policies`."""
    problems = []
    declared = {name.lower(): str(source.locate((*prefix, "policies", name), key=True)) for name in sections.policies}
    for index, pattern in enumerate(sections.policy_files):
        loc: tuple[str | int, ...] = (*prefix, "policy_files", index)
        where = source.locate(loc)
        base = source.base_dir_at(loc) or base_dir
        matches, problem = _matches(base, pattern)
        note_pattern(base, pattern, matches)  # watch polls it: a file added or removed changes the policies
        if problem:
            problems.append(Diagnostic(where, f"policy_files: {problem}"))
        for path in matches:
            name, shown = path.stem, str(path)
            try:
                check_policy_key(name)
            except ValueError as exc:
                problems.append(Diagnostic(where, f"policy_files: {shown}: {exc}"))
                continue
            if name.lower() in declared:
                problems.append(Diagnostic(where, f"policy_files: {shown} is policy '{name}', which is also "
                                                  f"declared at {declared[name.lower()]}"))
                continue
            text, problem = _read(path, shown)
            note_file(path)
            if problem:
                problems.append(Diagnostic(where, f"policy_files: {problem}"))
                continue
            spec = PolicyFile(file=str(path.absolute()))
            spec.loaded(text, shown, where)
            sections.policies[name] = spec  # the model is frozen, its dicts are not: as if declared by hand
            declared[name.lower()] = f"{where} ({shown})"
    return problems


def _matches(base: Path, pattern: str) -> tuple[list[Path], str]:
    """The policy files `pattern` names under `base` (a directory: its *.hcl), sorted; or what is wrong.
    A pattern that matches nothing is an error: with prune, a typo would delete every policy."""
    if Path(pattern).is_absolute():
        return [], f"'{pattern}' is absolute; write it relative to the state file that declares it"
    if (base / pattern).is_dir():
        pattern = f"{pattern.rstrip('/')}/*.hcl"
    try:
        found = sorted(p for p in base.glob(pattern) if p.suffix in SUFFIXES and p.is_file())
    except ValueError as exc:  # an invalid pattern, such as '**x'
        return [], f"invalid pattern '{pattern}': {exc}"
    if not found:
        return [], f"'{pattern}' matches no .hcl or .json file (looked in {base.resolve()})"
    return found, ""


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
