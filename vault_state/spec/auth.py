"""Spec models of auth methods, discriminated by `type`, with their config and roles (or users).

Typed: kubernetes, approle, userpass, jwt, oidc and cert, with Vault's real parameter names and
defaults. Any other type is accepted with free-form `config` and `roles`. The `token_*` fields
shared by every role are defined once; the legacy names are folded into them on load.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from vault_state.spec.engines import Tune
from vault_state.spec.fields import (
    Adoptable,
    Canon,
    CidrSet,
    CreateOnly,
    KeptWhenUnset,
    Literal_,
    LowerNameSet,
    Meta,
    NameSet,
    Pem,
    PemSet,
    Seconds,
    StringMap,
    Text,
    TextSet,
    Url,
    WriteOnly,
    lower_text,
    name_set,
    sorted_map,
    stripped,
)
from vault_state.spec.types import RoleName, Strict, Value

APPROLE_RECREATE_LOSS = (
    "its role_id changes and every secret ID issued for it stops working: "
    "each client (a CI job, an app) needs the new role_id and a new secret ID"
)

# Roles take only these three; "default-service"/"default-batch" are valid on auth mounts only.
TokenType = Literal["default", "service", "batch"]

# Vault's legacy role parameters and the token_* names they mirror.
LEGACY_TOKEN_ALIASES = {
    "policies": "token_policies",
    "ttl": "token_ttl",
    "max_ttl": "token_max_ttl",
    "period": "token_period",
    "bound_cidrs": "token_bound_cidrs",
    "num_uses": "token_num_uses",
}


class AuthTune(Tune):
    token_type: Literal["default-service", "default-batch", "service", "batch"] = "default-service"


class TokenFields(Adoptable):
    """The token_* parameters every role and user has, with Vault's defaults."""

    token_ttl: Seconds = 0
    token_max_ttl: Seconds = 0
    token_explicit_max_ttl: Seconds = 0
    token_period: Seconds = 0
    token_policies: LowerNameSet = Field(default_factory=list, description="Compared as a set of lowercase names.")
    token_bound_cidrs: CidrSet = Field(default_factory=list)
    token_no_default_policy: bool = False
    token_num_uses: int = Field(0, ge=0)
    token_type: TokenType = "default"
    prevent_destroy: Annotated[bool, Meta()] = Field(
        False, description="Refuse any plan that would delete and re-create this role (a create-only field changed)."
    )

    @model_validator(mode="before")
    @classmethod
    def _fold_legacy_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for legacy, name in LEGACY_TOKEN_ALIASES.items():
            if legacy in data:
                if name in data:
                    raise ValueError(f"'{legacy}' is the legacy name of '{name}': give only '{name}'")
                data[name] = data.pop(legacy)
        return data

    @model_validator(mode="after")
    def _ttl_not_above_max(self) -> TokenFields:
        if self.token_max_ttl and self.token_ttl > self.token_max_ttl:
            raise ValueError("token_ttl is greater than token_max_ttl")
        return self


class _AuthBase(Adoptable):
    description: Text = ""
    local: bool = Field(False, description="Set at enable time; changing it replaces the auth method.")
    seal_wrap: bool = Field(False, description="Set at enable time; changing it replaces the auth method.")
    tune: AuthTune = Field(default_factory=AuthTune)
    prevent_destroy: Annotated[bool, Meta()] = Field(
        False, description="Refuse any plan that would disable this auth method."
    )


# --- kubernetes -------------------------------------------------------------------------------


class KubernetesConfig(Strict):
    kubernetes_host: Url = Field(description="The API server's URL (a trailing '/' is ignored).")
    kubernetes_ca_cert: Pem = ""
    token_reviewer_jwt: Annotated[Value | None, WriteOnly("token_reviewer_jwt_set"), Canon(stripped)] = Field(
        None, description="Write-only; never read back (the plan compares whether one is set)."
    )
    pem_keys: PemSet = Field(default_factory=list)
    disable_local_ca_jwt: bool = False
    disable_iss_validation: bool = True  # deprecated, but still returned with this default
    issuer: Text = ""

    @field_validator("kubernetes_host")
    @classmethod
    def _host_given(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("kubernetes_host cannot be empty")
        return value

    @model_validator(mode="after")
    def _ca_when_local_disabled(self) -> KubernetesConfig:
        # Vault refuses the write ("kubernetes_ca_cert must be given when disable_local_ca_jwt is true").
        if self.disable_local_ca_jwt and self.kubernetes_ca_cert == "":
            raise ValueError("kubernetes_ca_cert must be given when disable_local_ca_jwt is true")
        return self


class KubernetesRole(TokenFields):
    bound_service_account_names: NameSet = Field(min_length=1)
    bound_service_account_namespaces: NameSet = Field(default_factory=list)
    bound_service_account_namespace_selector: Text = ""
    # A literal, not a source: eso-manifests writes it into the SecretStore offline.
    audience: Literal_ = ""
    alias_name_source: Literal["serviceaccount_uid", "serviceaccount_name"] = "serviceaccount_uid"

    @model_validator(mode="after")
    def _namespaces_or_selector(self) -> KubernetesRole:
        if not self.bound_service_account_namespaces and not self.bound_service_account_namespace_selector:
            raise ValueError(
                "bound_service_account_namespaces cannot be empty unless "
                "bound_service_account_namespace_selector is set"
            )
        return self


class KubernetesAuth(_AuthBase):
    type: Literal["kubernetes"]
    config: KubernetesConfig | None = None
    roles: dict[RoleName, KubernetesRole] = Field(default_factory=dict)


# --- approle ----------------------------------------------------------------------------------


class AppRoleRole(TokenFields):
    # Kept at role/<name>/role-id, not in the role's own read: AuthType.sub_paths reads and writes it.
    role_id: Annotated[Text | None, KeptWhenUnset()] = Field(
        None, description="A fixed role_id (compared only when given: Vault generates one otherwise)."
    )
    bind_secret_id: bool = True
    # Unlike token_bound_cidrs, Vault refuses a bare address here ("invalid CIDR address"): not a CidrSet.
    secret_id_bound_cidrs: NameSet = Field(default_factory=list)
    secret_id_num_uses: int = Field(0, ge=0)
    secret_id_ttl: Seconds = 0
    # Any update that carries it, even with the stored value, fails with 400 "local_secret_ids can
    # only be modified during role creation".
    local_secret_ids: Annotated[bool, CreateOnly(APPROLE_RECREATE_LOSS)] = Field(
        False, description="Set when the role is created; changing it re-creates the role (new role_id)."
    )


class AppRoleAuth(_AuthBase):
    type: Literal["approle"]
    roles: dict[RoleName, AppRoleRole] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _role_ids_unique(cls, roles: dict[str, AppRoleRole]) -> dict[str, AppRoleRole]:
        # Vault refuses the second role with HTTP 500 "role_id already in use" (values from sources
        # are known only at plan time and are not checked here).
        seen: dict[str, str] = {}
        for name, role in roles.items():
            if isinstance(role.role_id, str):
                if role.role_id in seen:
                    raise ValueError(f"roles '{seen[role.role_id]}' and '{name}' have the same role_id")
                seen[role.role_id] = name
        return roles


# --- userpass ---------------------------------------------------------------------------------


class UserpassUser(TokenFields):
    password: Annotated[Value | None, WriteOnly(always=True)] = Field(
        None, description="Write-only; sent on create and whenever the user changes."
    )
    password_hash: Annotated[Value | None, WriteOnly()] = Field(
        None, description="Write-only: a bcrypt hash of the password, instead of `password`."
    )

    @model_validator(mode="after")
    def _one_password(self) -> UserpassUser:
        # Vault refuses both ("only one of password or password_hash may be provided").
        if (self.password is None) == (self.password_hash is None):
            raise ValueError("exactly one of password or password_hash must be given")
        return self


class UserpassAuth(_AuthBase):
    type: Literal["userpass"]
    users: dict[RoleName, UserpassUser] = Field(default_factory=dict)


# --- jwt / oidc -------------------------------------------------------------------------------


class JwtConfig(Strict):
    oidc_discovery_url: Text = ""
    oidc_discovery_ca_pem: Text = ""
    oidc_client_id: Text = ""
    oidc_client_secret: Annotated[Value | None, WriteOnly(implied_by="oidc_client_id")] = Field(
        None, description="Write-only: sent, never read back or compared."
    )
    oidc_response_mode: Literal["", "query", "form_post"] = ""
    oidc_response_types: NameSet = Field(default_factory=list)
    jwks_url: Text = ""
    jwks_ca_pem: Text = ""
    jwt_validation_pubkeys: PemSet = Field(default_factory=list)
    jwt_supported_algs: NameSet = Field(default_factory=list)
    bound_issuer: Text = ""
    default_role: Annotated[Value, Canon(lower_text)] = Field("", description="Stored lowercased.")
    namespace_in_state: bool = True
    provider_config: Annotated[dict[str, Any], Canon(sorted_map)] = Field(
        default_factory=dict,
        description="Provider-specific settings (`provider: azure`, ...); its secret keys are never read back.",
    )
    override_allowed_server_names: NameSet = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_key_source(self) -> JwtConfig:
        sources = [self.oidc_discovery_url, self.jwks_url, self.jwt_validation_pubkeys]
        if sum(1 for s in sources if s) != 1:
            raise ValueError(
                "exactly one of oidc_discovery_url, jwks_url or jwt_validation_pubkeys must be set"
            )
        if (self.oidc_client_id == "") != (self.oidc_client_secret is None):
            raise ValueError("oidc_client_id and oidc_client_secret are given together")
        if self.oidc_client_id and not self.oidc_discovery_url:
            raise ValueError("oidc_client_id needs oidc_discovery_url")
        if "id_token" in self.oidc_response_types and self.oidc_response_mode != "form_post":
            # Vault: "query response_mode may not be used with an id_token response_type".
            raise ValueError("oidc_response_types id_token needs oidc_response_mode: form_post")
        return self


class JwtRole(TokenFields):
    role_type: Literal["jwt", "oidc"] = "oidc"
    user_claim: Text = Field(description="Required.")
    user_claim_json_pointer: bool = False
    bound_audiences: TextSet = Field(default_factory=list)
    bound_subject: Text = ""
    bound_claims: Annotated[dict[str, Any], Canon(sorted_map)] = Field(default_factory=dict)
    bound_claims_type: Literal["string", "glob"] = "string"
    claim_mappings: StringMap = Field(default_factory=dict)
    groups_claim: Text = ""
    allowed_redirect_uris: TextSet = Field(default_factory=list)
    oidc_scopes: NameSet = Field(default_factory=list)
    clock_skew_leeway: Seconds = 0
    expiration_leeway: Seconds = 0
    not_before_leeway: Seconds = 0
    max_age: Seconds = 0
    verbose_oidc_logging: bool = False
    # OpenBao only (HashiCorp Vault ignores them, with a warning):
    callback_mode: Literal["client", "direct", "device"] = "client"
    poll_interval: int = Field(0, ge=0, description="Seconds; 0: the provider's (device flow) or 5.")
    oidc_disable_confirmation: bool = False
    token_policies_template_claims: bool = False
    oauth2_metadata: Annotated[
        list[Literal["access_token", "id_token", "refresh_token"]], Canon(name_set)
    ] = Field(default_factory=list)

    @field_validator("user_claim")
    @classmethod
    def _claim_given(cls, value: Any) -> Any:
        if isinstance(value, str) and not value:
            raise ValueError("user_claim cannot be empty")
        return value

    @model_validator(mode="after")
    def _jwt_needs_a_bound(self) -> JwtRole:
        if self.role_type == "jwt" and not (self.bound_audiences or self.bound_subject or self.bound_claims):
            raise ValueError("a jwt role needs at least one of bound_audiences, bound_subject, bound_claims")
        if self.role_type == "oidc" and not self.allowed_redirect_uris:
            raise ValueError("an oidc role needs allowed_redirect_uris")
        return self


class JwtAuth(_AuthBase):
    type: Literal["jwt", "oidc"]
    config: JwtConfig | None = None
    roles: dict[RoleName, JwtRole] = Field(default_factory=dict)


# --- cert -------------------------------------------------------------------------------------


def _ocsp_cache_size(value: Any) -> Any:
    # An unset size reads back as 0 and means OpenBao's 100; 0 itself is refused (2 to 100000).
    return int(value) or 100


class CertConfig(Strict):
    disable_binding: bool = False
    enable_identity_alias_metadata: bool = False
    ocsp_cache_size: Annotated[int, Canon(_ocsp_cache_size)] = Field(100, ge=2, le=100000)


def _ordered(value: Any) -> list[Any]:
    """A list whose order Vault keeps and uses (OCSP servers are asked in order)."""
    return [v for v in value or [] if v != ""]


class CertRole(TokenFields):
    certificate: Pem = Field(description="The trusted CA (or client) certificate, PEM.")
    display_name: Text = Field("", description="Vault stores the role's name when this is empty.")
    allowed_names: NameSet = Field(default_factory=list, description="Deprecated by Vault: use the four below.")
    allowed_common_names: NameSet = Field(default_factory=list)
    allowed_dns_sans: NameSet = Field(default_factory=list)
    allowed_email_sans: NameSet = Field(default_factory=list)
    allowed_uri_sans: NameSet = Field(default_factory=list)
    allowed_organizational_units: NameSet = Field(default_factory=list)
    required_extensions: NameSet = Field(default_factory=list)
    allowed_metadata_extensions: NameSet = Field(default_factory=list)
    ocsp_enabled: bool = False
    ocsp_ca_certificates: Pem = ""
    ocsp_servers_override: Annotated[list[Text], Canon(_ordered)] = Field(default_factory=list)
    ocsp_fail_open: bool = False
    ocsp_query_all_servers: bool = False

    @field_validator("certificate")
    @classmethod
    def _certificate_given(cls, value: Any) -> Any:
        if isinstance(value, str) and "-----BEGIN" not in value:
            raise ValueError("certificate must be a PEM block (-----BEGIN CERTIFICATE-----)")
        return value


class CertAuth(_AuthBase):
    type: Literal["cert"]
    config: CertConfig | None = None
    roles: dict[RoleName, CertRole] = Field(default_factory=dict)


# --- any other type ---------------------------------------------------------------------------


class GenericAuth(_AuthBase):
    """An auth type without a typed model: config and roles are free-form and compared on the keys given."""

    # In the JSON Schema, a typed name must not also match here: `oneOf` would accept neither
    # form of a correct kubernetes method, and a typo in a kubernetes role would pass as generic.
    type: str = Field(
        min_length=1, json_schema_extra={"not": {"enum": ["approle", "cert", "jwt", "kubernetes", "oidc", "userpass"]}}
    )
    config: dict[str, Any] | None = None
    roles: dict[RoleName, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _not_token(cls, value: str) -> str:
        if value == "token":
            raise ValueError("the token auth method is built in and cannot be managed")
        if not value.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"invalid auth method type {value!r}")
        return value


TYPED_AUTH = {
    "kubernetes": "kubernetes", "approle": "approle", "userpass": "userpass",
    "jwt": "jwt", "oidc": "jwt", "cert": "cert",
}


def _auth_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return TYPED_AUTH.get(str(kind), "generic")


AuthMethod = Annotated[
    Annotated[KubernetesAuth, Tag("kubernetes")]
    | Annotated[AppRoleAuth, Tag("approle")]
    | Annotated[UserpassAuth, Tag("userpass")]
    | Annotated[JwtAuth, Tag("jwt")]
    | Annotated[CertAuth, Tag("cert")]
    | Annotated[GenericAuth, Tag("generic")],
    Discriminator(_auth_tag),
]

AnyAuth = KubernetesAuth | AppRoleAuth | UserpassAuth | JwtAuth | CertAuth | GenericAuth
AUTH_TAGS = frozenset({"kubernetes", "approle", "userpass", "jwt", "cert", "generic"})
