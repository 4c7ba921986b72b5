//! Extractors shared by the routes: the admin caller, resolved once per request by
//! `Provider::resolve_admin`, and typed ids from path segments (a segment that is not an
//! id names nothing: 404).

use crate::AppState;
use crate::error::ApiError;
use crate::form::bearer_token;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;
use tessera_domain::{InvitationId, UserId};
use tessera_oidc::OAuthError;
use tessera_oidc::admin::{AdminCredentials, AdminPrincipal};
use uuid::Uuid;

/// The caller of an admin route: a realm administrator, or the administrator of the
/// organization the path names. Which operations each may run is the engine's decision;
/// here only the credentials are read (401 without, 403 or 404 as `resolve_admin` says).
pub struct Caller(pub AdminPrincipal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .expect("AppState is registered")
                .clone();
            let credentials = AdminCredentials::Bearer(bearer_token(&req)?);
            let path = req.match_info();
            let principal = state
                .provider
                .resolve_admin(credentials, path.get("realm"), path.get("org"))
                .await?;
            Ok(Caller(principal))
        })
    }
}

fn id<T>(raw: &str, what: &str, make: impl Fn(Uuid) -> T) -> Result<T, ApiError> {
    Uuid::parse_str(raw)
        .map(make)
        .map_err(|_| ApiError(OAuthError::NotFound(format!("{what} not found").into())))
}

pub fn user_id(raw: &str) -> Result<UserId, ApiError> {
    id(raw, "user", UserId)
}

pub fn invitation_id(raw: &str) -> Result<InvitationId, ApiError> {
    id(raw, "invitation", InvitationId)
}
