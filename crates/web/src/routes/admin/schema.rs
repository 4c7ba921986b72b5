//! The admin API's field schemas that carry the domain parsers' rules (length, character
//! set, allowed values), so that what the document allows is what the server accepts:
//! used with `#[schema(schema_with = …)]` and `#[param(schema_with = …)]`. Allowed values
//! come from the domain's own lists where it has them.

use tessera_domain::{GrantType, MapUsers, SigningAlg, TokenType, UpstreamAuthMethod};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema, Type};

/// Characters `char::is_whitespace` or `char::is_control` in Rust, spelled out because
/// regex dialects disagree on `\s`.
const SPACE_OR_CONTROL: &str =
    r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

fn text(min: usize, max: usize, pattern: Option<String>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(pattern)
}

fn one_of(values: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

/// `schema` or JSON `null` (an `Option` field).
fn nullable(s: ObjectBuilder) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(s)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

fn array_of(item: ObjectBuilder, max_items: Option<usize>) -> ArrayBuilder {
    ArrayBuilder::new().items(item).max_items(max_items)
}

fn realm_name_() -> ObjectBuilder {
    text(1, 64, Some("^[A-Za-z0-9_-]+$".into()))
}
pub fn realm_name() -> Schema {
    realm_name_().into()
}

/// `Username::parse`: ASCII, lower-cased before the check.
pub fn username() -> Schema {
    text(1, 64, Some("^[A-Za-z0-9._@+-]+$".into())).into()
}

/// `Email::parse`: one '@' with something on both sides, no spaces or control characters.
fn email_() -> ObjectBuilder {
    let c = format!("[^@{SPACE_OR_CONTROL}]");
    text(3, 254, Some(format!("^{c}+@{c}+$")))
}
pub fn email() -> Schema {
    email_().into()
}
/// An optional address: also `""`, which means none.
pub fn optional_email() -> RefOr<Schema> {
    let c = format!("[^@{SPACE_OR_CONTROL}]");
    nullable(text(0, 254, Some(format!("^({c}+@{c}+)?$"))))
}

/// 1 to 64 characters, the first of a-z and 0-9 and the others of `rest`, never
/// UUID-shaped (so a path segment is an id or an alias).
fn alias(rest: &str) -> ObjectBuilder {
    text(
        1,
        64,
        Some(format!(
            "^(?![0-9a-f]{{32}}$)(?![0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$)[a-z0-9][{rest}]*$"
        )),
    )
}

/// `OrgAlias::parse`.
fn org_alias_() -> ObjectBuilder {
    alias("a-z0-9-")
}
pub fn org_alias() -> Schema {
    org_alias_().into()
}
pub fn optional_org_alias() -> RefOr<Schema> {
    nullable(org_alias_())
}

/// `IdpAlias::parse`.
pub fn idp_alias() -> Schema {
    alias("a-z0-9_-").into()
}
pub fn idp_aliases() -> Schema {
    array_of(alias("a-z0-9_-"), Some(20)).into()
}

/// An organization's id at its identity provider: 1 to 255 characters, no control
/// characters.
pub fn optional_external_id() -> RefOr<Schema> {
    nullable(line(255, true))
}

/// `DomainName::parse`: ASCII labels of 1 to 63 characters, at least two, no trailing dot.
fn domain_name_() -> ObjectBuilder {
    let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    text(3, 253, Some(format!(r"^({label}\.)+{label}$")))
}
pub fn domain_name() -> Schema {
    domain_name_().into()
}
pub fn domain_names() -> Schema {
    array_of(domain_name_(), None).into()
}

/// `OrgRoleName::parse`.
fn role_name_() -> ObjectBuilder {
    text(1, 64, Some("^[A-Za-z0-9._:-]+$".into()))
}
pub fn role_name() -> Schema {
    role_name_().into()
}
pub fn role_names() -> Schema {
    array_of(role_name_(), None).into()
}

/// `ClientId::parse`: visible ASCII.
fn client_id_() -> ObjectBuilder {
    text(1, 128, Some(r"^[\x21-\x7e]+$".into()))
}
pub fn client_id() -> Schema {
    client_id_().into()
}
pub fn optional_client_id() -> RefOr<Schema> {
    nullable(client_id_())
}

/// `Scope::parse`: RFC 6749 NQCHAR, at most `max` characters.
fn scope_(max: usize) -> ObjectBuilder {
    text(1, max, Some(r"^[\x21\x23-\x5b\x5d-\x7e]+$".into()))
}
pub fn scopes(max: usize) -> Schema {
    array_of(scope_(256), Some(max)).into()
}

/// URL pieces every URL parser takes: a host name whose last label starts with a letter
/// (never read as an IPv4 address), a port, a path.
const URL_HOST: &str = "([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z]([a-z0-9-]{0,61}[a-z0-9])?";
const URL_PORT: &str = "(:[1-9][0-9]{0,3})?";
const URL_PATH: &str = r"(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?";

/// A subset of what `RedirectUri::parse` accepts (https, loopback http, a private-use
/// scheme with a dot; no user information, no fragment), written so that every string it
/// matches parses.
fn redirect_uri_() -> ObjectBuilder {
    let pattern = format!(
        r"^(https://{URL_HOST}{URL_PORT}|http://(localhost|127\.0\.0\.1|\[::1\]){URL_PORT}|[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:){URL_PATH}(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
    );
    // The shortest string the pattern matches is a private-use `a.b:` (4 characters).
    text(4, 2048, Some(pattern))
}
pub fn redirect_uris(max: Option<usize>) -> Schema {
    array_of(redirect_uri_(), max).into()
}
pub fn optional_redirect_uri() -> RefOr<Schema> {
    nullable(redirect_uri_())
}

/// An https URL (http on loopback) as `ResourceUri`, `jwks_uri` and the client's pages
/// accept: absolute, no fragment, no user information.
fn web_url_() -> ObjectBuilder {
    text(
        9,
        2048,
        Some(format!(
            r"^(https://{URL_HOST}{URL_PORT}|http://(localhost|127\.0\.0\.1|\[::1\]){URL_PORT}){URL_PATH}(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
        )),
    )
}
pub fn optional_web_url() -> RefOr<Schema> {
    nullable(web_url_())
}
/// `LogoUri::parse`: https only (a logo on an https page), no fragment, no user
/// information.
pub fn optional_logo_uri() -> RefOr<Schema> {
    nullable(text(
        9,
        2048,
        Some(format!(
            r"^https://{URL_HOST}{URL_PORT}{URL_PATH}(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
        )),
    ))
}
/// `DisplayName::parse`: 1 to 128 characters, not only spaces, no control characters.
pub fn optional_realm_display_name() -> RefOr<Schema> {
    nullable(line(128, true))
}
/// Resource URIs (RFC 8707) of the API a client serves, at most 20.
pub fn resource_uris() -> Schema {
    array_of(web_url_(), Some(20)).into()
}
/// What a client's tokens may carry in `aud`: client ids of the realm or resource URIs.
pub fn client_audiences() -> Schema {
    array_of(vschar(2048), Some(50)).into()
}
/// What an exchange policy lets a client ask for: client ids of the realm or URIs.
pub fn exchange_audiences() -> Schema {
    array_of(vschar(2048), Some(100)).into()
}
/// A client id of the realm (any visible ASCII up to 128) or a longer resource URI.
fn audience_() -> utoipa::openapi::schema::AnyOfBuilder {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .item(client_id_())
        .item(web_url_())
}
pub fn optional_registration_audiences() -> RefOr<Schema> {
    nullable_array(ArrayBuilder::new().items(audience_()).max_items(Some(50)))
}
pub fn optional_token_endpoint_auth_method() -> RefOr<Schema> {
    nullable(one_of(tessera_domain::AuthMethod::ALL.map(|m| m.as_str())))
}
pub fn optional_application_type() -> RefOr<Schema> {
    nullable(one_of(["web", "native"]))
}
pub fn contacts() -> Schema {
    array_of(
        text(
            3,
            254,
            Some(format!("^[^{SPACE_OR_CONTROL}]*@[^{SPACE_OR_CONTROL}]*$")),
        ),
        Some(10),
    )
    .into()
}
pub fn optional_software_text() -> RefOr<Schema> {
    nullable(line(200, false))
}
pub fn optional_jwks() -> RefOr<Schema> {
    nullable(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A JWK set of public keys: {\"keys\": [...]}, 1 to 20 keys",
            )),
    )
}

/// `array` or JSON `null` (an `Option<Vec<_>>` field).
fn nullable_array(a: ArrayBuilder) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(a)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

pub fn grant_types() -> RefOr<Schema> {
    nullable_array(array_of(
        one_of(GrantType::ALL.map(GrantType::as_str)),
        None,
    ))
}

pub fn optional_signing_alg() -> RefOr<Schema> {
    nullable(one_of(SigningAlg::ALL.map(SigningAlg::as_str)))
}

pub fn optional_access_token_format() -> RefOr<Schema> {
    nullable(one_of(["jwt", "opaque"]))
}

pub fn optional_ciba_delivery_mode() -> RefOr<Schema> {
    nullable(one_of(["poll", "ping"]))
}

pub fn optional_org_claim() -> RefOr<Schema> {
    nullable(one_of(["map", "list"]))
}

/// A subset of the issuers `IdpSettings::validate` accepts (an http or https URL with a
/// host and no query, fragment or user part, at most 512 bytes), written so that every
/// string it matches parses; https only, as the outbound guard allows by default (http
/// only with `outbound_allow_private`, for development).
pub fn issuer() -> Schema {
    text(
        9,
        512,
        Some(format!(r"^https://{URL_HOST}{URL_PORT}{URL_PATH}$")),
    )
    .into()
}

/// RFC 6749 VSCHAR, as `IdpSettings::validate` and the admin operation check them.
fn vschar(max: usize) -> ObjectBuilder {
    text(1, max, Some(r"^[\x20-\x7e]+$".into()))
}

/// Our client id at the upstream.
pub fn upstream_client_id() -> Schema {
    vschar(255).into()
}

/// Our client secret at the upstream: write-only.
fn client_secret_() -> ObjectBuilder {
    vschar(tessera_oidc::admin::idps::MAX_SECRET_CHARS).write_only(true)
}
pub fn client_secret() -> Schema {
    client_secret_().into()
}
pub fn optional_client_secret() -> RefOr<Schema> {
    nullable(client_secret_())
}

/// Scope tokens of at most 128 characters, `openid` among them.
pub fn upstream_scopes() -> RefOr<Schema> {
    let openid = serde_json::json!({ "const": "openid" });
    nullable_array(array_of(scope_(128), None).extensions(Some(
        utoipa::openapi::extensions::Extensions::from_iter([("contains", openid)]),
    )))
}

pub fn optional_display_name() -> RefOr<Schema> {
    nullable(text(1, 100, None))
}

pub fn optional_auth_method() -> RefOr<Schema> {
    nullable(one_of(
        UpstreamAuthMethod::ALL.map(UpstreamAuthMethod::as_str),
    ))
}

/// `ClientKeys::parse_uri` for a token-only issuer's `jwks_uri`, as the outbound guard
/// lets it be fetched: https to a host name (http only with `outbound_allow_private`).
fn jwks_uri_() -> ObjectBuilder {
    text(
        9,
        2048,
        Some(format!(
            r"^https://{URL_HOST}{URL_PORT}{URL_PATH}(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
        )),
    )
    .description(Some(
        "A token-only issuer's JWK set URL (https); then no client_id and no client_secret.",
    ))
}

/// A registered JWK set (`public_jwk_set` in the engine): 1 to 20 public keys, each an
/// object with a `kty` and no private or symmetric member (at most 64 KiB of JSON).
fn issuer_jwks_() -> ObjectBuilder {
    let private =
        ["d", "p", "q", "dp", "dq", "qi", "k"].map(|m| serde_json::json!({ "required": [m] }));
    let key = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("kty", ObjectBuilder::new().schema_type(Type::String))
        .required("kty")
        .extensions(Some(utoipa::openapi::extensions::Extensions::from_iter([
            ("not", serde_json::json!({ "anyOf": private })),
        ])));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "keys",
            ArrayBuilder::new()
                .items(key)
                .min_items(Some(1))
                .max_items(Some(20)),
        )
        .required("keys")
        .description(Some(
            "A token-only issuer's public keys as a JWK set ({\"keys\": [...]}, 1 to 20 keys \
             with a kty and no private member, at most 64 KiB); then no client_id and no \
             client_secret.",
        ))
}

fn closed(o: ObjectBuilder) -> ObjectBuilder {
    o.additional_properties(Some(
        utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
    ))
}

/// `TokenTrust::validate`: what a provider's tokens must satisfy to be accepted in token
/// exchange and the JWT bearer grant. Every field has a default.
fn token_trust_() -> ObjectBuilder {
    closed(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "audiences",
                array_of(text(1, 2048, None), Some(20)).description(Some(
                    "`aud` values that mean us at the provider (ID tokens: also our client id \
                     there); at most 20.",
                )),
            )
            .property(
                "max_age_secs",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(10))
                    .maximum(Some(86_400))
                    .description(Some("Oldest `iat` accepted, seconds (default 3600).")),
            )
            .property(
                "allowed_algs",
                array_of(one_of(tessera_domain::TOKEN_ALGS), None).description(Some(
                    "Signing algorithms accepted; empty (default): the asymmetric ones the \
                     provider announces (RS256 for a token-only issuer).",
                )),
            )
            .property(
                "require_jti",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some(
                        "Every token carries a `jti`, accepted once (default false).",
                    )),
            )
            .property(
                "subject_claim",
                text(1, 64, None).description(Some("The claim naming the subject (default sub).")),
            )
            .property(
                "map_users",
                one_of([MapUsers::Link, MapUsers::Email, MapUsers::Create].map(MapUsers::as_str))
                    .description(Some(
                        "How a token's subject becomes a local user: link (default: an account \
                         linked by a sign-in), email (or the one account with that verified \
                         address), create (or a new user).",
                    )),
            ),
    )
}
pub fn optional_token_trust() -> RefOr<Schema> {
    nullable(token_trust_().description(Some(
        "The provider's tokens are accepted (token exchange, JWT bearer grant) from the clients \
         whose exchange policy names it; null: none are.",
    )))
}

/// `OrgAdminExchange::validate`: claim names of 1 to 64 characters, 1 to 10 roles.
fn org_admin_exchange_() -> ObjectBuilder {
    let name = || text(1, 64, None);
    closed(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "org_claim",
                name().description(Some(
                    "Must equal the organization's external_id (default org_id).",
                )),
            )
            .property(
                "role_claim",
                name().description(Some("Must be one of admin_roles (default org_role).")),
            )
            .property(
                "admin_roles",
                array_of(name(), Some(10))
                    .min_items(Some(1))
                    .description(Some(
                        "Upstream roles that make an administrator, case-insensitive (default \
                     owner, admin).",
                    )),
            )
            .property(
                "domain_claim",
                nullable(name().description(Some(
                    "When set, this claim must name one of the organization's verified domains.",
                ))),
            ),
    )
}
pub fn optional_org_admin_exchange() -> RefOr<Schema> {
    nullable(org_admin_exchange_().description(Some(
        "The provider's ID tokens obtain organization-admin credentials for its organization \
         (needs organization); null: they do not.",
    )))
}

/// An identity provider's body (`base`, one object) as the shapes `IdpSettings::validate`
/// allows, exactly one of which a body matches. A sign-in provider (a client at the issuer,
/// `client_secret` when `secret_required`): without an organization, or an organization's
/// without domains, or an organization's with domains (only these may be redirected to by
/// domain; only an organization's has an organization-admin exchange). A token-only issuer
/// (`jwks_uri` or `jwks`, no client, `accept_tokens` required): no domains, no
/// organization-admin exchange.
pub fn idp_shapes(base: Object, description: &str, secret_required: bool) -> RefOr<Schema> {
    fn set(o: &mut Object, name: &str, s: impl Into<RefOr<Schema>>) {
        o.properties.insert(name.to_owned(), s.into());
    }
    fn require(o: &mut Object, name: &str) {
        if !o.required.iter().any(|r| r == name) {
            o.required.push(name.to_owned());
        }
    }
    let null = |why: &str| {
        ObjectBuilder::new()
            .schema_type(Type::Null)
            .description(Some(why))
    };
    let no_domains = |o: &mut Object, why: &str| {
        set(
            o,
            "domains",
            array_of(domain_name_(), Some(0)).description(Some(why)),
        );
        set(
            o,
            "redirect_on_domain",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([false]))
                .description(Some("Needs domains.")),
        );
    };

    let mut sign_in = base.clone();
    require(&mut sign_in, "client_id");
    if secret_required {
        require(&mut sign_in, "client_secret");
    }
    set(
        &mut sign_in,
        "jwks_uri",
        null("Only a token-only issuer has its own keys."),
    );
    set(
        &mut sign_in,
        "jwks",
        null("Only a token-only issuer has its own keys."),
    );

    let mut plain = sign_in.clone();
    no_domains(&mut plain, "Only an organization's provider has domains.");
    set(
        &mut plain,
        "organization",
        null("Not an organization's provider."),
    );
    set(
        &mut plain,
        "org_admin_exchange",
        null("Only an organization's provider has the organization-admin exchange."),
    );

    let mut org_plain = sign_in.clone();
    no_domains(
        &mut org_plain,
        "None in this shape: see the one with domains.",
    );
    set(&mut org_plain, "organization", org_alias_());
    require(&mut org_plain, "organization");

    let mut org = sign_in;
    set(
        &mut org,
        "domains",
        array_of(domain_name_(), None)
            .min_items(Some(1))
            .description(Some("Domains of `organization` this provider answers for.")),
    );
    set(&mut org, "organization", org_alias_());
    require(&mut org, "organization");
    require(&mut org, "domains");

    let mut token_only = base;
    no_domains(&mut token_only, "A token-only issuer signs nobody in.");
    let no_client = "A token-only issuer has no client there.";
    set(&mut token_only, "client_id", null(no_client));
    set(&mut token_only, "client_secret", null(no_client));
    set(
        &mut token_only,
        "org_admin_exchange",
        null("A token-only issuer signs nobody in."),
    );
    set(
        &mut token_only,
        "accept_tokens",
        token_trust_().description(Some(
            "What its tokens must satisfy: a token-only issuer exists to accept them.",
        )),
    );
    require(&mut token_only, "accept_tokens");
    let mut by_uri = token_only.clone();
    set(&mut by_uri, "jwks_uri", jwks_uri_());
    set(&mut by_uri, "jwks", null("Either jwks_uri or jwks."));
    require(&mut by_uri, "jwks_uri");
    let mut by_set = token_only;
    set(&mut by_set, "jwks", issuer_jwks_());
    set(&mut by_set, "jwks_uri", null("Either jwks_uri or jwks."));
    require(&mut by_set, "jwks");

    [plain, org_plain, org, by_uri, by_set]
        .into_iter()
        .fold(
            OneOfBuilder::new().description(Some(description)),
            |b, o| b.item(Schema::Object(o)),
        )
        .into()
}

/// Claim name (1 to 64 characters) to the value it must have (at most 256).
pub fn required_claims() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(text(1, 64, None)))
        .additional_properties(Some(text(0, 256, None)))
        .into()
}

/// `ImpersonateRep` as serde reads it: a name, or an object with only `organizations`.
pub fn impersonate() -> Schema {
    let uuid = ObjectBuilder::new().schema_type(Type::String).format(Some(
        utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid),
    ));
    OneOfBuilder::new()
        .item(one_of(["nobody", "all_users"]))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("organizations", ArrayBuilder::new().items(uuid))
                .required("organizations")
                .additional_properties(Some(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                )),
        )
        .into()
}

/// The shapes of `SmtpBody`, exactly one of which a body matches: TLS to any host or
/// `security: none` to one of `loopback` (`SmtpSettings::validate`), each with a username
/// (and maybe a password) or with neither (a password needs a username).
pub fn smtp_body(loopback: &[&'static str]) -> RefOr<Schema> {
    let shape = |plain: bool, with_user: bool| {
        let (host, security) = if plain {
            (one_of(loopback.iter().copied()), one_of(["none"]).into())
        } else {
            (
                text(1, 253, Some(r"^[A-Za-z0-9.:\[\]-]+$".into())),
                nullable(one_of(["starttls", "tls"])),
            )
        };
        let null = || ObjectBuilder::new().schema_type(Type::Null);
        let (username, password): (RefOr<Schema>, RefOr<Schema>) = if with_user {
            (
                text(1, 256, Some(r"^[^\x00-\x1f\x7f-\x9f]+$".into())).into(),
                nullable(text(1, 256, None)),
            )
        } else {
            (null().into(), null().into())
        };
        let mut o = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("host", host)
            .property(
                "port",
                nullable(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        .maximum(Some(65535)),
                ),
            )
            .property("security", security)
            .property("username", username)
            .property("password", password)
            .property("from", email())
            .required("host")
            .required("from")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ));
        if plain {
            o = o.required("security");
        }
        if with_user {
            o = o.required("username");
        }
        o
    };
    OneOfBuilder::new()
        .description(Some(
            "A mail server: security starttls (default) or tls to any host, or none to a \
             loopback host only; a password needs a username",
        ))
        .item(shape(false, true))
        .item(shape(false, false))
        .item(shape(true, true))
        .item(shape(true, false))
        .into()
}

/// Subject token types an exchange policy may name (`ExchangePolicy::validate` refuses
/// the JWT and ID token types).
/// Every type; `jwt` and `id_token` only with `trusted_idps`.
pub fn subject_token_types() -> Schema {
    array_of(
        one_of(TokenType::ALL.into_iter().map(TokenType::as_str)),
        None,
    )
    .into()
}

/// Free text of at most `max` characters with no control characters; `non_blank` also
/// needs something besides spaces.
pub fn line(max: usize, non_blank: bool) -> ObjectBuilder {
    let c = r"[^\x00-\x1f\x7f-\x9f]";
    if non_blank {
        text(1, max, Some(format!("^{c}*[^{SPACE_OR_CONTROL}]{c}*$")))
    } else {
        text(0, max, Some(format!("^{c}*$")))
    }
}

/// An organization's name: 1 to 1000 characters, not only spaces.
pub fn org_name() -> Schema {
    line(1000, true).into()
}

/// An optional description of at most 1000 characters.
pub fn optional_description() -> RefOr<Schema> {
    nullable(line(1000, false))
}

/// An impersonation reason: 1 to 500 characters (after trimming), not only spaces.
pub fn reason() -> Schema {
    line(500, true).into()
}

pub fn domains() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "DomainRep",
        )))
        .max_items(Some(100))
        .into()
}

pub fn role_scopes() -> Schema {
    scopes(50)
}
/// `null` (like leaving it out) gives the client the realm's default scopes.
pub fn client_scopes() -> RefOr<Schema> {
    nullable_array(array_of(scope_(256), Some(100)))
}
pub fn client_redirect_uris() -> Schema {
    redirect_uris(Some(50))
}
pub fn logout_redirect_uris() -> Schema {
    redirect_uris(None)
}

pub fn optional_registration_mode() -> RefOr<Schema> {
    nullable(one_of(
        tessera_domain::RegistrationMode::ALL.map(tessera_domain::RegistrationMode::as_str),
    ))
}

/// `OpenRegistration::validate`: host names, addresses (IPv6 in brackets) or private-use
/// schemes.
pub fn optional_registration_hosts() -> RefOr<Schema> {
    nullable_array(array_of(
        text(1, 253, Some(r"^[A-Za-z0-9.:\[\]-]+$".into())),
        Some(100),
    ))
}

pub fn optional_scopes() -> RefOr<Schema> {
    nullable_array(array_of(scope_(256), Some(100)))
}

/// What open registration may allow: never client_credentials nor token exchange.
pub fn optional_open_grant_types() -> RefOr<Schema> {
    nullable_array(array_of(
        one_of([
            GrantType::AuthorizationCode.as_str(),
            GrantType::RefreshToken.as_str(),
        ]),
        None,
    ))
}

/// A token-only issuer's `jwks_uri`, in the body's base object (each shape narrows it).
pub fn optional_jwks_uri() -> RefOr<Schema> {
    nullable(jwks_uri_())
}
/// A token-only issuer's `jwks`, in the body's base object (each shape narrows it).
pub fn optional_issuer_jwks() -> RefOr<Schema> {
    nullable(issuer_jwks_())
}

/// An exchange policy's body (`base`) as the two shapes `ExchangePolicy::validate` allows,
/// exactly one of which a body matches: with trusted identity providers (any subject
/// type), or without (and then no `jwt` or `id_token` subject type, which only they issue).
pub fn exchange_policy_shapes(base: Object) -> RefOr<Schema> {
    let mut trusting = base.clone();
    trusting.properties.insert(
        "trusted_idps".to_owned(),
        array_of(alias("a-z0-9_-"), Some(20))
            .min_items(Some(1))
            .description(Some(
                "Identity providers of the realm, by alias, whose tokens the client may present.",
            ))
            .into(),
    );
    trusting.required.push("trusted_idps".to_owned());
    let mut own = base;
    own.properties.insert(
        "trusted_idps".to_owned(),
        array_of(alias("a-z0-9_-"), Some(0))
            .description(Some("None: the client presents Tessera's tokens only."))
            .into(),
    );
    own.properties.insert(
        "subject_token_types".to_owned(),
        array_of(
            one_of(
                TokenType::ALL
                    .into_iter()
                    .filter(|t| !matches!(t, TokenType::Jwt | TokenType::IdToken))
                    .map(TokenType::as_str),
            ),
            None,
        )
        .description(Some("jwt and id_token subjects need trusted_idps."))
        .into(),
    );
    OneOfBuilder::new()
        .description(Some(
            "What a client may do at the token endpoint with the token-exchange grant; jwt and \
             id_token subject types only with trusted_idps.",
        ))
        .item(Schema::Object(trusting))
        .item(Schema::Object(own))
        .into()
}
