//! What an operator sees of each request: one log line (and, for a successful admin
//! change, a second), a request id echoed in `X-Request-Id`, and Prometheus metrics served
//! on a listener of their own, never on the public one.

use crate::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;
use tessera_domain::RealmName;
use tracing::Instrument;
use tracing::field::Empty;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const REQUEST_SECONDS: &str = "tessera_http_request_duration_seconds";
const RESPONSES: &str = "tessera_http_responses_total";
const POOL: &str = "tessera_db_pool_connections";
/// The route label of requests no route matched (their paths are not labels: unbounded).
const UNMATCHED: &str = "unmatched";

/// Seconds; from a sub-millisecond statement to a slow page.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// The process-wide Prometheus recorder (installed once, shared by every app in the
/// process). Install it before opening the store: handles taken earlier record nothing.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .expect("the bucket list is not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            describe();
            // Histogram samples pile up until drained: without a scrape they would grow
            // with every request, so drain them on a clock of their own.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP);
                        upkeep.run_upkeep();
                    }
                })
                .expect("a thread can be started at start-up");
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "HTTP request latency by route template, method and status class"
    );
    describe_counter!(RESPONSES, "HTTP responses by status class");
    describe_gauge!(
        POOL,
        "Database pool connections by state (in_use, idle, max), sampled when scraped"
    );
    describe_counter!(
        "tessera_malformed_requests_total",
        "Requests actix could not parse (answered with a 4xx, not logged)"
    );
    describe_counter!(
        "tessera_request_body_timeouts_total",
        "Requests whose body did not arrive in time"
    );
    tessera_oidc::telemetry::describe_metrics();
}

/// A caller's `X-Request-Id` is kept when it is short and plain, so it cannot forge log
/// lines or blow up their size; anything else gets an id of ours.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(our_request_id)
}

/// A random per-process prefix and a counter: unique across processes and restarts without
/// a system call per request (a request id names a request, it guards nothing).
fn our_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..16].to_owned());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{n:016x}")
}

const METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
];
const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

fn class(status: StatusCode) -> usize {
    match status.as_u16() {
        ..=299 => 0,
        300..=399 => 1,
        400..=499 => 2,
        _ => 3,
    }
}

/// One route's latency histograms by method (and "other") and status class, each
/// registered on its first use.
type RouteTimers = [[OnceLock<Histogram>; 4]; 7];

fn observe_latency(route: &str, method: &Method, status: StatusCode, seconds: f64) {
    static ROUTES: OnceLock<RwLock<HashMap<String, Arc<RouteTimers>>>> = OnceLock::new();
    static RESPONSES_BY_CLASS: OnceLock<[Counter; 4]> = OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    // Route templates are few and fixed: after warm-up this is a read lock and a lookup.
    let found = routes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(route)
        .cloned();
    let timers = found.unwrap_or_else(|| {
        routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(route.to_owned())
            .or_default()
            .clone()
    });
    let m = METHODS
        .iter()
        .position(|x| x == method)
        .unwrap_or(METHODS.len());
    let c = class(status);
    timers[m][c]
        .get_or_init(|| {
            let method = METHODS.get(m).map_or("other", |x| x.as_str());
            metrics::histogram!(REQUEST_SECONDS,
                "route" => route.to_owned(), "method" => method, "status_class" => CLASSES[c])
        })
        .record(seconds);
    RESPONSES_BY_CLASS
        .get_or_init(|| CLASSES.map(|class| metrics::counter!(RESPONSES, "class" => class)))[c]
        .increment(1);
}

/// Times, counts and logs every request, in a span carrying the request id (and, as the
/// request goes, the realm, the client id, the admin principal) so that every line the
/// request causes carries them too.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let id = request_id(&req);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        realm = Empty,
        client_id = Empty,
        principal = Empty,
        user_id = Empty,
    );
    let method = req.method().clone();
    let res = next.call(req).instrument(span.clone()).await;
    let elapsed = start.elapsed();
    // The route is known after routing, from the request the response carries (holding a
    // clone of it during the call would stop the router from writing the path's values).
    let (status, http) = match &res {
        Ok(r) => (r.status(), Some(r.request())),
        Err(e) => (e.as_response_error().status_code(), None),
    };
    let route = http.and_then(|h| h.match_pattern());
    let route = route.as_deref().unwrap_or(UNMATCHED);
    observe_latency(route, &method, status, elapsed.as_secs_f64());
    if let Some(realm) = http
        .and_then(|h| h.match_info().get("realm"))
        .filter(|r| RealmName::parse(r).is_ok())
    {
        span.record("realm", realm);
    }
    let change = span.in_scope(|| {
        tracing::info!(
            target: "tessera::access",
            method = %method,
            route,
            status = status.as_u16(),
            latency_ms = elapsed.as_micros() as f64 / 1000.0,
            "request"
        );
        match http {
            Some(http)
                if route.starts_with("/admin/realms")
                    && !matches!(method, Method::GET | Method::HEAD)
                    && status.is_success() =>
            {
                Some(admin_change(http, &method, route))
            }
            // A console form that did what it asked answers with a redirect (or, for a
            // secret shown once, with its page).
            Some(http)
                if is_console_route(route)
                    && method == Method::POST
                    && (status.is_success() || status == StatusCode::SEE_OTHER) =>
            {
                Some(admin_change(http, &method, route))
            }
            _ => None,
        }
    });
    if let (Some(change), Some(http)) = (change, http) {
        record(http, change).instrument(span.clone()).await;
    }
    let mut res = res?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// One line per successful admin change: who is on the span (principal, client id),
/// what is the method, the route and the path's ids. Returns the action and the target
/// for the audit log.
fn admin_change(
    http: &actix_web::HttpRequest,
    method: &Method,
    route: &str,
) -> (&'static str, String) {
    let action = match *method {
        Method::POST if is_console_route(route) => console_action(route),
        Method::POST => "create",
        Method::DELETE => "delete",
        _ => "update",
    };
    let ids: Vec<String> = http
        .match_info()
        .iter()
        .filter(|(k, _)| *k != "realm")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let ids = ids.join(",");
    tracing::info!(
        target: "tessera::admin",
        action,
        route,
        ids = %ids,
        "admin change"
    );
    let target = if ids.is_empty() {
        route.to_owned()
    } else {
        format!("{route} {ids}")
    };
    (action, target)
}

/// The console's pages that change something (its sign-in and sign-out change nothing an
/// administrator manages).
fn is_console_route(route: &str) -> bool {
    (route.starts_with("/admin/console/") || route.starts_with("/realms/{realm}/console/"))
        && !["/logout", "/preview", "/evaluate"]
            .iter()
            .any(|only_reads| route.ends_with(only_reads))
}

/// What a console form did, from its route: the console posts to a collection to create,
/// to `…/remove`, `…/revoke`, `…/retire` or `…/delete` to delete, and to anything else
/// to update. A discovery preview and an exchange dry run change nothing.
fn console_action(route: &str) -> &'static str {
    let last = route.rsplit('/').next().unwrap_or_default();
    match last {
        "remove" | "revoke" | "retire" | "delete" => "delete",
        "realms" | "organizations" | "users" | "invitations" | "domains" | "admin-keys"
        | "clients" | "identity-providers" | "registration" => "create",
        _ => "update",
    }
}

/// The audit log entry of a successful admin change, when the caller was resolved (the
/// extractor left the principal on the request) and the path names a realm.
async fn record(http: &actix_web::HttpRequest, (action, target): (&'static str, String)) {
    use actix_web::HttpMessage;
    let Some(state) = http.app_data::<web::Data<AppState>>() else {
        return;
    };
    let Some(principal) = http
        .extensions()
        .get::<tessera_oidc::admin::AdminPrincipal>()
        .cloned()
    else {
        return;
    };
    let Some(realm) = http.match_info().get("realm") else {
        return;
    };
    let source = crate::extract::client_ip(http, &state.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let change = tessera_oidc::admin::audit::AdminChange {
        realm,
        org: http.match_info().get("org"),
        principal: &principal,
        action,
        target,
        source,
    };
    if let Err(e) = state.provider.record_admin_change(change).await {
        tracing::warn!(error = %e, "recording an admin change in the audit log failed");
    }
}

/// Serves `/metrics` alone, on the metrics listener (one worker: it is scraped, not browsed).
pub fn serve_metrics(state: Arc<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(render))
    })
    .workers(1)
    .listen(listener)?
    .run())
}

async fn render(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.provider.store().pool_stats();
    for (s, n) in [
        ("in_use", pool.in_use),
        ("idle", pool.idle),
        ("max", pool.max),
    ] {
        metrics::gauge!(POOL, "state" => s).set(n);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
