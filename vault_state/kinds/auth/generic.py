"""Any auth type without a typed model: free-form config and roles, compared on the keys the file gives.

Removing a key from the file does not reset it (the plan says so): the tool does not know the
type's defaults. Write values in the form Vault returns them (e.g. TTLs as seconds).
"""

from __future__ import annotations

from vault_state.kinds.auth.shape import AuthType

TYPE = AuthType("role", None, None)
