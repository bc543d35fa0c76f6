"""Every example in README.md and docs/*.md runs: the docs cannot drift from the code.

- A ```yaml block is a state file (`version: 1` is added when the block leaves it out) and must pass
  `vault-state validate`. A block of only `checks:` or `external_secrets:` refers to the guide's
  objects, so it is validated on top of examples/state.yaml. An ESO manifest (`apiVersion:
  external-secrets.io/...`) must match ESO's CRD, any other Kubernetes object (docs/gitops.md) its API
  schema or Flux CRD (tests/manifests.py). In docs/lint.md, a block under "Bad" must get its
  section's rule from `vault-state lint`, and a block under "Good" must not.
- Every `vault-state ...` command line (in ```sh/bash/shell/console blocks, `$ ` lines of other
  blocks, and inline code) must parse with the CLI's own argparse parser; an inline usage line with
  `[...]` must name only flags that the command has. `make X` must be a Makefile target.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel
from ruamel.yaml import YAML

from tests.conftest import EXAMPLES, Cli
from tests.manifests import validate_object
from tests.test_eso import validate_manifest
from vault_state.cli import build_parser
from vault_state.fleet.targets import load_targets
from vault_state.kinds import database, kubernetes_secrets
from vault_state.kinds.generic import GenericEndpoint
from vault_state.kinds.identity import Alias, Entity, Group
from vault_state.kinds.pki import PkiCrl, PkiRole, PkiRoot, PkiSection, PkiUrls
from vault_state.kinds.registry import DECLARED
from vault_state.kinds.ssh import SshCa, SshRole
from vault_state.kinds.totp import TotpKey
from vault_state.kinds.transit import TransitKey
from vault_state.spec.auth import (
    AppRoleRole,
    CertConfig,
    CertRole,
    JwtConfig,
    JwtRole,
    KubernetesAuth,
    KubernetesConfig,
    KubernetesRole,
    TokenFields,
    UserpassAuth,
    UserpassUser,
)
from vault_state.spec.engines import KvConfig, SecretsEngine, Tune
from vault_state.spec.fields import Adoptable
from vault_state.spec.models import Lint, MassChange, Namespace, Prune

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell", "console"}
ON_THE_EXAMPLE = {"checks", "external_secrets"}  # sections that name the guide's engine, method and role
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,})(?P<lang>[\w-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its file, the line of its first content line, its language and text."""

    file: str
    line: int
    lang: str
    text: str
    heading: str  # the nearest heading above it
    lead: str  # the last non-blank line of prose above it

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Command:
    file: str
    line: int
    text: str
    inline: bool = False

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    heading, lead, number = "", "", 0
    while number < len(lines):
        line = lines[number]
        opening = FENCE.match(line)
        if opening is None:
            if line.startswith("#"):
                heading, lead = line.lstrip("# ").strip(), ""
            elif line.strip():
                lead = line.strip()
            number += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = next(i for i in range(number + 1, len(lines)) if lines[i].strip() == fence)
        body = [text[len(indent):] if text.startswith(indent) else text for text in lines[number + 1:end]]
        yield Block(str(path.relative_to(ROOT)), number + 2, opening["lang"], "\n".join(body) + "\n", heading, lead)
        number = end + 1


def all_blocks() -> list[Block]:
    return [block for path in DOCS for block in blocks(path)]


def yaml_blocks() -> list[Block]:
    return [block for block in all_blocks() if block.lang == "yaml"]


def commands() -> list[Command]:
    found = []
    for block in all_blocks():
        for offset, line in enumerate(block.text.splitlines()):
            if block.lang in SHELL and block.lang != "console" and line.strip() and not line.startswith("#"):
                found.append(Command(block.file, block.line + offset, line))
            elif line.startswith("$ "):
                found.append(Command(block.file, block.line + offset, line[2:]))
    for path in DOCS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FENCE.match(line) or line.startswith("    "):
                continue
            for span in re.findall(r"(?<!`)`(vault-state [^`]+)`(?!`)", line):
                found.append(Command(str(path.relative_to(ROOT)), number, span, inline=True))
    return found


def simple_commands(line: str) -> Iterator[list[str]]:
    """The words of each simple command of a shell line, without redirections and `VAR=value` prefixes."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    redirect = False
    for token in [*lexer, ";"]:
        if token in {";", "|", "||", "&&", "&"}:
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                words.pop(0)
            if words:
                yield words
            words, redirect = [], False
        elif set(token) <= set("<>&"):
            redirect = True  # the rest of this command is the redirection's target
        elif not redirect:
            words.append(token)


def parse(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Parse as `vault-state ARGV` would; a usage error fails the test with argparse's message."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            pytest.fail(f"vault-state {shlex.join(argv)}: {capsys.readouterr().err.strip()}")


def command_flags(command: str) -> set[str]:
    """Every option string that `vault-state COMMAND` accepts."""
    parser = build_parser()
    flags = {option for action in parser._actions for option in action.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            flags |= {option for sub in action.choices[command]._actions for option in sub.option_strings}
    return flags


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, re.MULTILINE))


# --- the extraction itself -------------------------------------------------------------------------


def test_the_examples_are_found() -> None:
    """Enough examples are collected that a broken extraction cannot pass by finding nothing."""
    assert len(yaml_blocks()) >= 25
    assert len([c for c in commands() if not c.inline]) >= 30
    ids = [b.id for b in all_blocks()]
    assert "docs/state-file.md:6" in ids and "README.md:26" in ids


def test_simple_commands_split_like_a_shell() -> None:
    assert list(simple_commands("vault-state plan -f state.yaml --detailed-exitcode; echo $?")) == [
        ["vault-state", "plan", "-f", "state.yaml", "--detailed-exitcode"], ["echo", "$?"]]
    assert list(simple_commands("A=1 B=x vault-state schema > out.json  # comment")) == [
        ["vault-state", "schema"]]
    assert list(simple_commands("vault-state plan --json | jq '.a | .b'")) == [
        ["vault-state", "plan", "--json"], ["jq", ".a | .b"]]


def test_a_flag_that_does_not_exist_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments: --no-such-flag"):
        parse(["plan", "--no-such-flag"], capsys)
    assert "--out" in command_flags("plan") and "--out" not in command_flags("apply")


# --- YAML ------------------------------------------------------------------------------------------


def state_text(block: Block) -> str:
    document = YAML(typ="safe").load(block.text)
    assert document is None or isinstance(document, dict), "a YAML example must be a mapping"
    keys = set(document or {})
    if keys and keys <= ON_THE_EXAMPLE:
        return (EXAMPLES / "state.yaml").read_text() + "\n" + block.text
    return block.text if "version" in keys else "version: 1\n" + block.text


def write_policy_files(document: Any, directory: Path) -> None:
    """The .hcl files an example's policies name (`{file: PATH}`, `policy_files:`), each a valid policy:
    they are read when the file is loaded, so the example needs them to validate."""
    if not isinstance(document, dict):
        return
    policies = (document.get("policies") or {}).values()
    names = [spec["file"] for spec in policies if isinstance(spec, dict) and "file" in spec]
    for index, pattern in enumerate(document.get("policy_files") or []):  # one file each, of its own name
        names.append(pattern.replace("*", f"p{index}") if "*" in pattern else f"{pattern}/p{index}.hcl")
    for name in names:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text('path "secret/data/*" {\n  capabilities = ["read"]\n}\n')


@pytest.mark.parametrize("block", yaml_blocks(), ids=lambda b: b.id)
def test_yaml_example(block: Block, offline_cli: Cli, tmp_path: Path) -> None:
    document = YAML(typ="safe").load(block.text)
    if schema := re.search(r"\$schema=(\S+)", block.text):  # relative to the state file: examples/
        assert (EXAMPLES / schema[1]).is_file(), schema[1]
    if isinstance(document, dict) and str(document.get("apiVersion", "")).startswith("external-secrets.io/"):
        validate_manifest(document)
        return
    if isinstance(document, dict) and "targets" in document:  # a targets.yaml (docs/fleets.md)
        (tmp_path / "targets.yaml").write_text(block.text)
        load_targets(tmp_path / "targets.yaml")
        return
    if isinstance(document, dict) and {"apiVersion", "kind"} <= set(document):
        validate_object(document)
        return
    file = tmp_path / "state.yaml"
    file.write_text(state_text(block))
    write_policy_files(document, tmp_path)
    if block.text.startswith("# overlays/"):  # an overlay of examples/fleet (docs/fleets.md)
        file.write_text(block.text)
        result = offline_cli("validate", "-f", str(EXAMPLES / "fleet" / "base"), "--overlay", str(file))
        assert result.code == 0, result.err
        return
    result = offline_cli("validate", "-f", str(file))
    assert result.code == 0, result.err
    if block.file == "docs/lint.md" and block.lead.rstrip(":").split(" ")[0] in {"Bad", "Good"}:
        rule = block.heading.strip("`")
        linted = offline_cli("lint", "-f", str(file))
        assert (f"[{rule}]" in linted.out) is block.lead.startswith("Bad"), linted.out


# --- command lines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", commands(), ids=lambda c: c.id)
def test_command_line(command: Command, capsys: pytest.CaptureFixture[str]) -> None:
    if command.inline and "[" in command.text:  # a usage line: its flags must exist
        words = command.text.split()
        flags = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", command.text))
        assert flags <= command_flags(words[1]), sorted(flags - command_flags(words[1]))
        return
    for words in simple_commands(command.text):
        if os.path.basename(words[0]) == "make":
            assert set(words[1:]) <= make_targets()
        for at, word in enumerate(words):
            if os.path.basename(word) == "vault-state":
                argv = words[at + 1:]
                parse(argv, capsys)
                for flag, value in itertools.pairwise(argv):
                    if flag in {"-f", "--file"} and value.startswith("examples/"):
                        assert (ROOT / value).is_file(), value
                break  # the rest are its arguments (`--target policy/vault-state`)


# --- field tables ----------------------------------------------------------------------------------

# (heading in docs/state-file.md, index of the field table under it) -> the model the table documents.
FIELD_TABLES: dict[tuple[str, int], type[BaseModel] | tuple[type[BaseModel], ...]] = {
    ("`secrets_engines`", 0): SecretsEngine,
    ("`auth_methods`", 0): (KubernetesAuth, UserpassAuth),  # one table for every auth type: the union
    ("`tune`", 0): Tune,
    ("`kv_config`", 0): KvConfig,
    ("Token fields (every role and user)", 0): TokenFields,
    ("kubernetes", 0): KubernetesConfig,
    ("kubernetes", 1): KubernetesRole,
    ("approle", 0): AppRoleRole,
    ("userpass", 0): UserpassUser,
    ("jwt and oidc", 0): JwtConfig,
    ("jwt and oidc", 1): JwtRole,
    ("cert", 0): CertConfig,
    ("cert", 1): CertRole,
    ("Settings every object takes", 0): Adoptable,
    ("`prune`", 0): Prune,
    ("`namespaces`", 0): Namespace,
    ("`lint`", 0): Lint,
    ("`mass_change`", 0): MassChange,
    ("transit", 0): TransitKey,
    ("ssh", 0): SshCa,
    ("ssh", 1): SshRole,
    ("totp", 0): TotpKey,
    ("pki", 0): PkiSection,
    ("`pki.roles`", 0): PkiRole,
    ("`pki.urls`", 0): PkiUrls,
    ("`pki.crl`", 0): PkiCrl,
    ("`pki.root`", 0): PkiRoot,
    # Every top-level declared kind has its section, named after its key in the state file.
    **{(f"`{kind.section}`", 0): kind.model for kind in DECLARED if kind.section},
    ("`identity`", 0): Entity,
    ("`identity`", 1): Group,
    ("`identity`", 2): Alias,
    ("`generic`", 0): GenericEndpoint,  # not a DeclaredKind: its data is free-form
    ("database", 0): database.DatabaseConnection,
    ("database", 1): database.DatabaseRole,
    ("database", 2): database.DatabaseStaticRole,
    ("kubernetes (secrets engine)", 0): kubernetes_secrets.KubernetesSecretsConfig,
    ("kubernetes (secrets engine)", 1): kubernetes_secrets.KubernetesSecretsRole,
}


def field_tables(path: Path) -> dict[tuple[str, int], dict[str, str]]:
    """Each `| field | type | ...` table: its field names mapped to their type cell."""
    tables: dict[tuple[str, int], dict[str, str]] = {}
    heading, count, current = "", 0, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading, count, current = line.lstrip("# ").strip(), 0, None
        elif line.startswith("| field | type |"):
            current = tables.setdefault((heading, count), {})
            count += 1
        elif current is not None and line.startswith("|") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            for name in re.findall(r"`(\w+)`", cells[0]):
                current[name] = cells[1]
        elif not line.startswith("|"):
            current = None
    return tables


def literal_values(annotation: object) -> set[str]:
    if get_origin(annotation) is Literal:
        return {str(value) for value in get_args(annotation)}
    return {value for arg in get_args(annotation) for value in literal_values(arg)}


def test_every_field_table_is_checked() -> None:
    assert set(field_tables(ROOT / "docs" / "state-file.md")) == set(FIELD_TABLES)


@pytest.mark.parametrize("key", FIELD_TABLES, ids=lambda key: f"{key[0]}[{key[1]}]")
def test_field_table_matches_the_model(key: tuple[str, int]) -> None:
    """The table names exactly the model's fields (a role's token fields have their own table), and a
    type cell that lists values (`a`, `b` or `c`) lists exactly the values the model accepts."""
    models, table = FIELD_TABLES[key], field_tables(ROOT / "docs" / "state-file.md")[key]
    fields = {name: field for model in (models if isinstance(models, tuple) else (models,))
              for name, field in model.model_fields.items()}
    if models is not TokenFields and isinstance(models, type) and issubclass(models, TokenFields):
        fields = {name: field for name, field in fields.items() if name not in TokenFields.model_fields}
    # `adopt`, which every object takes, is documented once (its own table), not in each table.
    if models is not Adoptable:
        fields = {name: field for name, field in fields.items() if name not in Adoptable.model_fields}
    assert set(table) == set(fields)
    for name, cell in table.items():
        allowed = literal_values(fields[name].annotation)
        if allowed and re.fullmatch(r"`[^`]*`((, | or |, or )`[^`]*`)*", cell):
            assert {v.strip('"') for v in re.findall(r"`([^`]*)`", cell)} == allowed, name


# --- shown output ----------------------------------------------------------------------------------


def matches(shown: list[str], real: list[str]) -> bool:
    """`shown` is `real`, except that a `...` line stands for one or more lines cut out."""
    if not shown:
        return not real
    if shown[0].strip() == "...":
        return any(matches(shown[1:], real[cut:]) for cut in range(1, len(real) + 1))
    return bool(real) and shown[0] == real[0] and matches(shown[1:], real[1:])


def test_the_readme_plan_is_what_plan_prints(cli: Cli) -> None:
    """The README's first plan (from `make demo`) is the real plan of examples/state.yaml on an empty server."""
    (block,) = [b for b in all_blocks() if b.file == "README.md" and "Plan: 4 to add" in b.text
                and "will perform" in b.text and b.text.startswith("$ vault-state plan -f examples/state.yaml\n")]
    result = cli("plan", "-f", str(EXAMPLES / "state.yaml"))
    assert (result.code, result.err) == (0, "")
    shown = block.text.splitlines()[1:]
    assert matches(shown, result.out.splitlines()), result.out
    # After the apply, the second plan the README shows (its stack line counts what apply recorded).
    assert cli("apply", "-f", str(EXAMPLES / "state.yaml"), "--auto-approve").code == 0
    (second,) = [b for b in all_blocks() if b.file == "README.md" and "No changes." in b.text]
    assert second.text.splitlines()[1:] == cli("plan", "-f", str(EXAMPLES / "state.yaml")).out.splitlines()


def test_matches_cuts_only_where_the_docs_say() -> None:
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert not matches(["a", "d"], ["a", "b", "c", "d"])
    assert not matches(["a", "...", "d"], ["a", "d"])
