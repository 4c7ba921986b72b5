//! Extractors shared by the routes: the admin caller, resolved once per request by
//! `Provider::resolve_admin`, and typed ids from path segments (a segment that is not an
//! id names nothing: 404).

use crate::AppState;
use crate::error::ApiError;
use crate::form::bearer_token;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;
use tessera_domain::{IdpAlias, InvitationId, UserId};
use tessera_oidc::OAuthError;
use tessera_oidc::admin::{AdminCredentials, AdminPrincipal, AdminTarget};
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
            let credentials = AdminCredentials::bearer(bearer_token(&req)?);
            let path = req.match_info();
            let target = AdminTarget {
                realm: path.get("realm"),
                org: path.get("org"),
                write: req.method() != Method::GET && req.method() != Method::HEAD,
                path: req.path(),
            };
            let principal = state.provider.resolve_admin(credentials, target).await?;
            // For the audit log entry of a change that succeeds (telemetry::observe).
            req.extensions_mut().insert(principal.clone());
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

/// An identity provider's alias from the path: anything else names no provider.
pub fn idp_alias(raw: &str) -> Result<IdpAlias, ApiError> {
    IdpAlias::parse(raw)
        .map_err(|_| ApiError(OAuthError::NotFound("identity provider not found".into())))
}

/// An admin request body. A whole number written with a fraction (`300.0`) is the integer
/// JSON Schema says it is; otherwise as `web::Json` (the admin scope's size limit and error
/// text).
pub struct AdminJson<T>(pub T);

impl<T> AdminJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for AdminJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for AdminJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Box<serde_json::value::RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = body.await?.into_inner();
            Ok(AdminJson(admin_json(raw.get())?))
        })
    }
}

/// Parses an admin body (see [`AdminJson`]): strictly (duplicate or unknown fields are
/// errors), and once more with whole numbers as integers when that is what failed.
pub fn admin_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let invalid = |e: serde_json::Error| {
        ApiError(OAuthError::InvalidRequest(
            format!("invalid JSON body: {e}").into(),
        ))
    };
    let first = match serde_json::from_str::<T>(text) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Err(invalid(first));
    };
    if !whole_numbers_as_integers(&mut v) {
        return Err(invalid(first));
    }
    serde_json::from_value(v).map_err(invalid)
}

/// Rewrites `300.0` as `300` throughout; whether anything changed.
fn whole_numbers_as_integers(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            // Within ±2^53 a float holds its integer exactly.
            match n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= 9e15) {
                Some(f) => {
                    *v = Value::from(f as i64);
                    true
                }
                None => false,
            }
        }
        // Every item is rewritten: no short-circuit.
        Value::Array(items) => items
            .iter_mut()
            .map(whole_numbers_as_integers)
            .fold(false, |a, b| a | b),
        Value::Object(map) => map
            .values_mut()
            .map(whole_numbers_as_integers)
            .fold(false, |a, b| a | b),
        _ => false,
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the
/// nearest address in `X-Forwarded-For` that is not one. Hops further left were written by
/// whoever sent the request and prove nothing (RFC 9700 §4.13). Without trusted proxies
/// no header is read.
pub fn client_ip(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) if is_trusted(&ip) => continue,
            Ok(ip) => return Some(ip),
            // A hop we cannot read: the proxy's own address is all we know.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}
