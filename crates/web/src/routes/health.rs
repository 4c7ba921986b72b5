//! Liveness and readiness (checks the database). Metrics are on their own listener.

use crate::AppState;
use actix_web::{HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "UP" }))
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.provider.store().ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "UP", "database": "UP" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "DOWN", "database": "DOWN" }))
        }
    }
}
