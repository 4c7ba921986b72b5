//! HTTP edge: actix-web routes, error mapping, the admin API with OpenAPI, health, request
//! logging and metrics (served on a listener of their own).

pub mod error;
mod extract;
mod form;
pub mod limits;
mod pages;
mod routes;
mod telemetry;
mod words;

use actix_web::dev::{Server, ServiceRequest};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use tessera_oidc::{OAuthError, Provider};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

pub use routes::admin::ApiDoc;
pub use telemetry::{metrics_handle, serve_metrics};

/// What every handler can reach.
pub struct AppState {
    pub provider: Arc<Provider>,
    pub metrics: PrometheusHandle,
    /// Peers whose `X-Forwarded-For` names the client (`extract::client_ip`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Registers every route on an actix `ServiceConfig`, shared by `serve` and the tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(routes::protocol::configure)
        .configure(routes::registration::configure)
        .configure(routes::org_admin::configure)
        .configure(routes::browser::configure)
        .configure(routes::account::configure)
        .configure(routes::device::configure)
        .configure(routes::broker::configure)
        .configure(routes::console::configure)
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
            let _ = ADMIN_PATHS.set(routes::admin::AdminPaths::of(&api));
            SwaggerUi::new("/admin/docs/{_:.*}")
                .url("/admin/openapi.json", routes::admin::complete_document(api))
        })
        .into_app()
}

/// The admin API's paths, known once the first app has collected them.
static ADMIN_PATHS: OnceLock<routes::admin::AdminPaths> = OnceLock::new();

/// 405 with `Allow` for a method an admin path does not answer; otherwise a page for a
/// browser (it asks for HTML first), JSON for everyone else.
async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    if let Some(allow) = ADMIN_PATHS.get().and_then(|p| p.allow(req.path())) {
        return HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", allow.to_owned()))
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({
                "error": "method_not_allowed",
                "error_description": format!("this path answers {allow}"),
            }));
    }
    let wants_html = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .and_then(|a| a.split(',').next())
        .is_some_and(|first| first.trim().starts_with("text/html"));
    if wants_html {
        return routes::browser::not_found_page();
    }
    actix_web::ResponseError::error_response(&error::ApiError(OAuthError::NotFound(
        "no such endpoint".into(),
    )))
}

/// Starts the HTTP server on an already-bound listener.
pub fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let mut server = HttpServer::new(move || {
        admin_api(App::new())
            .app_data(state.clone())
            // A path segment that is not valid UTF-8 names nothing we have.
            .app_data(web::PathConfig::default().error_handler(|_, _| {
                error::ApiError(OAuthError::NotFound("no such resource".into())).into()
            }))
            .wrap(actix_web::middleware::from_fn(limits::body_deadline))
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY")),
            )
            .wrap(actix_web::middleware::from_fn(pages::headers))
            // Outermost: its latency and status are the client's.
            .wrap(actix_web::middleware::from_fn(telemetry::observe))
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.shutdown_signal(stop_requested()).run())
}

/// Ctrl-C drains like SIGTERM: actix would stop at once on SIGINT, dropping requests in flight.
async fn stop_requested() {
    // A handler that cannot be installed must not read as a signal.
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("stopping: finishing the requests in flight");
}
