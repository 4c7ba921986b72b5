//! `GET /admin/realms/{realm}/approval-requests` (realm administrators): device and CIBA
//! requests waiting for a person, newest first.

use super::{Caller, page_limit};
use crate::AppState;
use crate::error::ApiError;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use tessera_oidc::admin::approvals::PendingApproval;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_approval_requests);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApprovalQuery {
    /// 1 to 500 (default 100).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalRep {
    pub id: String,
    /// device (RFC 8628) or ciba.
    pub kind: String,
    pub client_id: String,
    pub client_name: String,
    /// The person a CIBA request names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_message: Option<String>,
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
}

impl From<PendingApproval> for ApprovalRep {
    fn from(p: PendingApproval) -> Self {
        let r = p.request;
        Self {
            id: r.id.to_string(),
            kind: r.kind.as_str().to_owned(),
            client_id: p.client_id,
            client_name: p.client_name,
            username: p.username,
            binding_message: r.binding_message,
            scope: r.scope.to_string(),
            created_at: r.created_at.0,
            expires_at: r.expires_at.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalList {
    pub items: Vec<ApprovalRep>,
}

#[utoipa::path(tag = "approvals", params(("realm" = String, Path), ApprovalQuery),
    responses((status = 200, body = ApprovalList)))]
#[get("/{realm}/approval-requests")]
pub async fn list_approval_requests(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    q: web::Query<ApprovalQuery>,
) -> Result<HttpResponse, ApiError> {
    let items = state
        .provider
        .pending_approvals(&caller, &realm, q.into_inner().limit)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(ApprovalList { items }))
}
