"""PKI secrets engines' own configuration: roles, URLs, CRL settings and the CA issuer generated once.

`secrets_engines.<mount>.pki` holds `roles` (`<mount>/roles/NAME`), `urls` (`<mount>/config/urls`),
`crl` (`<mount>/config/crl`) and `root`: an issuer generated inside Vault (`root/generate/internal`,
the private key never leaves it) or imported from a PEM bundle, once, when the mount has none.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import EngineSingleton, UnderEngine
from vault_state.plan.model import Action, Call, Change
from vault_state.spec.fields import Adoptable, Canon, Literal_, Meta, NameSet, NotReturned, Seconds, WriteOnly
from vault_state.spec.types import Strict, Value

# Key sizes Vault accepts per key type (sdk/helper/certutil ValidateKeyTypeLength); 0 is the type's default.
KEY_BITS: dict[str, tuple[int, ...]] = {"rsa": (0, 2048, 3072, 4096, 8192), "ec": (0, 224, 256, 384, 521)}
DEFAULT_KEY_BITS = {"rsa": 2048, "ec": 256}
"""What Vault stores for key_bits 0: a role reads back 2048 (rsa) or 256 (ec); ed25519 and any keep 0."""
SignatureBits = Literal[0, 256, 384, 512]
"""0: chosen from the key (SHA-256 for RSA, the curve's hash for EC); Vault stores any number unchecked."""
CnCheck = Literal["email", "hostname", "disabled"]
CnValidations = Annotated[list[CnCheck], Canon(lambda v: sorted(set(v)))]


def _default_cn_validations() -> list[CnCheck]:
    return ["email", "hostname"]


def _key_bits(key_type: str, key_bits: int) -> int:
    """key_bits checked offline against key_type, with 0 replaced by what Vault stores for it."""
    allowed = KEY_BITS.get(key_type, (0,))
    if key_bits not in allowed:
        sizes = ", ".join(str(b) for b in allowed if b) or "none: leave key_bits out"
        raise ValueError(f"key_bits {key_bits} is not valid for key_type {key_type} (valid: {sizes})")
    return key_bits or DEFAULT_KEY_BITS.get(key_type, 0)


class PkiRole(Adoptable):
    """`<mount>/roles/NAME`. A write replaces the whole role: every field is sent."""

    allowed_domains: NameSet = Field(default_factory=list, description="Domains certificates may name.")
    allowed_domains_template: bool = Field(False, description="allowed_domains may use identity templates.")
    allow_bare_domains: bool = Field(False, description="A name equal to an allowed domain.")
    allow_subdomains: bool = Field(False, description="Names under an allowed domain (any depth).")
    allow_glob_domains: bool = Field(False, description="allowed_domains may hold globs (`*.example.com`).")
    allow_wildcard_certificates: bool = Field(True, description="Wildcard names (`*.example.com`).")
    allow_localhost: bool = True
    allow_any_name: bool = Field(False, description="Any common name: allowed_domains is not checked.")
    allow_globs_in_identity_templates: bool = False
    enforce_hostnames: bool = Field(True, description="Names must be valid hostnames.")
    allow_ip_sans: bool = Field(True, description="IP subject alternative names.")
    allowed_ip_sans_cidr: NameSet = Field(default_factory=list, description="CIDRs IP SANs must fall in (verbatim).")
    allowed_uri_sans: NameSet = Field(default_factory=list, description="URI SANs allowed (globs allowed).")
    allowed_uri_sans_template: bool = False
    allowed_other_sans: NameSet = Field(default_factory=list, description="`OID;UTF8:value` other SANs.")
    allowed_serial_numbers: NameSet = Field(default_factory=list, description="Subject serial numbers (globs).")
    allowed_user_ids: NameSet = Field(default_factory=list, description="Subject user ids (globs).")
    cn_validations: CnValidations = Field(
        default_factory=_default_cn_validations,
        min_length=1,
        description="How the common name is checked (Vault reads [] back as the default).",
    )
    server_flag: bool = Field(True, description="Certificates are for TLS servers (serverAuth).")
    client_flag: bool = Field(True, description="Certificates are for TLS clients (clientAuth).")
    code_signing_flag: bool = False
    email_protection_flag: bool = False
    key_type: Literal["rsa", "ec", "ed25519", "any"] = "rsa"
    key_bits: int = Field(0, ge=0, description="0: 2048 for rsa, 256 for ec (what Vault stores); none for others.")
    signature_bits: SignatureBits = 0
    use_pss: bool = Field(False, description="RSA-PSS signatures (rsa keys).")
    key_usage: NameSet = Field(
        default_factory=lambda: ["DigitalSignature", "KeyAgreement", "KeyEncipherment"],
        description="Key usages, stored verbatim (case kept).",
    )
    ext_key_usage: NameSet = Field(default_factory=list, description="Extra extended key usages (ServerAuth, ...).")
    ext_key_usage_oids: NameSet = Field(default_factory=list)
    ttl: Seconds = Field(0, description="0: the mount's default lease TTL.")
    max_ttl: Seconds = Field(0, description="0: the mount's maximum lease TTL.")
    not_before_duration: Seconds = Field(30, description="How far back certificates are dated.")
    not_before: Literal_ = Field("", description="A fixed notBefore, YYYY-MM-ddTHH:MM:SSZ (OpenBao).")
    not_before_bound: Literal["permit", "duration", "forbid"] = "permit"
    not_after: Literal_ = Field("", description="A fixed notAfter, YYYY-MM-ddTHH:MM:SSZ.")
    not_after_bound: Literal_ = Field("permit", description="permit, ttl-limited, forbid or a timestamp (OpenBao).")
    no_store: bool = Field(False, description="Issued certificates are not stored (cannot be revoked by serial).")
    generate_lease: bool = False
    require_cn: bool = True
    use_csr_common_name: bool = True
    use_csr_sans: bool = True
    basic_constraints_valid_for_non_ca: bool = False
    ou: NameSet = Field(default_factory=list)
    organization: NameSet = Field(default_factory=list)
    country: NameSet = Field(default_factory=list)
    locality: NameSet = Field(default_factory=list)
    province: NameSet = Field(default_factory=list)
    street_address: NameSet = Field(default_factory=list)
    postal_code: NameSet = Field(default_factory=list)
    policy_identifiers: NameSet = Field(default_factory=list, description="Certificate policy OIDs.")
    issuer_ref: Literal_ = Field("default", description="The issuer (name or id) that signs.")

    @model_validator(mode="after")
    def _bits(self) -> PkiRole:
        if self.no_store and self.generate_lease:  # Vault stores generate_lease false then, silently
            raise ValueError("generate_lease needs stored certificates: it cannot be true with no_store: true")
        object.__setattr__(self, "key_bits", _key_bits(self.key_type, self.key_bits))
        return self


class PkiUrls(Adoptable):
    """`<mount>/config/urls`: the AIA URLs written into issued certificates."""

    issuing_certificates: NameSet = Field(default_factory=list, description="Where the CA certificate is.")
    crl_distribution_points: NameSet = Field(default_factory=list)
    delta_crl_distribution_points: NameSet = Field(default_factory=list)
    ocsp_servers: NameSet = Field(default_factory=list)
    enable_templating: bool = Field(False, description="URLs may use {{cluster_path}}, {{issuer_id}}, ...")


class PkiCrl(Adoptable):
    """`<mount>/config/crl`. Vault stores durations as written ("72h", "3600"): compared as seconds."""

    expiry: Seconds = Field(259200, description="How long a CRL is valid (72h).")
    disable: bool = Field(False, description="No CRL is built.")
    ocsp_disable: bool = False
    ocsp_expiry: Seconds = Field(43200, description="OCSP responses' validity (12h); 0: no NextUpdate.")
    auto_rebuild: bool = Field(False, description="Rebuild the CRL before it expires.")
    auto_rebuild_grace_period: Seconds = Field(43200, description="How long before expiry (12h).")
    enable_delta: bool = Field(False, description="Delta CRLs (needs auto_rebuild).")
    delta_rebuild_interval: Seconds = Field(900, description="How often delta CRLs are rebuilt (15m).")
    allow_expired_cert_revocation: bool = False

    @model_validator(mode="after")
    def _delta_needs_rebuild(self) -> PkiCrl:
        if self.enable_delta and not self.auto_rebuild:
            raise ValueError("enable_delta needs auto_rebuild: true (Vault refuses delta CRLs without it)")
        if self.auto_rebuild and self.auto_rebuild_grace_period >= self.expiry:
            raise ValueError("auto_rebuild_grace_period must be shorter than expiry")
        return self


NR = NotReturned()


class PkiRoot(Adoptable):
    """The mount's issuer, made once: generated (`common_name`, ...) or imported (`pem_bundle`).

    Vault returns none of these fields (they are how an issuer is made, not what it is): once the
    mount has an issuer nothing here is compared or sent again."""

    common_name: Annotated[Literal_, NR] = Field(
        "", description="Generate a root with this CN (exclusive with pem_bundle)."
    )
    pem_bundle: Annotated[
        Value | None,
        WriteOnly(),
        Field(description="Import this CA certificate and key instead (write-only; from {file} or {env})."),
    ] = None
    key_type: Annotated[Literal["rsa", "ec", "ed25519"], NR] = "rsa"
    key_bits: Annotated[int, NR] = Field(0, ge=0, description="0: 2048 for rsa, 256 for ec.")
    signature_bits: Annotated[SignatureBits, NR] = 0
    use_pss: Annotated[bool, NR] = False
    ttl: Annotated[Seconds, NR] = Field(0, description="0: the mount's max_lease_ttl (Vault caps a longer ttl to it).")
    issuer_name: Annotated[Literal_, NR] = ""
    key_name: Annotated[Literal_, NR] = ""
    alt_names: Annotated[NameSet, NR] = Field(default_factory=list)
    ip_sans: Annotated[NameSet, NR] = Field(default_factory=list)
    uri_sans: Annotated[NameSet, NR] = Field(default_factory=list)
    max_path_length: Annotated[int, NR] = Field(-1, ge=-1, description="-1: no limit.")
    exclude_cn_from_sans: Annotated[bool, NR] = False
    permitted_dns_domains: Annotated[NameSet, NR] = Field(default_factory=list)
    ou: Annotated[NameSet, NR] = Field(default_factory=list)
    organization: Annotated[NameSet, NR] = Field(default_factory=list)
    country: Annotated[NameSet, NR] = Field(default_factory=list)
    locality: Annotated[NameSet, NR] = Field(default_factory=list)
    province: Annotated[NameSet, NR] = Field(default_factory=list)
    street_address: Annotated[NameSet, NR] = Field(default_factory=list)
    postal_code: Annotated[NameSet, NR] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> PkiRoot:
        if bool(self.common_name) == (self.pem_bundle is not None):
            raise ValueError("give either common_name (to generate) or pem_bundle (to import), not both")
        object.__setattr__(self, "key_bits", _key_bits(self.key_type, self.key_bits))
        return self


class PkiSection(Strict):
    """`secrets_engines.<mount>.pki`: the configuration inside a pki engine."""

    roles: Annotated[dict[str, PkiRole], Meta()] = Field(default_factory=dict, description="Key: role name.")
    urls: Annotated[PkiUrls | None, Meta()] = None
    crl: Annotated[PkiCrl | None, Meta()] = None
    root: Annotated[PkiRoot | None, Meta()] = Field(
        None, description="Made once if the mount has no issuer; never compared or re-made after."
    )


def root_calls(kind: DeclaredKind, change: Change) -> list[Call]:
    """Vault makes an issuer with a POST to `root/generate/internal` (type internal: the private
    key never leaves Vault) or `issuers/import/bundle`, not to `config/issuers` where it is read.
    Only a create writes: nothing is compared, so a plan never updates or replaces an issuer."""
    if change.action is not Action.CREATE:
        return []
    assert change.after is not None
    mount = change.id.path
    bundle = change.after.write_only.get("pem_bundle")
    if bundle is not None:
        return [Call("POST", f"{mount}/issuers/import/bundle", {"pem_bundle": bundle}, show=("imported_issuers",))]
    body: dict[str, Any] = {k: v for k, v in change.after.values.items() if v not in ("", [])}
    if "alt_names" in body:  # a comma-separated string to Vault (TypeString), unlike the other lists
        body["alt_names"] = ",".join(body["alt_names"])
    show = ("issuer_id", "issuer_name", "serial_number")
    return [Call("POST", f"{mount}/root/generate/internal", body, show=show)]


ROLE = DeclaredKind(
    name="pki_role", prune_key="pki_roles", model=PkiRole, place=UnderEngine("pki", ("pki", "roles"), "roles")
)
URLS = DeclaredKind(
    name="pki_urls",
    prune_key="",  # one per engine: never listed or pruned
    model=PkiUrls,
    place=EngineSingleton("pki", ("pki", "urls"), "config/urls"),
)
CRL = DeclaredKind(
    name="pki_crl",
    prune_key="",
    model=PkiCrl,
    place=EngineSingleton("pki", ("pki", "crl"), "config/crl"),
)
ROOT = DeclaredKind(
    name="pki_root",
    prune_key="",
    model=PkiRoot,
    place=EngineSingleton("pki", ("pki", "root"), "config/issuers", exists_list="issuers"),
    calls_quirk=root_calls,
    # config/issuers answers {"default": ""} on a mount without an issuer: LIST issuers is empty until one exists.
    unauthenticated=frozenset({"issuers"}),  # a pki mount lists its issuers to anyone, without a token
    notes=("an issuer exists on this mount: root's fields are not compared and no issuer is generated again",),
)
KINDS = (URLS, CRL, ROOT, ROLE)
"""Apply order inside a pki engine: URLs before the issuer (its AIA fields), the issuer before roles."""
