"""targets.yaml: the servers of a fleet, how to log in to each, and the files (and overlays) each gets.

Read with the state file's YAML loader and validated by a strict pydantic model; every problem is a
located `FILE:LINE:COL: message`. Paths in it are relative to the targets file.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from vault_state.durations import to_seconds
from vault_state.errors import ConfigurationError, Diagnostic, InputError
from vault_state.spec.loader import parse_file
from vault_state.spec.positions import SourceMap
from vault_state.spec.types import Strict
from vault_state.vault.login import METHODS

TargetName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


def _seconds(value: object) -> float:
    if isinstance(value, float):  # 2.5 in YAML: not a whole number of seconds
        raise ValueError(f"expected a duration such as 5s, 30s or 1m, got {value!r}")
    return float(to_seconds(value))


def _at_least_a_second(value: float) -> float:
    if value < 1:
        raise ValueError("expected at least 1s")
    return value


Budget = Annotated[float, BeforeValidator(_seconds)]
Timeout = Annotated[float, BeforeValidator(_seconds), AfterValidator(_at_least_a_second)]


class TargetLogin(Strict):
    """`--login` for one target: the method, its role and auth mount, and where its own credentials are
    (a variable or a file each; the variables `--login` reads when none is named)."""

    method: Literal["approle", "jwt", "kubernetes"] = Field(description=f"One of {', '.join(METHODS)}.")
    role: str = Field("", description="The role (jwt, kubernetes); default VAULT_LOGIN_ROLE.")
    mount: str = Field("", description="The auth mount; default: the method's name.")
    role_id_env: EnvName | None = Field(None, description="approle: the variable holding the role ID.")
    role_id_file: str = Field("", description="approle: the file holding the role ID.")
    secret_id_env: EnvName | None = Field(None, description="approle: the variable holding the secret ID.")
    secret_id_file: str = Field("", description="approle: the file holding the secret ID.")
    jwt_env: EnvName | None = Field(None, description="jwt, kubernetes: the variable holding the JWT.")
    jwt_file: str = Field("", description="jwt, kubernetes: the file holding the JWT (relative to targets.yaml).")


# Which login keys each method reads; the others are refused, so a key meant for another method
# cannot be silently ignored.
_LOGIN_KEYS = {
    "approle": ("role_id_env", "role_id_file", "secret_id_env", "secret_id_file"),
    "jwt": ("role", "jwt_env", "jwt_file"),
    "kubernetes": ("role", "jwt_env", "jwt_file"),
}
_ONE_OF = (("role_id_env", "role_id_file"), ("secret_id_env", "secret_id_file"), ("jwt_env", "jwt_file"))


class Target(Strict):
    """One server and what it gets."""

    address: str = Field(pattern=r"^https?://[^\s/]+", description="The server's address.")
    namespace: str = Field("", description="The namespace the files apply to (Vault Enterprise, OpenBao).")
    ca_cert: str = Field("", description="CA certificate file (relative to targets.yaml); default VAULT_CACERT.")
    login: TargetLogin | None = Field(None, description="Log in with this method (credentials as for --login).")
    token_env: EnvName | None = Field(None, description="The environment variable holding the token.")
    files: list[str] = Field(min_length=1, description="-f: state files or directories (relative to targets.yaml).")
    overlays: list[str] = Field(default_factory=list, description="--overlay files, in order.")
    recursive: bool = Field(False, description="--recursive: read the subdirectories of `files` directories.")
    connect_timeout: Timeout | None = Field(None, description="--connect-timeout for this target.")
    retry_budget: Budget | None = Field(None, description="--retry-budget for this target.")

    @model_validator(mode="after")
    def _one_credential(self) -> Target:
        if self.login is None and self.token_env is None:
            raise ValueError("how to get a token: give 'token_env' (the variable holding it) or 'login'")
        if self.login is not None and self.token_env is not None:
            raise ValueError("give 'token_env' or 'login', not both")
        return self


class TargetsFile(Strict):
    targets: dict[TargetName, Target] = Field(min_length=1)


@dataclass(frozen=True)
class Fleet:
    """The targets, in the file's order, with their paths made relative to where the command runs."""

    path: Path
    targets: dict[str, Target]

    def selected(self, only: Sequence[str]) -> list[str]:
        """The target names matching any `--only` glob (all without one), in the file's order."""
        if not only:
            return list(self.targets)
        unmatched = [glob for glob in only if not any(fnmatch.fnmatchcase(n, glob) for n in self.targets)]
        if unmatched:
            raise ConfigurationError(f"--only {', '.join(unmatched)}: no target in {self.path} matches "
                                     f"(targets: {', '.join(self.targets)})")
        return [name for name in self.targets if any(fnmatch.fnmatchcase(name, glob) for glob in only)]


def load_targets(path: Path) -> Fleet:
    """Read and validate a targets file. Raises InputError with every located problem."""
    try:
        data, source = parse_file(path)
    except InputError as exc:  # the loader's words are for a state file
        raise InputError([replace(d, message=_as_targets(d.message)) for d in exc.diagnostics]) from None
    try:
        model = TargetsFile.model_validate(data)
    except ValidationError as exc:
        raise InputError([_diagnostic(e, source) for e in exc.errors(include_url=False)]) from None
    problems = [d for name, target in model.targets.items() for d in _login_problems(name, target, source)]
    if problems:
        raise InputError(problems)
    here = path.parent
    targets = {name: _relative(target, here) for name, target in model.targets.items()}
    return Fleet(path, targets)


def _login_problems(name: str, target: Target, source: SourceMap) -> list[Diagnostic]:
    """Login keys of another method, and a credential named twice (a variable and a file)."""
    login = target.login
    if login is None:
        return []
    given = login.model_fields_set
    at = ("targets", name, "login")
    problems = []
    order = list(TargetLogin.model_fields)
    for key in sorted(given - {"method", "mount"} - set(_LOGIN_KEYS[login.method]), key=order.index):
        users = " and ".join(m for m, keys in _LOGIN_KEYS.items() if key in keys)
        problems.append(Diagnostic(source.locate((*at, key), key=True),
                                   f"'{key}' is for {users} logins, not {login.method}"))
    for env, file in _ONE_OF:
        if env in given and file in given:
            problems.append(Diagnostic(source.locate((*at, file), key=True), f"give '{env}' or '{file}', not both"))
    return problems


def _as_targets(message: str) -> str:
    if message.startswith("the state file is empty"):
        return "the targets file is empty; it must start with 'targets:'"
    if message.startswith("the state file must be a mapping"):
        return "the targets file must be a mapping with 'targets:'"
    return message.replace("the state file", "the targets file")


def _relative(target: Target, here: Path) -> Target:
    def at(name: str) -> str:
        return str(here / name) if name else ""

    login = target.login
    if login is not None:
        login = login.model_copy(update={key: at(getattr(login, key))
                                         for key in ("role_id_file", "secret_id_file", "jwt_file")})
    return target.model_copy(update={
        "ca_cert": at(target.ca_cert), "login": login,
        "files": [at(f) for f in target.files], "overlays": [at(f) for f in target.overlays],
    })


_SAID = {
    "model_type": "expected a mapping (key: value lines or {key: value})",
    "dict_type": "expected a mapping (key: value lines or {key: value})",
    "list_type": "expected a list ([a, b] or '- item' lines)",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "literal_error": f"expected one of {', '.join(METHODS)}",
}
_PATTERNS = {
    "[key]": "a target's name is letters, digits, '_', '.', '-'",
    "address": "expected an address such as https://vault.example.com:8200",
    "token_env": "expected the name of an environment variable",
    "role_id_env": "expected the name of an environment variable",
    "secret_id_env": "expected the name of an environment variable",
    "jwt_env": "expected the name of an environment variable",
}


def _diagnostic(error: ErrorDetails, source: SourceMap) -> Diagnostic:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        models: dict[int, type[Strict]] = {1: TargetsFile, 3: Target, 4: TargetLogin}
        model = models.get(len(loc), Target)
        close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return Diagnostic(source.locate(loc, key=True), f"unknown key '{loc[-1]}'{hint}")
    if kind == "missing":
        return Diagnostic(source.locate(loc[:-1]), f"missing required key '{loc[-1]}'")
    last = str(loc[-1]) if loc else ""
    message = _SAID.get(kind, error["msg"].removeprefix("Value error, "))
    if kind == "string_pattern_mismatch":
        message = _PATTERNS.get(last, message)
    elif kind == "too_short":
        message = "name at least one target" if last == "targets" else "name at least one file or directory"
    if (kind == "value_error" and len(loc) < 3) or last == "[key]" or not last:  # the whole target, or its name
        return Diagnostic(source.locate(loc), message)
    return Diagnostic(source.locate(loc), f"{last}: {message}")
