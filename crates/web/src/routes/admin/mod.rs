//! Admin REST API under `/admin/realms`: JSON, keyset-paginated lists, authorized by a
//! master-realm access token carrying the `admin` role (or, for an organization's members
//! and invitations, a token of the organization's realm whose user holds the
//! organization's `admin` role). Described by OpenAPI at `/admin/openapi.json`, browsable
//! at `/admin/docs/`.

mod clients;
mod exchange;
mod orgs;
mod realms;
mod users;

use crate::error::ApiError;
pub(crate) use crate::extract::Caller;
use actix_web::web;
use serde::{Deserialize, Serialize};
use tessera_oidc::OAuthError;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|e, _| {
            ApiError(OAuthError::InvalidRequest(
                format!("invalid JSON body: {e}").into(),
            ))
            .into()
        });
    let query = web::QueryConfig::default().error_handler(|e, _| {
        ApiError(OAuthError::InvalidRequest(
            format!("invalid query: {e}").into(),
        ))
        .into()
    });
    cfg.service(
        web::scope("/admin/realms")
            .app_data(json)
            .app_data(query)
            .configure(realms::configure)
            .configure(clients::configure)
            .configure(users::configure)
            .configure(orgs::configure)
            .configure(exchange::configure),
    );
}

/// Keyset pagination: pass the previous page's `next` as `after`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Return items sorted after this key (the `next` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Key to pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    fn new(items: Vec<T>, limit: Option<u64>, key: impl Fn(&T) -> String) -> Self {
        let full =
            items.len() as u64 >= limit.unwrap_or(100).clamp(1, tessera_oidc::admin::MAX_PAGE);
        let next = if full { items.last().map(key) } else { None };
        Self { items, next }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub error_description: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera admin API", description = "Realms, clients, users, organizations and token exchange. Authorize with an access token of realm `master` that carries the `admin` role (client_credentials of `tessera-admin`). An organization's members, invitations and role list also accept an access token of the organization's realm whose user holds the organization role `admin`."),
    paths(
        realms::list, realms::create, realms::get, realms::update, realms::delete,
        realms::list_keys, realms::rotate_keys,
        clients::list, clients::create, clients::get, clients::update, clients::delete, clients::regenerate_secret,
        users::list, users::create, users::get, users::update, users::delete, users::set_password,
        orgs::list_orgs, orgs::create_org, orgs::get_org, orgs::update_org, orgs::delete_org,
        orgs::put_org_domain, orgs::delete_org_domain,
        orgs::list_org_members, orgs::add_org_member, orgs::set_org_member_roles, orgs::remove_org_member,
        orgs::list_org_roles, orgs::list_roles, orgs::create_role, orgs::delete_role,
        orgs::list_invitations, orgs::create_invitation, orgs::resend_invitation, orgs::revoke_invitation,
        orgs::user_orgs,
        exchange::get_policy, exchange::put_policy, exchange::delete_policy,
        exchange::mint_impersonation_token, exchange::evaluate, exchange::list_exchanges,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;
