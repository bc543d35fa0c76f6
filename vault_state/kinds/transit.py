"""Transit keys: `<mount>/keys/<name>` in every transit engine (`transit: {keys: {NAME: ...}}`).

A key is created once by a write to `keys/<name>`; writing there again changes nothing (Vault
answers with the existing key, type unchanged). Its settings change through `keys/<name>/config`.
A key's type, derivation, convergence and HMAC size can never change: re-creating the key would
make every ciphertext unreadable, so such a change is refused, even with --allow-destroy.
`exportable` and `allow_plaintext_backup` can be turned on but never off (Vault ignores `false`).
Deleting a key needs `deletion_allowed: true` on the server first: the delete sets it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import UnderEngine
from vault_state.plan.model import Action, Call, Change
from vault_state.spec.fields import Adoptable, CreateOnly, OneWay, Seconds
from vault_state.spec.types import Strict, check_name

KeyType = Literal[
    "aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "xchacha20-poly1305", "ecdsa-p256", "ecdsa-p384",
    "ecdsa-p521", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096", "hmac",
]
SYMMETRIC = ("aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "xchacha20-poly1305")
LOST = "every ciphertext made with it becomes unreadable"
NEVER = (
    "Vault cannot change a transit key's {field}, and re-creating the key would make every ciphertext "
    "made with it unreadable; keep the old value, or declare a new key and rewrap the data with it"
)
ONE_WAY = ("exportable", "allow_plaintext_backup")
"""Flags Vault turns on through the key's config and never off (a `false` is silently ignored)."""
KEPT = OneWay(
    "Vault keeps a transit key exportable or backed up in plaintext once it was allowed; keep it true, "
    "or declare a new key and rewrap the data"
)
CONFIG = ("deletion_allowed", "min_decryption_version", "min_encryption_version", "auto_rotate_period", *ONE_WAY)


KeyName = Annotated[str, AfterValidator(lambda name: check_name(name, "key"))]


def _never(field: str) -> Any:
    return CreateOnly(loss=LOST, refuse=NEVER.format(field=field))


class TransitKey(Adoptable):
    type: Annotated[KeyType, _never("type")] = Field(
        "aes256-gcm96", description="Key type; set when the key is created, never changed (a change is refused)."
    )
    derived: Annotated[bool, _never("derived")] = Field(
        False, description="Key derivation: every operation needs a context. Set when the key is created."
    )
    convergent_encryption: Annotated[bool, _never("convergent_encryption")] = Field(
        False, description="Same plaintext and context give the same ciphertext (needs derived). Create-only."
    )
    key_size: Annotated[int, _never("key_size")] = Field(
        0, description="HMAC keys only: the key size in bytes (32-512); 0 is Vault's default. Create-only."
    )
    exportable: Annotated[bool, KEPT] = Field(
        False, description="The key may be exported. Can be turned on, never off."
    )
    allow_plaintext_backup: Annotated[bool, KEPT] = Field(
        False, description="The key may be backed up in plaintext. Can be turned on, never off."
    )
    deletion_allowed: bool = Field(False, description="The key may be deleted (a delete by prune sets it first).")
    min_decryption_version: int = Field(
        1, ge=1, description="Oldest key version that may decrypt (at most the key's latest version)."
    )
    min_encryption_version: int = Field(
        0, ge=0, description="Oldest version that may encrypt; 0 means the latest version only."
    )
    auto_rotate_period: Seconds = Field(0, description="Rotate the key this often; 0 never, else at least 1h.")

    @model_validator(mode="after")
    def _vault_rules(self) -> TransitKey:
        # Vault's own checks at create time, refused here with the field's location instead.
        if self.convergent_encryption and not self.derived:
            raise ValueError("convergent_encryption requires derived: true")
        if self.convergent_encryption and self.type not in SYMMETRIC:
            raise ValueError(f"convergent_encryption needs a symmetric key type, not {self.type}")
        if self.derived and self.type not in (*SYMMETRIC, "ed25519"):
            raise ValueError(f"key type {self.type} does not support derived keys")
        if self.key_size and self.type != "hmac":
            raise ValueError(f"key_size applies to hmac keys only (this key's type is {self.type})")
        if self.key_size and not 32 <= self.key_size <= 512:
            raise ValueError(f"key_size must be between 32 and 512 bytes, not {self.key_size}")
        if self.auto_rotate_period and self.auto_rotate_period < 3600:
            raise ValueError("auto_rotate_period must be 0 (never) or at least 1h")
        if self.min_encryption_version and self.min_encryption_version < self.min_decryption_version:
            raise ValueError("min_encryption_version must be 0 or at least min_decryption_version")
        return self


def key_calls(kind: DeclaredKind, change: Change) -> list[Call]:
    """Created at `keys/<name>`, configured at `keys/<name>/config`; a delete first allows it."""
    path = kind.place.api_path(change.id.path)
    if change.action is Action.DELETE:
        return [Call("POST", f"{path}/config", {"deletion_allowed": True}), Call("DELETE", path)]
    assert change.after is not None
    values = change.after.values
    config = Call("POST", f"{path}/config", {name: values[name] for name in CONFIG})
    if change.action is Action.UPDATE:
        return [config]
    create = {name: values[name] for name in ("type", "derived", "convergent_encryption", *ONE_WAY)}
    create.update({"key_size": values["key_size"]} if values["key_size"] else {})
    return [Call("POST", path, create), config]


KIND = DeclaredKind(
    name="transit_key",
    prune_key="transit_keys",
    model=TransitKey,
    place=UnderEngine("transit", ("transit", "keys"), "keys"),
    calls_quirk=key_calls,
    delete_loss=LOST,
)


class TransitSection(Strict):
    """A transit engine's own configuration."""

    keys: dict[KeyName, TransitKey] = Field(default_factory=dict, description="Key: the key's name.")
