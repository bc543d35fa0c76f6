"""The text plan: lists of PEM keys are shown as text, key by key, like single PEM fields and policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import EXAMPLES, Cli, write_state
from test_auth_kinds import public_key_pem, yaml_block

from vault_state.render.text import change_lines

KEY_A = "-----BEGIN PUBLIC KEY-----\nAAAA\nAAAA\n-----END PUBLIC KEY-----\n"
KEY_B = "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----"  # jwt_validation_pubkeys: no trailing newline


def change(action: str, diff: list[dict[str, Any]], after: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": "auth_method/jwt", "action": action, "reason": "", "destroys_data": False, "data_loss": "", "refusal": "",
            "warnings": [], "diff": diff, "write_only": [], "after": after}


def text(lines: list[tuple[str, str]]) -> str:
    return "\n".join(line for line, _ in lines) + "\n"


def test_an_added_key_is_shown_as_text() -> None:
    diff = [{"path": "config.pem_keys", "before": [], "after": [KEY_A], "sensitive": False}]
    assert text(change_lines(change("update", diff))) == """\
  ~ auth_method/jwt
      ~ config.pem_keys:
          --- live
          +++ state file
          +-----BEGIN PUBLIC KEY-----
          +AAAA
          +AAAA
          +-----END PUBLIC KEY-----
"""


def test_a_replaced_key_is_removed_and_added_and_kept_keys_are_counted() -> None:
    diff = [{"path": "config.jwt_validation_pubkeys", "before": [KEY_A, "-----BEGIN PUBLIC KEY-----\nCCCC\n"
                                                                       "-----END PUBLIC KEY-----"],
             "after": [KEY_B, KEY_A], "sensitive": False}]
    assert text(change_lines(change("update", diff))) == """\
  ~ auth_method/jwt
      ~ config.jwt_validation_pubkeys:
          --- live
          +++ state file
          ------BEGIN PUBLIC KEY-----
          -CCCC
          ------END PUBLIC KEY-----
          +-----BEGIN PUBLIC KEY-----
          +BBBB
          +-----END PUBLIC KEY-----
          (1 unchanged)
"""


def test_all_keys_removed() -> None:
    diff = [{"path": "config.pem_keys", "before": [KEY_B], "after": [], "sensitive": False}]
    assert text(change_lines(change("update", diff))) == """\
  ~ auth_method/jwt
      ~ config.pem_keys:
          --- live
          +++ state file
          ------BEGIN PUBLIC KEY-----
          -BBBB
          ------END PUBLIC KEY-----
"""


def test_lists_of_one_line_values_stay_json() -> None:
    diff = [{"path": "tune.passthrough_request_headers", "before": ["X-A"], "after": ["X-A", "X-B"],
             "sensitive": False}]
    assert text(change_lines(change("update", diff))) == """\
  ~ auth_method/jwt
      ~ tune.passthrough_request_headers: ["X-A"] -> ["X-A", "X-B"]
"""


def test_a_create_shows_each_key_as_a_heredoc() -> None:
    after = {"type": "jwt", "config": {"jwt_validation_pubkeys": [KEY_A, KEY_B], "jwt_supported_algs": ["RS256"]}}
    assert text(change_lines(change("create", [], after))) == """\
  + auth_method/jwt
      type = "jwt"
      config.jwt_validation_pubkeys[0] = <<EOT
          -----BEGIN PUBLIC KEY-----
          AAAA
          AAAA
          -----END PUBLIC KEY-----
      EOT
      config.jwt_validation_pubkeys[1] = <<EOT
          -----BEGIN PUBLIC KEY-----
          BBBB
          -----END PUBLIC KEY-----
      EOT
      config.jwt_supported_algs = ["RS256"]
"""


K8S = """\
version: 1
auth_methods:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://kubernetes.example.internal
      kubernetes_ca_cert: {file: ca.crt, sensitive: false}
      pem_keys:
        - %s
"""


def test_a_pem_keys_change_on_a_real_server_is_shown_as_text(cli: Cli, tmp_path: Path) -> None:
    ca, key = (EXAMPLES / "ca.crt").read_text(), public_key_pem(tmp_path, "new")
    state = write_state(tmp_path, K8S % yaml_block(ca, 10))
    applied = cli("apply", "-f", str(state), "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    state.write_text(K8S % yaml_block(key, 10))

    result = cli("plan", "-f", str(state))
    assert result.code == 0, result.err
    old, new = ca.rstrip("\n").split("\n"), key.rstrip("\n").split("\n")
    expected = ["      ~ config.pem_keys:", "          --- live", "          +++ state file",
                *(f"          -{line}" for line in old), *(f"          +{line}" for line in new)]
    lines = result.out.splitlines()
    start = lines.index("      ~ config.pem_keys:")
    assert lines[start:start + len(expected)] == expected
    assert "\\n" not in result.out  # no escaped JSON string
