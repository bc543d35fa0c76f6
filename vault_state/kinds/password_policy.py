"""Password policies: `sys/policies/password/<name>`, the rules secrets engines generate passwords by.

The policy is HCL text, stored byte for byte like an ACL policy: compared (and written) in canonical
form (LF line ends, one trailing newline). The file gives the text, or `{policy: TEXT}`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import TopLevel
from vault_state.spec.fields import Adoptable, Canon, no_source, or_shorthand
from vault_state.spec.hcl_text import loads_hcl
from vault_state.spec.policies import canonical_text

PolicyText = Annotated[str, BeforeValidator(no_source), Canon(canonical_text)]  # parsed offline


class PasswordPolicy(Adoptable):
    model_config = ConfigDict(json_schema_extra=or_shorthand({"type": "string"}))

    policy: PolicyText = Field(
        description="HCL: `length` and one or more `rule \"charset\" {charset = ..., min-chars = N}` blocks."
    )

    @model_validator(mode="before")
    @classmethod
    def _text_alone(cls, data: Any) -> Any:
        return {"policy": data} if isinstance(data, str) else data

    @field_validator("policy")
    @classmethod
    def _parses(cls, text: str) -> str:
        problem = password_policy_problem(text)
        if problem:
            raise ValueError(problem)
        return text


def password_policy_problem(text: str) -> str:
    """What Vault would refuse in this policy text ("" when nothing): it must parse as HCL, set a
    positive `length` and have at least one charset rule."""
    try:
        parsed = loads_hcl(text)
    except Exception as exc:  # pyhcl raises ValueError, and lexer errors of other types on odd input
        return "invalid password policy HCL: " + str(exc).encode("ascii", "backslashreplace").decode("ascii")
    if not isinstance(parsed, dict):
        return "invalid password policy: expected `length` and `rule` blocks"
    length = parsed.get("length")
    if not isinstance(length, int) or isinstance(length, bool) or not 4 <= length <= 100:
        return "invalid password policy: `length` must be a number from 4 to 100 (Vault refuses others)"
    rules = parsed.get("rule", {})
    charsets = rules.get("charset") if isinstance(rules, dict) else None
    if not charsets:
        return 'invalid password policy: at least one `rule "charset" { charset = "..." }` block is required'
    return ""


KIND = DeclaredKind(
    name="password_policy",
    prune_key="password_policies",
    model=PasswordPolicy,
    place=TopLevel("password_policies", "sys/policies/password"),
)
