//! Admin REST API under `/admin/realms`: JSON, keyset-paginated lists, authorized by a
//! master-realm access token carrying the `admin` role (or, for an organization's members
//! and invitations, a token of the organization's realm whose user holds the
//! organization's `admin` role). Described by OpenAPI at `/admin/openapi.json`, browsable
//! at `/admin/docs/`.

mod admin_keys;
mod approvals;
mod audit;
mod clients;
mod exchange;
mod idps;
mod orgs;
mod realms;
mod registration;
mod schema;
mod smtp;
mod users;

use crate::error::ApiError;
pub(crate) use crate::extract::Caller;
use actix_web::web;
use serde::{Deserialize, Serialize};
use tessera_oidc::OAuthError;
use tessera_oidc::admin::MAX_PAGE;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder};
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
        .configure(idps::configure)
        .configure(exchange::configure)
        .configure(audit::configure)
        .configure(smtp::configure)
        .configure(registration::configure)
        .configure(admin_keys::configure)
        .configure(approvals::configure)
}

/// Keyset pagination: pass the previous page's `next` as `after`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Return items sorted after this key (the `next` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// A page size outside 1 to `MAX_PAGE` is refused (400), not clamped: the document's
/// `minimum` and `maximum` are the server's.
pub(crate) fn page_limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let n = u64::deserialize(d)?;
    if (1..=MAX_PAGE).contains(&n) {
        Ok(Some(n))
    } else {
        Err(serde::de::Error::custom(format!(
            "limit must be within 1..={MAX_PAGE}"
        )))
    }
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
        let full = items.len() as u64 >= limit.unwrap_or(100).clamp(1, MAX_PAGE);
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
    info(title = "Tessera admin API", description = "Realms, clients, users, organizations, identity providers and token exchange. Authorize with an access token of realm `master` that carries the `admin` role (client_credentials of `tessera-admin`). An organization's members, invitations, role list and identity providers also accept an access token of the organization's realm whose user holds the organization role `admin`. Scoped admin keys (biscuit tokens minted at `/admin/realms/{realm}/admin-keys`) are accepted as bearer tokens on their realm's paths."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Completes the collected document with what every admin operation can answer, derived
/// from the operation itself so that no handler can forget it: 401 (no or a bad token),
/// 403 (a token without the rights), 400 for operations that read a query or a body (a
/// malformed or out-of-range one), 404 for operations whose path names something; and
/// gives every response the description OpenAPI requires.
pub fn complete_document(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in api.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete_operation(op);
        }
    }
    api
}

fn complete_operation(op: &mut Operation) {
    let has = |p: ParameterIn| {
        op.parameters
            .iter()
            .flatten()
            .any(|x| matches!(x, utoipa::openapi::RefOr::T(x) if x.parameter_in == p))
    };
    let mut common = vec![
        ("401", "No access token, or an invalid or expired one"),
        (
            "403",
            "The token does not grant administration of what the path names",
        ),
    ];
    if has(ParameterIn::Query) || op.request_body.is_some() {
        common.push(("400", "The query or body does not match this document"));
    }
    if has(ParameterIn::Path) {
        common.push(("404", "What the path names does not exist"));
    }
    for (status, description) in common {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description).into());
    }
    for (status, response) in op.responses.responses.iter_mut() {
        if let utoipa::openapi::RefOr::T(r) = response
            && r.description.is_empty()
        {
            r.description = default_description(status).to_owned();
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
}

fn default_description(status: &str) -> &'static str {
    match status {
        "400" => "The query or body does not match this document",
        "404" => "What the path names does not exist",
        "409" => "Conflicts with the current state",
        "503" => "Busy, retry later",
        _ => "Success",
    }
}

/// The document's path templates with the methods each answers, for a 405 with `Allow`
/// where a path exists but the method does not (`/admin/realms` answers GET and POST).
pub struct AdminPaths(Vec<(Vec<String>, String)>);

impl AdminPaths {
    pub fn of(api: &utoipa::openapi::OpenApi) -> Self {
        Self(
            api.paths
                .paths
                .iter()
                .map(|(path, item)| {
                    let methods: Vec<&str> = [
                        ("GET", item.get.is_some()),
                        ("PUT", item.put.is_some()),
                        ("POST", item.post.is_some()),
                        ("DELETE", item.delete.is_some()),
                        ("PATCH", item.patch.is_some()),
                    ]
                    .into_iter()
                    .filter_map(|(m, has)| has.then_some(m))
                    .collect();
                    let segments = path.split('/').map(str::to_owned).collect();
                    (segments, methods.join(", "))
                })
                .collect(),
        )
    }

    /// The `Allow` value for `path`, when some template matches it.
    pub fn allow(&self, path: &str) -> Option<&str> {
        let given: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(template, allow)| {
            let matches = template.len() == given.len()
                && template.iter().zip(&given).all(|(t, g)| {
                    t == g || (t.starts_with('{') && t.ends_with('}') && !g.is_empty())
                });
            matches.then_some(allow.as_str())
        })
    }
}
