"""Plan output formats against a real server: the Markdown comment (snapshot), the JSON document
validated against schemas/plan.schema.json, and colors only on a terminal without NO_COLOR."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import jsonschema
from conftest import Cli, write_state

from vault_state.kinds.registry import BY_NAME
from vault_state.sandbox import DevServer

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "plan.schema.json").read_text())

BEFORE = """
version: 1
secrets_engines:
  apps: {type: kv, version: 2}
  scratch: {type: kv, version: 1}
policies:
  reader: |
    path "apps/data/*" {
      capabilities = ["read"]
    }
auth_methods:
  ci:
    type: approle
    roles:
      deploy: {token_policies: [reader], token_ttl: 1h}
"""
AFTER = """
version: 1
prune: {secrets_engines: true}
secrets_engines:
  apps: {type: kv, version: 2, seal_wrap: true}
policies:
  reader: |
    path "apps/data/*" {
      capabilities = ["read", "list"]
    }
  writer: 'path "apps/data/team/*" { capabilities = ["create", "update"] }'
auth_methods:
  ci:
    type: approle
    roles:
      deploy: {token_policies: [reader, writer], token_ttl: 30m}
"""

MARKDOWN = """\
### vault-state plan

Stack: default (its inventory holds 5 ids)
this plan deletes 1 of them: secrets_engine/scratch

**Plan: 2 to add, 2 to change, 2 to destroy.**

> [!CAUTION]
> **Destroys data:** these changes delete data that cannot be recovered.
> - `secrets_engine/scratch` (delete): disables secrets_engine/scratch and everything stored in it
> - `secrets_engine/apps` (replace: seal_wrap cannot change on an enabled mount (false -> true)): disables and re-enables secrets_engine/apps and everything stored in it

| | action | id | changed fields |
|---|---|---|---|
| `-` | delete | `secrets_engine/scratch` | |
| `-/+` | replace | `secrets_engine/apps` | `seal_wrap` |
| `~` | update | `policy/reader` | `policy` |
| `+` | create | `policy/writer` | |
| `~` | update | `auth_role/ci/deploy` | `token_policies`, `token_ttl` |

#### `policy/reader`

```diff
@@ -1,3 +1,3 @@
 path "apps/data/*" {
-  capabilities = ["read"]
+  capabilities = ["read", "list"]
 }
```

#### `policy/writer`

```diff
+path "apps/data/team/*" { capabilities = ["create", "update"] }
```
"""


def changed_server(cli: Cli, tmp_path: Path) -> Path:
    state = write_state(tmp_path, BEFORE)
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    state.write_text(AFTER)
    return state


def test_markdown_snapshot(cli: Cli, tmp_path: Path) -> None:
    state = changed_server(cli, tmp_path)
    result = cli("plan", "-f", str(state), "--format", "markdown")
    assert result.code == 0, result.err
    assert result.out == MARKDOWN


def test_markdown_without_changes_and_with_warnings(cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, "version: 1\npolicies:\n  p: 'path \"sys/*\" { capabilities = [\"sudo\"] }'\n")
    cli("apply", "-f", str(state), "--auto-approve")
    result = cli("plan", "-f", str(state), "--format", "markdown")
    assert result.out == (
        "### vault-state plan\n\nStack: default (its inventory holds 1 id)\n\n**No changes.** The server matches the state file.\n\n**Warnings**\n\n"
        f"- {state}:3:6: warning: policy 'p' grants sudo on 'sys/*'; list it in lint.admin_policies if it "
        "is meant to administer the server [admin-capability]\n"
    )
    assert result.err == ""


def test_json_plan_validates_against_its_schema(cli: Cli, tmp_path: Path) -> None:
    state = changed_server(cli, tmp_path)
    document = json.loads(cli("plan", "-f", str(state), "--json").out)
    jsonschema.validate(document, SCHEMA)
    assert {c["action"] for c in document["changes"]} == {"create", "update", "delete", "replace", "no-op"}
    assert json.loads(cli("plan", "-f", str(state), "--format", "json").out) == document
    conflict = cli("plan", "-f", str(state), "--json", "--format", "markdown")
    assert conflict.code == 1 and conflict.err.strip() == "error: --json and --format markdown conflict: give one of them"


def test_json_schema_rejects_a_wrong_document() -> None:
    bad = {"format_version": "1", "changes": [{"kind": "policy", "id": "policy/x", "action": "created"}],
           "summary": {"add": 0, "change": 0, "destroy": 0}, "warnings": []}
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert not validator.is_valid(bad)


def _run(bao: DevServer, state: Path, env: dict[str, str], tty: bool) -> bytes:
    """`vault-state plan` in a subprocess, its stdout a pipe or a pseudo-terminal."""
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "CLICOLOR_FORCE")}
    full = {**base, **bao.env(), "TERM": "xterm-256color", "COLUMNS": "120", **env}
    command = [sys.executable, "-m", "vault_state", "plan", "-f", str(state)]
    if not tty:
        return subprocess.run(command, env=full, capture_output=True, check=True, timeout=60).stdout
    primary, secondary = pty.openpty()
    with subprocess.Popen(command, env=full, stdout=secondary, stderr=subprocess.DEVNULL) as process:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(primary)
    return b"".join(chunks)


def test_colors_only_on_a_terminal_and_never_with_no_color(bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, BEFORE)
    piped = _run(bao, state, {}, tty=False)
    assert b"+ policy/reader" in piped and b"\x1b[" not in piped
    colored = _run(bao, state, {}, tty=True)
    assert b"+ policy/reader" in colored and b"\x1b[32m" in colored
    no_color = _run(bao, state, {"NO_COLOR": "1"}, tty=True)
    assert b"+ policy/reader" in no_color
    assert not any(f"\x1b[{code}".encode() in no_color for code in ("3", "9", "38;"))


def test_the_plan_schema_names_every_kind() -> None:
    """The schema's kinds and id pattern follow the registry (`make schema` rewrites them)."""
    assert SCHEMA["$defs"]["kind"]["enum"] == list(BY_NAME)
    pattern = SCHEMA["$defs"]["change"]["properties"]["id"]["pattern"]
    assert pattern == f"^([^:/][^:]*:)?({'|'.join(BY_NAME)})/.+$"


def test_a_markdown_plan_is_cut_to_fit_a_github_comment(cli: Cli, tmp_path: Path) -> None:
    """`plan --format markdown` is posted as a PR comment, which GitHub refuses over 65,536 characters:
    the policy diffs go first, then the table's last rows, and the comment says what it left out."""
    rule = 'path "kv/data/team-%04d/*" { capabilities = ["read", "list"] }'
    small = write_state(tmp_path, "version: 1\npolicies:\n" + "".join(
        f"  p{n:04}: '{rule % n}'\n" for n in range(20)), "small.yaml")
    whole = cli("plan", "-f", str(small), "--format", "markdown").out
    assert "Left out" not in whole and whole.count("```diff") == 20
    big = write_state(tmp_path, "version: 1\npolicies:\n" + "".join(
        f"  team-platform-reader-{n:04}: '{rule % n}'\n" for n in range(2_000)), "big.yaml")
    planned = cli("plan", "-f", str(big), "--format", "markdown")
    assert planned.code == 0, planned.err
    comment = planned.out
    assert len(comment) <= 65_536 and "```diff" not in comment
    assert "**Plan: 2000 to add, 0 to change, 0 to destroy.**" in comment
    rows = [line for line in comment.splitlines() if line.startswith("| `+` | create | `policy/")]
    assert rows[0].startswith("| `+` | create | `policy/team-platform-reader-0000` |") and 0 < len(rows) < 2_000
    assert (f"> Left out to fit a GitHub comment (65,536 characters): the policy diffs (2000) and the table's "
            f"last rows ({2_000 - len(rows)}). The plan in the job's log shows every change.") in comment
    assert len(comment) > 60_000  # cut to fit, not far below
