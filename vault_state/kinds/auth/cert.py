"""Cert auth: `config` (writes merge) and its CA certificate roles under `certs/<name>`.

A role written without display_name stores its own name there: both sides read an empty one as the name.
"""

from __future__ import annotations

from vault_state.kinds.auth.shape import AuthType, Values
from vault_state.spec.auth import CertConfig, CertRole


def display_name_defaults_to_name(name: str, values: Values) -> Values:
    if values.get("display_name") == "":
        return {**values, "display_name": name}
    return values


TYPE = AuthType("certs", CertRole, CertConfig, role_quirk=display_name_defaults_to_name)
