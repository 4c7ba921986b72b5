//! Initial access tokens for dynamic client registration, at Keycloak's path
//! `/admin/realms/{realm}/clients-initial-access` (realm administrators) and under an
//! organization (its administrators too: the clients registered with such a token belong
//! to the organization). A token is shown once, in the creation response.

use super::orgs::IdPageQuery;
use super::{Caller, Page};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use tessera_domain::InitialAccessToken;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(delete)
        .service(list_for_org)
        .service(create_for_org)
        .service(delete_for_org);
}

#[derive(Serialize, ToSchema)]
pub struct InitialTokenRep {
    pub id: String,
    /// The token, for `Authorization: Bearer` at the registration endpoint: only in the
    /// response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Clients registered with it belong to this organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Registrations left.
    pub remaining: i64,
    pub expires_at: i64,
    pub created_at: i64,
    /// `sub` of the administrator who minted it.
    pub created_by: String,
}

fn rep(t: InitialAccessToken, token: Option<String>) -> InitialTokenRep {
    InitialTokenRep {
        id: t.id.to_string(),
        token,
        organization_id: t.org_id.map(|o| o.to_string()),
        remaining: t.remaining,
        expires_at: t.expires_at.0,
        created_at: t.created_at.0,
        created_by: t.created_by,
    }
}

/// A new initial access token of an organization.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInitialTokenBody {
    /// Registrations it allows, 1 to 1000 (default 1).
    #[schema(minimum = 1, maximum = 1000)]
    pub count: Option<i64>,
    /// Seconds until it expires, 60 to 31536000 (default 86400).
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub expires_in: Option<i64>,
}

/// A new initial access token of the realm.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitialTokenBody {
    /// Registrations it allows, 1 to 1000 (default 1).
    #[schema(minimum = 1, maximum = 1000)]
    pub count: Option<i64>,
    /// Seconds until it expires, 60 to 31536000 (default 86400).
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub expires_in: Option<i64>,
    /// Id or alias of an organization of the realm: the clients registered with the
    /// token belong to it.
    pub organization: Option<String>,
}

fn created(t: InitialAccessToken, token: String) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(rep(t, Some(token)))
}

async fn list_page(
    caller: &tessera_oidc::admin::AdminPrincipal,
    state: &AppState,
    realm: &str,
    org: Option<&str>,
    q: IdPageQuery,
) -> Result<HttpResponse, ApiError> {
    let tokens = state
        .provider
        .list_initial_tokens(caller, realm, org, q.after.map(|a| a.to_string()), q.limit)
        .await?;
    let items: Vec<_> = tokens.into_iter().map(|t| rep(t, None)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, q.limit, |t| t.id.clone())))
}

#[utoipa::path(tag = "client-registration", operation_id = "list_initial_tokens",
    params(("realm" = String, Path), IdPageQuery),
    responses((status = 200, description = "Sorted by id, without the tokens", body = Page<InitialTokenRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/clients-initial-access")]
pub async fn list(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    q: web::Query<IdPageQuery>,
) -> Result<HttpResponse, ApiError> {
    list_page(&caller, &state, &realm, None, q.into_inner()).await
}

#[utoipa::path(tag = "client-registration", operation_id = "create_initial_token",
    params(("realm" = String, Path)), request_body = InitialTokenBody,
    responses((status = 201, description = "Created; `token` is shown only here", body = InitialTokenRep), (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/clients-initial-access")]
pub async fn create(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<InitialTokenBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let (token, t) = state
        .provider
        .mint_initial_token(
            &caller,
            &realm,
            b.organization.as_deref(),
            b.count,
            b.expires_in,
        )
        .await?;
    Ok(created(t, token))
}

#[utoipa::path(tag = "client-registration", operation_id = "delete_initial_token",
    params(("realm" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "Deleted: it registers nothing more"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/clients-initial-access/{id}")]
pub async fn delete(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    state
        .provider
        .delete_initial_token(&caller, &realm, None, &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "client-registration", operation_id = "list_org_initial_tokens",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), IdPageQuery),
    responses((status = 200, description = "Sorted by id, without the tokens", body = Page<InitialTokenRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}/clients-initial-access")]
pub async fn list_for_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<IdPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    list_page(&caller, &state, &realm, Some(&org), q.into_inner()).await
}

#[utoipa::path(tag = "client-registration", operation_id = "create_org_initial_token",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    request_body = OrgInitialTokenBody,
    responses((status = 201, description = "Created; `token` is shown only here", body = InitialTokenRep), (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/organizations/{org}/clients-initial-access")]
pub async fn create_for_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<OrgInitialTokenBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let b = body.into_inner();
    let (token, t) = state
        .provider
        .mint_initial_token(&caller, &realm, Some(&org), b.count, b.expires_in)
        .await?;
    Ok(created(t, token))
}

#[utoipa::path(tag = "client-registration", operation_id = "delete_org_initial_token",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), ("id" = String, Path)),
    responses((status = 204, description = "Deleted: it registers nothing more"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/organizations/{org}/clients-initial-access/{id}")]
pub async fn delete_for_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, id) = path.into_inner();
    state
        .provider
        .delete_initial_token(&caller, &realm, Some(&org), &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
