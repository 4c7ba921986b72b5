//! Upstream identity providers of a realm (realm administrators; an organization's
//! administrators read their own organization's), and users' links to upstream accounts,
//! in Keycloak's paths. The client secret is write-only: no response carries it.
//!
//! A provider is a sign-in provider (a client at the issuer, keys from its discovery
//! document) or a token-only issuer (`jwks_uri` or `jwks`, no client, no login button, no
//! URIs to register): one that only vouches for tokens presented in token exchange and the
//! JWT bearer grant (`accept_tokens`, required then).

use super::{Caller, schema};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{AdminJson, idp_alias, user_id};
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_domain::{
    ClientKeys, DomainError, DomainName, FederatedIdentity, IdpAlias, IdpSettings,
    OrgAdminExchange, OrgAlias, RequiredClaim, TokenTrust, UpstreamAuthMethod,
};
use tessera_oidc::admin::idps::{IdpDraft, IdpView};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, Schema};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the handlers; each one's route and OpenAPI path come from its own attributes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_idps)
        .service(create_idp)
        .service(get_idp)
        .service(update_idp)
        .service(delete_idp)
        .service(list_org_idps)
        .service(list_user_links)
        .service(delete_user_link);
}

/// A provider as the admin API shows it. There is no secret field.
#[derive(Serialize, ToSchema)]
pub struct IdpRep {
    /// Server-assigned id.
    pub id: String,
    /// The provider's name in admin URLs and broker URLs; never changes.
    pub alias: String,
    /// The login page's button label (default: the alias).
    pub display_name: Option<String>,
    pub issuer: String,
    /// Our client id at the upstream; null for a token-only issuer.
    pub client_id: Option<String>,
    /// A token-only issuer's JWK set URL.
    pub jwks_uri: Option<String>,
    /// A token-only issuer's JWK set (public keys).
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    pub scopes: Vec<String>,
    /// client_secret_basic or client_secret_post.
    pub auth_method: String,
    pub trust_email: bool,
    pub email_optional: bool,
    pub create_users: bool,
    /// The alias of the organization whose provider this is.
    pub organization: Option<String>,
    pub domains: Vec<String>,
    pub redirect_on_domain: bool,
    pub hide_on_login: bool,
    /// Claim name to the value every sign-in through the provider must carry.
    pub required_claims: BTreeMap<String, String>,
    pub enabled: bool,
    #[schema(schema_with = schema::optional_token_trust)]
    pub accept_tokens: Option<TokenTrust>,
    #[schema(schema_with = schema::optional_org_admin_exchange)]
    pub org_admin_exchange: Option<OrgAdminExchange>,
    /// To register at the upstream as a redirect URI; null for a token-only issuer (it
    /// signs nobody in).
    pub redirect_uri: Option<String>,
    /// To register at the upstream as the back-channel logout URI; null for a token-only
    /// issuer.
    pub backchannel_logout_uri: Option<String>,
    pub created_at: i64,
}

impl From<IdpView> for IdpRep {
    fn from(v: IdpView) -> Self {
        let s = v.settings;
        let token_only = s.token_only();
        let signs_in = |uri: String| (!token_only).then_some(uri);
        Self {
            id: v.id.to_string(),
            alias: s.alias.to_string(),
            display_name: s.display_name,
            issuer: s.issuer,
            client_id: (!s.client_id.is_empty()).then_some(s.client_id),
            jwks_uri: s.keys.as_ref().and_then(ClientKeys::jwks_uri),
            jwks: s.keys.as_ref().and_then(ClientKeys::jwks),
            scopes: s.scopes,
            auth_method: s.auth_method.as_str().to_owned(),
            trust_email: s.trust_email,
            email_optional: s.email_optional,
            create_users: s.create_users,
            organization: v.organization.map(|o| o.to_string()),
            domains: s.domains.iter().map(|d| d.as_str().to_owned()).collect(),
            redirect_on_domain: s.redirect_on_domain,
            hide_on_login: s.hide_on_login,
            required_claims: s
                .required_claims
                .into_iter()
                .map(|c| (c.name, c.value))
                .collect(),
            enabled: s.enabled,
            accept_tokens: s.accept_tokens,
            org_admin_exchange: s.org_admin_exchange,
            redirect_uri: signs_in(v.redirect_uri),
            backchannel_logout_uri: signs_in(v.backchannel_logout_uri),
            created_at: v.created_at.0,
        }
    }
}

/// The fields of a provider: [`NewIdpBody`] to create one, [`IdpUpdateBody`] to replace
/// one's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdpBody {
    /// 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit, not
    /// UUID-shaped; unique per realm. Part of the URLs registered at the upstream.
    #[serde(default, deserialize_with = "super::users::double_option")]
    #[schema(schema_with = schema::idp_alias)]
    pub alias: Option<Option<String>>,
    /// The login page's button label, 1 to 100 characters (default: the alias).
    #[schema(schema_with = schema::optional_display_name)]
    pub display_name: Option<String>,
    /// Exactly as the upstream's discovery document states it: an https URL without
    /// query, fragment or user part (http only where `outbound_allow_private` is set).
    #[schema(schema_with = schema::issuer)]
    pub issuer: String,
    /// Our client id at the upstream; none for a token-only issuer.
    #[schema(schema_with = schema::upstream_client_id)]
    pub client_id: Option<String>,
    /// Our client secret at the upstream: write-only, never shown; none for a token-only
    /// issuer.
    #[schema(schema_with = schema::client_secret)]
    pub client_secret: Option<String>,
    /// A token-only issuer's JWK set URL (https), fetched and cached like a provider's
    /// discovered keys.
    #[schema(schema_with = schema::optional_jwks_uri)]
    pub jwks_uri: Option<String>,
    /// A token-only issuer's JWK set, `{"keys": [...]}`.
    #[schema(schema_with = schema::optional_issuer_jwks)]
    pub jwks: Option<serde_json::Value>,
    /// What the provider's tokens must satisfy to be accepted in token exchange and the
    /// JWT bearer grant (from the clients whose exchange policy names the provider).
    /// Absent or null: none are. Required for a token-only issuer.
    #[serde(default)]
    #[schema(schema_with = schema::optional_token_trust)]
    pub accept_tokens: Option<TokenTrust>,
    /// The claims of the provider's ID tokens that obtain organization-admin credentials
    /// for `organization` (the organization-admin exchange). Needs `organization`.
    #[serde(default)]
    #[schema(schema_with = schema::optional_org_admin_exchange)]
    pub org_admin_exchange: Option<OrgAdminExchange>,
    /// Scopes asked of the upstream, `openid` among them (default: openid profile email).
    #[schema(schema_with = schema::upstream_scopes)]
    pub scopes: Option<Vec<String>>,
    /// How we authenticate at the upstream's token endpoint: client_secret_basic
    /// (default) or client_secret_post.
    #[schema(schema_with = schema::optional_auth_method)]
    pub auth_method: Option<String>,
    /// The upstream's `email_verified: true` marks our copy of the address verified.
    /// Default false.
    #[serde(default)]
    pub trust_email: bool,
    /// Sign-in goes on without an e-mail address from the upstream. Default false.
    #[serde(default)]
    pub email_optional: bool,
    /// The first sign-in of an unknown upstream account creates a user. Default true.
    #[serde(default = "yes")]
    pub create_users: bool,
    /// An organization of the realm, by alias: the users the provider creates are its
    /// managed members.
    #[schema(schema_with = schema::optional_org_alias)]
    pub organization: Option<String>,
    /// Domains of `organization` this provider answers for.
    #[serde(default)]
    #[schema(schema_with = schema::domain_names)]
    pub domains: Vec<String>,
    /// A login hint under one of `domains` (verified by the organization) goes straight
    /// to this provider. Needs a domain. Default false.
    #[serde(default)]
    pub redirect_on_domain: bool,
    /// No button on the login page (still reachable by `kc_idp_hint` and by domain).
    /// Default false.
    #[serde(default)]
    pub hide_on_login: bool,
    /// Claim name to the value every sign-in must carry, e.g. `{"hd": "acme.com"}`.
    #[serde(default)]
    #[schema(schema_with = schema::required_claims)]
    pub required_claims: BTreeMap<String, String>,
    /// Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl IdpBody {
    /// The draft of the provider `alias` (the secret travels apart).
    fn into_draft(self, alias: IdpAlias) -> Result<IdpDraft, ApiError> {
        // The body's own rules before any lookup: a bad request, never a conflict.
        let keys = match (self.jwks_uri, self.jwks) {
            (None, None) => None,
            (Some(uri), None) => Some(ClientKeys::parse_uri(&uri)?),
            (None, Some(set)) => Some(ClientKeys::parse_jwks(&set.to_string())?),
            (Some(_), Some(_)) => {
                return Err(DomainError::new("jwks", "give jwks_uri or jwks, not both").into());
            }
        };
        if let Some(t) = &self.accept_tokens {
            t.validate()?;
        }
        if let Some(x) = &self.org_admin_exchange {
            x.validate()?;
        }
        let defaults = IdpSettings::new(alias, self.issuer, self.client_id.unwrap_or_default());
        let settings = IdpSettings {
            display_name: self.display_name,
            scopes: self.scopes.unwrap_or(defaults.scopes),
            auth_method: match self.auth_method.as_deref() {
                Some(m) => UpstreamAuthMethod::parse(m)?,
                None => defaults.auth_method,
            },
            trust_email: self.trust_email,
            email_optional: self.email_optional,
            create_users: self.create_users,
            domains: self
                .domains
                .iter()
                .map(|d| DomainName::parse(d))
                .collect::<Result<_, _>>()?,
            redirect_on_domain: self.redirect_on_domain,
            hide_on_login: self.hide_on_login,
            required_claims: self
                .required_claims
                .iter()
                .map(|(name, value)| RequiredClaim::new(name, value))
                .collect::<Result<_, _>>()?,
            enabled: self.enabled,
            accept_tokens: self.accept_tokens,
            keys,
            org_admin_exchange: self.org_admin_exchange,
            ..defaults
        };
        let organization = self
            .organization
            .as_deref()
            .map(OrgAlias::parse)
            .transpose()?;
        Ok(IdpDraft {
            settings,
            organization,
        })
    }

    /// This body's schema changed by `edit`, in the shapes the settings allow (a sign-in
    /// provider's with a `client_secret` when `secret_required`).
    fn schema_as(
        description: &str,
        secret_required: bool,
        edit: impl FnOnce(&mut Object),
    ) -> RefOr<Schema> {
        match <Self as utoipa::PartialSchema>::schema() {
            RefOr::T(Schema::Object(mut o)) => {
                edit(&mut o);
                schema::idp_shapes(o, description, secret_required)
            }
            other => other,
        }
    }
}

/// Creates a provider: an [`IdpBody`] with `alias`, and `client_secret` unless it is a
/// token-only issuer.
#[derive(Deserialize)]
#[serde(try_from = "IdpBody")]
pub struct NewIdpBody {
    alias: String,
    secret: Option<String>,
    fields: IdpBody,
}

impl TryFrom<IdpBody> for NewIdpBody {
    type Error = &'static str;

    fn try_from(mut fields: IdpBody) -> Result<Self, Self::Error> {
        let alias = fields
            .alias
            .take()
            .flatten()
            .ok_or("missing field `alias`")?;
        let secret = fields.client_secret.take();
        Ok(Self {
            alias,
            secret,
            fields,
        })
    }
}

impl utoipa::PartialSchema for NewIdpBody {
    fn schema() -> RefOr<Schema> {
        IdpBody::schema_as(
            "A new upstream OpenID provider (register the redirect URI of the response \
             there), or a token-only issuer.",
            true,
            |o| o.required.push("alias".to_owned()),
        )
    }
}

impl ToSchema for NewIdpBody {}

/// Replaces a provider's settings: an [`IdpBody`] without `alias` (not even `null`: the
/// path names the provider). Without `client_secret` the stored one is kept, for the same
/// issuer only.
#[derive(Deserialize)]
#[serde(try_from = "IdpBody")]
pub struct IdpUpdateBody(IdpBody);

impl TryFrom<IdpBody> for IdpUpdateBody {
    type Error = &'static str;

    fn try_from(b: IdpBody) -> Result<Self, Self::Error> {
        match b.alias {
            Some(_) => Err("the alias is the path's and never changes"),
            None => Ok(Self(b)),
        }
    }
}

impl utoipa::PartialSchema for IdpUpdateBody {
    fn schema() -> RefOr<Schema> {
        IdpBody::schema_as(
            "A provider's settings, replaced as a whole. Without client_secret the stored one \
             is kept, unless the issuer changes.",
            false,
            |o| {
                o.properties.remove("alias");
                o.properties
                    .insert("client_secret".to_owned(), schema::optional_client_secret());
            },
        )
    }
}

impl ToSchema for IdpUpdateBody {}

/// A user's account at an upstream provider (Keycloak's shape).
#[derive(Serialize, ToSchema)]
pub struct FederatedIdentityRep {
    /// The provider's alias.
    pub identity_provider: String,
    /// The upstream account's `sub`.
    pub user_id: String,
    /// The upstream's `preferred_username` or e-mail at the last sign-in.
    pub user_name: Option<String>,
}

impl From<FederatedIdentity> for FederatedIdentityRep {
    fn from(l: FederatedIdentity) -> Self {
        Self {
            identity_provider: l.alias.to_string(),
            user_id: l.subject,
            user_name: l.username,
        }
    }
}

fn reps(views: Vec<IdpView>) -> Vec<IdpRep> {
    views.into_iter().map(Into::into).collect()
}

#[utoipa::path(tag = "identity providers",
    responses((status = 200, description = "The realm's providers by alias", body = Vec<IdpRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/identity-provider/instances")]
pub async fn list_idps(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let idps = state.provider.list_idps(&caller, &realm).await?;
    Ok(HttpResponse::Ok().json(reps(idps)))
}

#[utoipa::path(tag = "identity providers", request_body = NewIdpBody,
    responses((status = 201, body = IdpRep), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, description = "The realm has a provider with this alias, or has no organization of this alias, or the organization does not have these domains", body = super::ErrorBody)))]
#[post("/{realm}/identity-provider/instances")]
pub async fn create_idp(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<NewIdpBody>,
) -> Result<HttpResponse, ApiError> {
    let NewIdpBody {
        alias,
        secret,
        fields,
    } = body.into_inner();
    let draft = fields.into_draft(IdpAlias::parse(&alias)?)?;
    let idp = state
        .provider
        .create_idp(&caller, &realm, draft, secret.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(IdpRep::from(idp)))
}

#[utoipa::path(tag = "identity providers",
    params(("realm" = String, Path), ("alias" = String, Path, description = "The provider's alias")),
    responses((status = 200, body = IdpRep), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/identity-provider/instances/{alias}")]
pub async fn get_idp(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, alias) = path.into_inner();
    let idp = state
        .provider
        .get_idp(&caller, &realm, &idp_alias(&alias)?)
        .await?;
    Ok(HttpResponse::Ok().json(IdpRep::from(idp)))
}

#[utoipa::path(tag = "identity providers", request_body = IdpUpdateBody,
    params(("realm" = String, Path), ("alias" = String, Path, description = "The provider's alias")),
    responses((status = 200, body = IdpRep), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, description = "The realm has no organization of this alias, or the organization does not have these domains, or the issuer changes without a client_secret, or a token-only issuer becomes a sign-in provider without one", body = super::ErrorBody)))]
#[put("/{realm}/identity-provider/instances/{alias}")]
pub async fn update_idp(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<IdpUpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, alias) = path.into_inner();
    let mut b = body.into_inner().0;
    let secret = b.client_secret.take();
    let draft = b.into_draft(idp_alias(&alias)?)?;
    let idp = state
        .provider
        .update_idp(&caller, &realm, draft, secret.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(IdpRep::from(idp)))
}

#[utoipa::path(tag = "identity providers",
    params(("realm" = String, Path), ("alias" = String, Path, description = "The provider's alias")),
    responses((status = 204, description = "Deleted with its users' links (the users stay)"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/identity-provider/instances/{alias}")]
pub async fn delete_idp(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, alias) = path.into_inner();
    state
        .provider
        .delete_idp(&caller, &realm, &idp_alias(&alias)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "identity providers",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 200, description = "The organization's providers by alias", body = Vec<IdpRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}/identity-providers")]
pub async fn list_org_idps(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let idps = state.provider.org_idps(&caller, &realm, &org).await?;
    Ok(HttpResponse::Ok().json(reps(idps)))
}

#[utoipa::path(tag = "identity providers",
    responses((status = 200, description = "The user's upstream accounts by provider alias", body = Vec<FederatedIdentityRep>),
        (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/users/{id}/federated-identity")]
pub async fn list_user_links(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let links = state
        .provider
        .user_links(&caller, &realm, user_id(&id)?)
        .await?;
    let links: Vec<FederatedIdentityRep> = links.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(links))
}

#[utoipa::path(tag = "identity providers",
    responses((status = 204, description = "Unlinked; the user stays"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/users/{id}/federated-identity/{alias}")]
pub async fn delete_user_link(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, alias) = path.into_inner();
    state
        .provider
        .delete_user_link(&caller, &realm, user_id(&id)?, &idp_alias(&alias)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
