//! HTTP edge: actix-web routes, error mapping, the admin API with OpenAPI, health and metrics.

pub mod error;
mod extract;
mod form;
pub mod limits;
mod pages;
mod routes;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use tessera_oidc::{OAuthError, Provider};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

pub use routes::admin::ApiDoc;

/// What every handler can reach.
pub struct AppState {
    pub provider: Arc<Provider>,
    pub metrics: PrometheusHandle,
}

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// Counts responses by status class; cheap enough for the hot paths.
async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Registered once: a labelled `counter!` would look the registry up on every response.
    static BY_CLASS: OnceLock<[metrics::Counter; 4]> = OnceLock::new();
    let counters = BY_CLASS.get_or_init(|| {
        ["2xx", "3xx", "4xx", "5xx"]
            .map(|class| metrics::counter!("tessera_http_responses_total", "class" => class))
    });
    let res = next.call(req).await?;
    let i = match res.status().as_u16() {
        200..=299 => 0,
        300..=399 => 1,
        400..=499 => 2,
        _ => 3,
    };
    counters[i].increment(1);
    Ok(res)
}

/// Registers every route on an actix `ServiceConfig`, shared by `serve` and the tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(routes::protocol::configure)
        .configure(routes::browser::configure)
        .configure(routes::health::configure)
        .configure(routes::home::configure);
}

/// The admin API and its OpenAPI document (served at `/admin/openapi.json`, browsable at
/// `/admin/docs/`), collected from the same registrations.
pub fn admin_api<T>(app: App<T>) -> App<T>
where
    T: actix_web::dev::ServiceFactory<
            ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(routes::admin::scope())
        .openapi_service(|api| {
            SwaggerUi::new("/admin/docs/{_:.*}")
                .url("/admin/openapi.json", routes::admin::complete_document(api))
        })
        .into_app()
}

async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&error::ApiError(OAuthError::NotFound(
        "no such endpoint".into(),
    )))
}

/// Starts the HTTP server on an already-bound listener.
pub fn serve(
    state: AppState,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        admin_api(App::new())
            .app_data(state.clone())
            // A path segment that is not valid UTF-8 names nothing we have.
            .app_data(web::PathConfig::default().error_handler(|_, _| {
                error::ApiError(OAuthError::NotFound("no such resource".into())).into()
            }))
            .wrap(actix_web::middleware::from_fn(limits::body_deadline))
            .wrap(actix_web::middleware::from_fn(count_requests))
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY")),
            )
            .wrap(actix_web::middleware::from_fn(pages::headers))
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}
