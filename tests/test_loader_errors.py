"""`vault-state validate` on bad state files: every problem located as FILE:LINE:COL, no server needed.

Each bad file sits in tests/bad/ and is small enough to read next to the message it must give.
The whole of stderr is compared, so a message that is wrapped, repeated or joined by a traceback
fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli

from vault_state.errors import InputError
from vault_state.spec.loader import MAX_BYTES, load_text

BAD = Path(__file__).resolve().parent / "bad"

NAME_RULE = "use letters, digits, '_', '.', '-' (no '/', no '..')"
DURATION_RULE = "use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"
SERVER_OPERATION = "an operation on the server (seal, root token, rekey, raw storage), not configuration"
TYPED = "is managed by a typed kind: declare it under"
RESERVED = "(sys, identity, cubbyhole, auth, vault-state, vault-state-transit are built in or used by vault-state's lock and inventory)"

# file in tests/bad -> every expected diagnostic as "LINE:COL: message", in the order printed.
ERRORS: dict[str, list[str]] = {
    # unknown keys, with a suggestion when one is close
    "unknown_key_top": ["2:1: unknown key 'polices'; did you mean 'policies'?"],
    "unknown_key_engine": ["6:5: unknown key 'descripton'; did you mean 'description'?"],
    "unknown_key_role": ["9:9: unknown key 'token_polices'; did you mean 'token_policies'?"],
    "unknown_key_value_source": ["7:33: unknown key 'sensitve'; did you mean 'sensitive'?"],
    # wrong types: nothing is coerced
    "wrong_type_list": ["7:38: bound_service_account_names: expected a list ([a, b] or '- item' lines)"],
    "wrong_type_bool": ["5:12: local: expected true or false"],
    "number_as_string": [
        "7:19: password: expected a string (quote a value that looks like a number, date or boolean)"
    ],
    "non_string_key": ["3:3: key 1 must be a string (quote it)"],
    "policy_not_text": ["3:12: readers: expected policy HCL text, a mapping with 'path', or {file: PATH}"],
    # YAML itself
    "duplicate_key": ["8:9: invalid YAML: duplicate key 'password'"],
    "invalid_yaml": [
        "5:1: invalid YAML: found unexpected end of stream "
        "(while scanning a quoted scalar started at line 3, column 12)"
    ],
    "empty": ["1:1: the state file is empty; it must start with 'version: 1'"],
    "not_mapping": ["1:1: the state file must be a mapping of keys such as 'version', 'policies'"],
    "alias_bomb": ["1:1: the state file expands to more than 1000000 values (YAML aliases?); refused"],
    # ruamel resolves an alias inside its own anchor to null: no cycle is built, the value is just empty.
    "self_alias": ["2:11: readers: expected policy HCL text, a mapping with 'path', or {file: PATH}"],
    "surrogate_escape": ["7:19: invalid text: a \\ud800-\\udfff escape is not a character"],
    # system configuration
    "password_policy_no_charset": [
        '4:13: policy: invalid password policy: at least one `rule "charset" { charset = "..." }` block is required'
    ],
    "cors_enabled_no_origin": ["4:5: cors: CORS enabled needs at least one allowed origin (or '*'); Vault refuses none"],
    "ui_header_twice": ["5:5: header 'x-frame-options' and 'X-Frame-Options' are the same header (names ignore case)"],
    "ui_header_x_vault": ["4:5: UI header 'X-Vault-Thing': Vault refuses to set X-Vault headers"],
    "audit_option_not_string": [
        "5:55: log_raw: expected a string (quote a value that looks like a number, date or boolean)"
    ],
    # format version
    "missing_version": ["1:1: missing required key 'version' (the format version; write 'version: 1')"],
    "version_2": ["1:10: version: unsupported format version 2; write 'version: 1'"],
    "version_true": ["1:10: version: unsupported format version True; write 'version: 1'"],
    # auth types and mounts
    "approle_duplicate_role_id": ["6:7: roles: roles 'ci' and 'deploy' have the same role_id"],
    "userpass_password_and_hash": ["7:9: alice: exactly one of password or password_hash must be given"],
    "cert_role_without_certificate": ["7:9: missing required key 'certificate'"],
    "engine_option_version": ["4:5: transit: the mount option 'version' is kv's: give it as 'version' (1 or 2)"],
    "jwt_id_token_without_form_post": [
        "6:7: config: oidc_response_types id_token needs oidc_response_mode: form_post"
    ],
    # durations
    "bad_duration": [f"6:26: default_lease_ttl: invalid duration '1x': {DURATION_RULE}"],
    # identity: checked offline (names on the server are checked at plan time, tests/test_identity.py)
    "identity_external_members": [
        "5:7: platform: an external group's members come from its alias; remove member_entities/member_groups"
    ],
    "identity_internal_alias": ["5:7: admins: only an external group has an alias; set type: external"],
    "identity_two_aliases": [
        "5:7: alice: two aliases for mount 'userpass': an entity has one alias per auth method"
    ],
    "identity_bad_name": [f"4:5: invalid identity name 'alice/x': {NAME_RULE}"],
    "identity_name_case": ["5:5: 'admins' and 'Admins' differ only in case; Vault takes them for one name"],
    # policies: the HCL problem is placed on the file line inside the `|` block
    "policy_hcl_syntax": [
        "10:1: policy 'eso-policy': invalid policy HCL: unexpected RIGHTBRACE; "
        "expected COMMA, RIGHTBRACKET, RIGHTPAREN, LEFTBRACKET, LEFTPAREN"
    ],
    "policy_capability": [
        "9:1: policy 'eso-policy': invalid policy: path 'secret/metadata/*': invalid capability 'lst'"
    ],
    # a repeated `capabilities` key parses as a list of lists (found by test_hostile_input)
    "policy_capabilities_repeated": [
        "6:1: policy 'eso-policy': invalid policy: path 'secret/data/*': invalid capability 'lst'"
    ],
    "structured_policy_capability": [
        "6:23: capabilities: invalid capability 'lst'; expected some of "
        "create, delete, deny, list, patch, read, recover, scan, subscribe, sudo, update"
    ],
    # a policy from an .hcl file: its problems are located in that file (a message naming
    # policies/... is in tests/bad/policies/), an unreadable file at the `file:` key
    "policy_file_hcl_syntax": [
        "policies/app_syntax.hcl:4:1: policy 'app': invalid policy HCL: unexpected RIGHTBRACE; "
        "expected COMMA, RIGHTBRACKET, RIGHTPAREN, LEFTBRACKET, LEFTPAREN"
    ],
    "policy_file_capability": [
        "policies/app_capability.hcl:2:27: policy 'app': invalid policy: path 'secret/data/*': invalid capability 'lst'"
    ],
    "policy_file_missing": [
        f"4:11: policy 'app': file policies/missing.hcl not found (looked at {BAD}/policies/missing.hcl)"
    ],
    "policy_file_unknown_key": ["3:44: unknown key 'sensitive'"],
    # policy_files: a file per policy, named by the file; a pattern matching nothing is an error
    "policy_files_problems": [
        f"5:5: policy_files: {BAD}/policy_files/reader.hcl is policy 'reader', which is also declared at "
        f"{BAD}/policy_files_problems.yaml:3:3",
        f"5:5: policy_files: {BAD}/policy_files/root.hcl: policy 'root': the root policy is built in and cannot be "
        "managed",
        f"6:5: policy_files: 'typo/*.hcl' matches no .hcl or .json file (looked in {BAD})",
        "7:5: policy_files: '/etc/vault/*.hcl' is absolute; write it relative to the state file that declares it",
    ],
    "empty_policy": ["3:12: policy 'readers': invalid policy: the policy text is empty (Vault refuses an empty policy)"],
    "policy_case": ["4:3: policy 'readers' and 'Readers' differ only in case; Vault lowercases names"],
    # secrets engines
    "version_not_kv": ["4:5: transit: 'version' applies to kv engines only"],
    "kv_config_not_kv": ["4:5: transit: 'kv_config' applies to kv version 2 engines only"],
    "pki_not_pki": ["4:5: transit: 'pki' applies to pki engines only (this engine's type is transit)"],
    "pki_key_bits": ["8:11: web: key_bits 2048 is not valid for key_type ec (valid: 224, 256, 384, 521)"],
    "pki_root_two_sources": [
        "7:9: root: give either common_name (to generate) or pem_bundle (to import), not both"
    ],
    # secrets engines' own configuration
    "database_on_kv": ["4:5: kv: 'database' applies to database engines only (this engine's type is kv)"],
    "database_unknown_connection": [
        "12:20: role 'readonly' names connection 'app', which this engine does not declare (its connections: 'app-pg')"
    ],
    "database_statements_not_list": ["12:32: creation_statements: expected a list ([a, b] or '- item' lines)"],
    "database_literal_password_url": [
        "8:11: app-pg: connection_url holds a literal password: write {{password}} and set `password`"
    ],
    "database_static_rotation_too_short": [
        "9:72: rotation_period: must be 5 seconds or more (Vault rotates on a 5-second tick)"
    ],
    "kubernetes_secrets_role_two_sources": [
        "8:11: deployer: set exactly one of service_account_name, kubernetes_role_name, generated_role_rules"
    ],
    "nested_mounts": ["5:3: mount path 'a/b' is inside mount 'a'; Vault refuses nested mounts"],
    "reserved_mount": [f"3:3: 'sys' is a reserved path {RESERVED}", f"7:3: 'auth/x' is a reserved path {RESERVED}"],
    "token_auth_path": ["3:3: auth method path 'token' is taken by the built-in token auth method"],
    "kubernetes_no_ca": ["6:7: config: kubernetes_ca_cert must be given when disable_local_ca_jwt is true"],
    "token_role_suffix": [
        "4:18: path_suffix: invalid path_suffix 'v1': Vault requires at least 3 characters of letters, digits, "
        "'_', '-' and '.', starting and ending with a letter, digit or '_'"
    ],
    "path_traversal": [
        "3:3: invalid mount path 'a/../b': use segments of letters, digits, '_', '.', '-' joined by '/', "
        "with no leading or trailing '/' and no '..'",
        f"6:3: invalid policy name '../sys/seal': {NAME_RULE}",
        f"11:7: invalid role name 'ci/admin': {NAME_RULE}",
    ],
    # what is inside secrets engines
    "transit_key_type": [
        "8:17: type: Input should be 'aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305', 'xchacha20-poly1305', "
        "'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'rsa-2048', 'rsa-3072', 'rsa-4096' or 'hmac'"
    ],
    "transit_convergent_not_derived": ["8:11: payments: convergent_encryption requires derived: true"],
    "transit_on_kv": ["4:5: secret: 'transit' applies to transit engines only (this engine's type is kv)"],
    "ssh_otp_certificate_fields": [
        "8:11: otp-role: allow_user_certificates, ttl: not used by key_type otp roles (Vault silently drops them)"
    ],
    "ssh_ca_role_without_certificates": [
        "8:11: ops: key_type ca roles need allow_user_certificates or allow_host_certificates"
    ],
    "totp_digits": ["10:19: digits: Input should be 6 or 8"],
    # auth methods and roles
    "legacy_and_token_name": ["7:9: ci: 'ttl' is the legacy name of 'token_ttl': give only 'token_ttl'"],
    "value_source_without_env_file": ["7:27: token_reviewer_jwt: expected a string, {env: NAME}, {file: PATH} or {kubernetes: ca_cert|token}"],
    "kubernetes_role_without_namespaces": [
        "7:9: eso-role: bound_service_account_namespaces cannot be empty unless "
        "bound_service_account_namespace_selector is set"
    ],
    # generic endpoints: paths that would change the URL, action endpoints, paths of typed kinds
    "generic_bad_paths": [
        "3:3: invalid generic path '/identity/oidc/key/app': write the API path without a leading '/'",
        "5:3: invalid generic path 'identity/oidc/../../sys/seal': '.' and '..' segments are not allowed",
        "7:3: invalid generic path 'identity//oidc/key/app': empty segment ('//' or a trailing '/')",
        "9:3: invalid generic path 'identity/oidc/key/app/': empty segment ('//' or a trailing '/')",
        "11:3: invalid generic path 'identity/oidc/key/app?x=1': "
        "use letters, digits and _ . - @ + = : , ~ in segments joined by '/'",
    ],
    "generic_builtin": [
        f"3:3: generic path 'sys/seal' is refused: sys/seal is {SERVER_OPERATION}",
        f"5:3: generic path 'sys/raw/core/mounts' is refused: sys/raw is {SERVER_OPERATION}",
        f"7:3: generic path 'SYS/Generate-Root/attempt' is refused: sys/generate-root is {SERVER_OPERATION}",
        "9:3: generic path 'auth/token/create' is refused: "
        "auth/token is the built-in token auth method: its writes create, renew and revoke tokens",
        "11:3: generic path 'cubbyhole/notes' is refused: cubbyhole is private to the token that writes it",
        "13:3: generic path 'vault-state/data/lock' is refused: vault-state is vault-state's own mount (the apply lock)",
    ],
    "generic_owned": [
        f"3:3: generic path 'sys/mounts/secret' {TYPED} secrets_engines instead",
        f"5:3: generic path 'sys/auth/userpass/tune' {TYPED} auth_methods instead",
        f"7:3: generic path 'sys/policies/acl/readers' {TYPED} policies instead",
        f"9:3: generic path 'sys/policy/readers' {TYPED} policies instead",
        f"11:3: generic path 'auth/approle/role/ci' {TYPED} auth_methods.approle.roles instead",
        f"13:3: generic path 'auth/approle/role/ci/secret-id' {TYPED} auth_methods.approle.roles instead",
        f"15:3: generic path 'auth/team/userpass/users/bob' {TYPED} auth_methods.team/userpass.users instead",
        f"17:3: generic path 'auth/kubernetes/config' {TYPED} auth_methods.kubernetes.config instead",
        f"19:3: generic path 'auth/token/roles/ci' {TYPED} token_roles instead",
    ],
    # whether a kind owns a path under an engine depends on the engine's type in the file (kv1 has no config)
    "generic_owned_engine": [f"8:3: generic path 'secret/config' {TYPED} secrets_engines.secret.kv_config instead"],
    "generic_entry": [
        "4:5: identity/oidc/key/a: an entry with 'delete: true' deletes the path (with prune: {generic: true}) "
        "and holds nothing else; vault-state keeps no record of removed entries, so to delete an endpoint "
        "replace its data by 'delete: true'",
        "7:5: identity/oidc/key/b: 'data' is required (or 'delete: true' to delete the path)",
        "9:5: identity/oidc/key/c: write_only_fields names 'secret', which 'data' does not declare",
        "12:5: identity/oidc/key/d: write-only field 'n' must be a string or a value source ({env}, {file})",
        "15:5: identity/oidc/key/e: ignore_fields names 'config.a', which 'data' declares: a field is managed or ignored",
        "18:26: unknown key 'sensitve'; did you mean 'sensitive'?",
    ],
    "generic_not_json": [
        "4:15: d: a date cannot be sent as JSON: quote it to send it as text",
        "4:47: g: inf (.inf or .nan) cannot be sent as JSON",
        "4:56: h: a timestamp cannot be sent as JSON: quote it to send it as text",
    ],
    # moved: only kinds that can move, and a move keeps its kind
    "moved_kind_cannot_move": [
        "5:12: from: 'transit_key/transit/old' cannot move: expected KIND/PATH or NAMESPACE:KIND/PATH with KIND "
        "one of secrets_engine, auth_method, policy, auth_role",
        "5:41: to: 'transit_key/transit/new' cannot move: expected KIND/PATH or NAMESPACE:KIND/PATH with KIND "
        "one of secrets_engine, auth_method, policy, auth_role",
    ],
    "moved_across_kinds": [
        "5:5: moved: secrets_engine/reader and policy/reader are of different kinds: a move keeps the kind",
    ],
    "moved_across_namespaces": [
        "3:5: moved: team-a:policy/reader -> team-b:policy/reader crosses namespaces: a move stays in its namespace",
    ],
    # several problems in one file: all reported in one run (schema and whole-file checks), sorted by line
    "several_errors": [
        f"6:22: max_lease_ttl: invalid duration '1x': {DURATION_RULE}",
        "7:3: mount path 'transit/inner' is inside mount 'transit'; Vault refuses nested mounts",
        "10:5: unknown key 'descripton'; did you mean 'description'?",
        f"12:3: invalid policy name '../x': {NAME_RULE}",
        "15:1: policy 'readers': invalid policy: path 'secret/data/*': invalid capability 'reed'",
        "22:9: ci: 'ttl' is the legacy name of 'token_ttl': give only 'token_ttl'",
    ],
}


def expected(path: Path, messages: list[str]) -> str:
    """Each message located in `path`, or in the .hcl file it names (tests/bad/policies/...)."""
    return "".join(f"{BAD / m}\n" if m.startswith("policies/") else f"{path}:{m}\n" for m in messages)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_file_is_refused_with_located_messages(offline_cli: Cli, name: str) -> None:
    path = BAD / f"{name}.yaml"
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == expected(path, ERRORS[name])
    assert result.out == ""


def test_every_bad_file_has_a_case() -> None:
    warnings_only = {"uppercase_policy", "unknown_policy"}
    assert {p.stem for p in BAD.glob("*.yaml")} == set(ERRORS) | warnings_only


def test_duplicate_key_names_the_key_not_the_values(offline_cli: Cli) -> None:
    path = BAD / "duplicate_key.yaml"
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == f"{path}:8:9: invalid YAML: duplicate key 'password'\n"
    assert "hunter2" not in result.err + result.out


def test_uppercase_policy_name_alone_is_a_warning(offline_cli: Cli) -> None:
    path = BAD / "uppercase_policy.yaml"
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 0
    assert result.err == f"{path}:3:3: warning: Vault stores policy names in lowercase: 'Readers' becomes 'readers'\n"
    assert result.out == f"{path}: valid (1 policy)\n"


def test_role_naming_an_undeclared_policy_is_a_warning(offline_cli: Cli) -> None:
    path = BAD / "unknown_policy.yaml"
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 0
    assert result.err == (
        f"{path}:7:35: warning: role 'ci' names policy 'ci-deploy', which this file does not declare [unknown-policy]\n"
    )


def test_example_state_file_is_valid(offline_cli: Cli) -> None:
    path = EXAMPLES / "state.yaml"
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out == f"{path}: valid (1 secrets engine, 1 policy, 1 auth method, 1 auth role)\n"


def test_missing_file(offline_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == f"{path}:1:1: cannot read the state file: No such file or directory\n"


def test_directory_without_state_files(offline_cli: Cli, tmp_path: Path) -> None:
    # A directory is read as its *.yaml files (docs/many-files.md): one without any is refused.
    (tmp_path / "notes.txt").write_text("not a state file")
    result = offline_cli("validate", "-f", str(tmp_path))
    assert result.code == 1
    assert result.err == (f"error: -f {tmp_path}: no *.yaml or *.yml file in this directory "
                          "(add --recursive to read its subdirectories)\n")


def test_file_that_is_not_utf8(offline_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\n# caf\xe9\n".encode("latin-1"))
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == f"{path}:1:1: cannot read the state file: not valid UTF-8 text\n"


def test_file_over_10_mb_is_refused_before_parsing(offline_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    header = b"version: 1\n"
    path.write_bytes(header + b"#" * (MAX_BYTES + 1 - len(header)))
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == (
        f"{path}:1:1: the state file is {MAX_BYTES + 1} bytes; the limit is {MAX_BYTES} (10 MB)\n"
    )


@pytest.mark.parametrize("nesting", ["[" * 5000 + "]" * 5000, "{a: " * 3000 + "1" + "}" * 3000])
def test_deep_nesting_is_refused(offline_cli: Cli, tmp_path: Path, nesting: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(f"version: 1\npolicies: {nesting}\n")
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == f"{path}:1:1: invalid YAML: the state file is nested too deeply\n"


def test_duration_beyond_what_vault_can_hold(offline_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("version: 1\nsecrets_engines:\n  transit:\n    type: transit\n    tune: {max_lease_ttl: 400000d}\n")
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == (
        f"{path}:5:27: max_lease_ttl: duration '400000d' is too long: "
        "the maximum is 9223372036 seconds (about 292 years)\n"
    )


P = "'path \"x\" { capabilities = [\"read\"] }'"
ODD_INPUTS = {
    "null key": "version: 1\n~: b\n",
    "sequence key": "version: 1\n? [a]\n: b\n",
    "int role name": "version: 1\nauth_methods:\n  a:\n    type: approle\n    roles:\n      1: {}\n",
    "binary tag": "version: 1\npolicies:\n  a: !!binary aGVsbG8=\n",
    "custom tag": "version: 1\npolicies:\n  a: !foo bar\n",
    "date as text": "version: 1\nsecrets_engines:\n  t:\n    type: transit\n    description: 2001-12-14\n",
    "infinite duration": "version: 1\nsecrets_engines:\n  t:\n    type: transit\n    tune: {default_lease_ttl: .inf}\n",
    "sub-second duration": "version: 1\nsecrets_engines:\n  t:\n    type: transit\n    tune: {max_lease_ttl: 100ms}\n",
    "bad merge": "version: 1\nsecrets_engines:\n  t:\n    <<: 5\n",
    "two documents": "version: 1\n---\nversion: 1\n",
    "tab indent": "version: 1\npolicies:\n\ta: x\n",
    "NUL": "version: 1\x00\n",
    "control character": "version: 1\npolicies:\n  a: \"x\x07y\"\n",
    "HCL that divides by zero": "version: 1\npolicies:\n  a: 'x = 1/0'\n",
    "HCL of the wrong shape": "version: 1\npolicies:\n  a: 'path = \"x\"'\n",
    "surrogate in a key": f"version: 1\npolicies:\n  \"\\ud800\": {P}\n",
    "auth method as list": "version: 1\nauth_methods:\n  x: [1]\n",
    "auth method null": "version: 1\nauth_methods:\n  x:\n",
    "token auth": "version: 1\nauth_methods:\n  t:\n    type: token\n",
    "kv-v2 alias contradicted": "version: 1\nsecrets_engines:\n  t:\n    type: kv-v2\n    version: 1\n",
    "prune not a mapping": "version: 1\nprune: [policies]\n",
    "root policy": f"version: 1\npolicies:\n  Root: {P}\n",
    "jwt without key source": "version: 1\nauth_methods:\n  j:\n    type: jwt\n    config: {}\n",
    "deep block nesting": "version: 1\nx:\n" + "".join(" " * i + "- \n" for i in range(3000)),
}


@pytest.mark.parametrize("name", list(ODD_INPUTS))
def test_odd_input_is_refused_with_located_errors_only(name: str) -> None:
    """The loader's contract: bad input raises InputError, never another exception."""
    with pytest.raises(InputError) as caught:
        load_text(ODD_INPUTS[name], "odd.yaml")
    assert caught.value.diagnostics
    for line in str(caught.value).splitlines():
        assert line.startswith("odd.yaml:"), line
        line.encode("utf-8")  # printable: no lone surrogates in messages


def test_fractional_duration_is_refused_not_rounded(offline_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "fraction.yaml"
    path.write_text("version: 1\nsecrets_engines:\n  transit:\n    type: transit\n    tune:\n      max_lease_ttl: 100ms\n")
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == (
        f"{path}:6:22: max_lease_ttl: invalid duration '100ms': "
        "use whole seconds (3600) or units s, m, h, d (90s, 1.5h, 7d)\n"
    )


def test_python_tags_construct_nothing(tmp_path: Path) -> None:
    """ruamel's round-trip loader keeps `!!python/...` as plain data: nothing is imported or run."""
    marker = tmp_path / "ran"
    text = f"version: 1\npolicies: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(InputError) as caught:
        load_text(text, "tag.yaml")
    assert str(caught.value) == "tag.yaml:2:11: policies: expected a mapping (key: value lines or {key: value})"
    assert not marker.exists()


def test_control_character_is_located(offline_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bell.yaml"
    path.write_text('version: 1\npolicies:\n  a: "x\x07y"\n')
    result = offline_cli("validate", "-f", str(path))
    assert result.code == 1
    assert result.err == f"{path}:3:8: invalid YAML: character #x0007: special characters are not allowed\n"
