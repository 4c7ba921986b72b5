//! Admin REST API under `/admin/realms`: JSON, keyset-paginated lists, authorized by a
//! master-realm access token carrying the `admin` role (or, for an organization's members
//! and invitations, a token of the organization's realm whose user holds the
//! organization's `admin` role). Described by OpenAPI at `/admin/openapi.json`, browsable
//! at `/admin/docs/`.

mod clients;
mod exchange;
mod orgs;
mod realms;
mod smtp;
mod users;

use crate::error::ApiError;
pub(crate) use crate::extract::Caller;
use actix_web::web;
use serde::{Deserialize, Serialize};
use tessera_oidc::OAuthError;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

/// The admin API under `/admin/realms`: every handler registered through utoipa-actix-web,
/// so the OpenAPI document's paths are exactly the routes served.
pub fn scope() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
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
    utoipa_actix_web::scope("/admin/realms")
        .app_data(json)
        .app_data(query)
        .configure(realms::configure)
        .configure(clients::configure)
        .configure(users::configure)
        .configure(orgs::configure)
        .configure(exchange::configure)
        .configure(smtp::configure)
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
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;
