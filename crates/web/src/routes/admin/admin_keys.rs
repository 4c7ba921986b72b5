//! Scoped admin keys (biscuit): minted, listed and revoked by the realm's administrators
//! at `/admin/realms/{realm}/admin-keys`, and by an organization's administrators (and the
//! realm's) for that organization at `/admin/realms/{realm}/organizations/{org}/admin-keys`.
//! A key is shown once, in the creation response; the realm's root public key, which
//! holders attenuate keys with, at `…/admin-keys/public-key`.

use super::{Caller, Page};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use tessera_oidc::admin::AdminPrincipal;
use tessera_oidc::admin::admin_keys::{AdminKeyRecord, MintedAdminKey, NewAdminKey};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(root_public_key)
        .service(list)
        .service(create)
        .service(revoke)
        .service(root_public_key_for_org)
        .service(list_for_org)
        .service(create_for_org)
        .service(revoke_for_org);
}

#[derive(Serialize, ToSchema)]
pub struct AdminKeyRep {
    /// The revocation id of the key's authority block: what lists and revokes it.
    pub id: String,
    /// The key, for `Authorization: Bearer` at the admin API: only in the response that
    /// created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The realm's root public key, `ed25519/<hex>`: only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key administers only this organization (its id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub created_at: i64,
    /// Who minted it.
    pub created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

fn rep(k: AdminKeyRecord) -> AdminKeyRep {
    AdminKeyRep {
        id: k.revocation_id,
        key: None,
        public_key: None,
        name: k.name,
        organization_id: k.org.map(|o| o.to_string()),
        read_only: k.read_only,
        expires_at: k.expires_at.map(|t| t.0),
        created_at: k.created_at.0,
        created_by: k.created_by,
        revoked_at: k.revoked_at.map(|t| t.0),
    }
}

fn created(m: MintedAdminKey) -> HttpResponse {
    let rep = AdminKeyRep {
        key: Some(m.key),
        public_key: Some(m.public_key),
        ..rep(m.record)
    };
    HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(rep)
}

/// A new admin key of the realm, or of one of its organizations.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminKeyBody {
    /// Reads only (GET and HEAD). Default false.
    pub read_only: Option<bool>,
    /// Seconds until it expires, 60 to 31536000; without it the key does not expire.
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub expires_in: Option<u64>,
    /// A name to recognise it by in the list.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Id or alias of an organization of the realm: the key administers only it.
    pub organization: Option<String>,
}

/// A new admin key of the organization.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgAdminKeyBody {
    /// Reads only (GET and HEAD). Default false.
    pub read_only: Option<bool>,
    /// Seconds until it expires, 60 to 31536000; without it the key does not expire.
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub expires_in: Option<u64>,
    /// A name to recognise it by in the list.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicKeyRep {
    /// `ed25519/<hex>`, as the `biscuit` CLI and libraries read it.
    pub public_key: String,
}

async fn public_key_of(
    caller: &AdminPrincipal,
    state: &AppState,
    realm: &str,
    org: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let public_key = state
        .provider
        .admin_key_public_key(caller, realm, org)
        .await?;
    Ok(HttpResponse::Ok().json(PublicKeyRep { public_key }))
}

async fn list_of(
    caller: &AdminPrincipal,
    state: &AppState,
    realm: &str,
    org: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let keys = state.provider.list_admin_keys(caller, realm, org).await?;
    let items: Vec<_> = keys.into_iter().map(rep).collect();
    Ok(HttpResponse::Ok().json(Page { items, next: None }))
}

async fn create_in(
    caller: &AdminPrincipal,
    state: &AppState,
    realm: &str,
    org: Option<&str>,
    new: NewAdminKey,
) -> Result<HttpResponse, ApiError> {
    let minted = state
        .provider
        .mint_admin_key(caller, realm, org, new)
        .await?;
    Ok(created(minted))
}

async fn revoke_in(
    caller: &AdminPrincipal,
    state: &AppState,
    realm: &str,
    org: Option<&str>,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    state
        .provider
        .revoke_admin_key(caller, realm, org, id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "admin-keys", operation_id = "get_admin_key_public_key",
    params(("realm" = String, Path)),
    responses((status = 200, description = "The realm's root public key", body = PublicKeyRep), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/admin-keys/public-key")]
pub async fn root_public_key(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    public_key_of(&caller, &state, &realm, None).await
}

#[utoipa::path(tag = "admin-keys", operation_id = "list_admin_keys",
    params(("realm" = String, Path)),
    responses((status = 200, description = "The newest 500, without the keys", body = Page<AdminKeyRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/admin-keys")]
pub async fn list(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    list_of(&caller, &state, &realm, None).await
}

#[utoipa::path(tag = "admin-keys", operation_id = "create_admin_key",
    params(("realm" = String, Path)), request_body = AdminKeyBody,
    responses((status = 201, description = "Created; `key` is shown only here", body = AdminKeyRep), (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/admin-keys")]
pub async fn create(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<AdminKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let new = NewAdminKey {
        read_only: b.read_only.unwrap_or(false),
        expires_in: b.expires_in,
        name: b.name,
    };
    create_in(&caller, &state, &realm, b.organization.as_deref(), new).await
}

#[utoipa::path(tag = "admin-keys", operation_id = "revoke_admin_key",
    params(("realm" = String, Path), ("id" = String, Path, description = "The key's revocation id")),
    responses((status = 204, description = "Revoked: the key and every key derived from it stop working"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/admin-keys/{id}")]
pub async fn revoke(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    revoke_in(&caller, &state, &realm, None, &id).await
}

#[utoipa::path(tag = "admin-keys", operation_id = "get_org_admin_key_public_key",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 200, description = "The realm's root public key", body = PublicKeyRep), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}/admin-keys/public-key")]
pub async fn root_public_key_for_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    public_key_of(&caller, &state, &realm, Some(&org)).await
}

#[utoipa::path(tag = "admin-keys", operation_id = "list_org_admin_keys",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 200, description = "The newest 500, without the keys", body = Page<AdminKeyRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}/admin-keys")]
pub async fn list_for_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    list_of(&caller, &state, &realm, Some(&org)).await
}

#[utoipa::path(tag = "admin-keys", operation_id = "create_org_admin_key",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    request_body = OrgAdminKeyBody,
    responses((status = 201, description = "Created; `key` is shown only here", body = AdminKeyRep), (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/organizations/{org}/admin-keys")]
pub async fn create_for_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<OrgAdminKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let b = body.into_inner();
    let new = NewAdminKey {
        read_only: b.read_only.unwrap_or(false),
        expires_in: b.expires_in,
        name: b.name,
    };
    create_in(&caller, &state, &realm, Some(&org), new).await
}

#[utoipa::path(tag = "admin-keys", operation_id = "revoke_org_admin_key",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), ("id" = String, Path, description = "The key's revocation id")),
    responses((status = 204, description = "Revoked: the key and every key derived from it stop working"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/organizations/{org}/admin-keys/{id}")]
pub async fn revoke_for_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, id) = path.into_inner();
    revoke_in(&caller, &state, &realm, Some(&org), &id).await
}
