//! Admin REST API under `/admin/realms`: JSON, keyset-paginated lists, authorized by a
//! master-realm access token carrying the `admin` role. Described by OpenAPI at
//! `/admin/openapi.json`, browsable at `/admin/docs/`.

mod clients;
mod realms;
mod users;

use crate::AppState;
use crate::error::ApiError;
use crate::form::bearer_token;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use tessera_oidc::OAuthError;
use tessera_oidc::admin::AdminPrincipal;
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
            .configure(users::configure),
    );
}

/// A caller proven to hold an admin token of the master realm.
pub struct Admin(#[allow(dead_code)] pub AdminPrincipal);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .expect("AppState is registered");
            let token = bearer_token(&req)?;
            Ok(Admin(state.provider.authorize_admin(token).await?))
        })
    }
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
    info(title = "Tessera admin API", description = "Realms, clients and users. Authorize with an access token of realm `master` that carries the `admin` role (client_credentials of `tessera-admin`)."),
    paths(
        realms::list, realms::create, realms::get, realms::update, realms::delete,
        realms::list_keys, realms::rotate_keys,
        clients::list, clients::create, clients::get, clients::update, clients::delete, clients::regenerate_secret,
        users::list, users::create, users::get, users::update, users::delete, users::set_password,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;
