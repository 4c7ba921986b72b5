//! The protocol error: RFC 6749 §5.2 / RFC 8693 §2.2.2 / RFC 6750 §3.1 codes. Only the
//! description goes on the wire; server-side causes are logged, never returned.

use std::borrow::Cow;
use tessera_storage::StoreError;

pub type Desc = Cow<'static, str>;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(Desc),
    #[error("invalid_client: {0}")]
    InvalidClient(Desc),
    #[error("invalid_grant: {0}")]
    InvalidGrant(Desc),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(Desc),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(Desc),
    #[error("invalid_scope: {0}")]
    InvalidScope(Desc),
    #[error("invalid_target: {0}")]
    InvalidTarget(Desc),
    #[error("access_denied: {0}")]
    AccessDenied(Desc),
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(Desc),
    /// OIDC Core §3.1.2.6: `request` / `request_uri` are not supported.
    #[error("request_not_supported")]
    RequestNotSupported,
    #[error("login_required")]
    LoginRequired,
    #[error("consent_required")]
    ConsentRequired,
    /// `prompt=none`, but the user must choose (e.g. an organization).
    #[error("interaction_required")]
    InteractionRequired,
    /// RFC 6750: a bearer token that is missing, expired, revoked or foreign.
    #[error("invalid_token: {0}")]
    InvalidToken(Desc),
    /// RFC 6750: the token is valid but lacks a required scope or role.
    #[error("insufficient_scope: {0}")]
    InsufficientScope(Desc),
    /// The realm or addressed object does not exist (HTTP 404).
    #[error("not_found: {0}")]
    NotFound(Desc),
    /// The object already exists (HTTP 409, admin API).
    #[error("conflict: {0}")]
    Conflict(Desc),
    /// RFC 7591 §3.2.2: registration metadata the server refuses.
    #[error("invalid_client_metadata: {0}")]
    InvalidClientMetadata(Desc),
    #[error("invalid_redirect_uri: {0}")]
    InvalidRedirectUri(Desc),
    #[error("invalid_software_statement: {0}")]
    InvalidSoftwareStatement(Desc),
    /// A well-formed request a realm policy refuses (HTTP 403), e.g. open registration
    /// when the realm holds as many registered clients as it allows.
    #[error("access_denied: {0}")]
    Forbidden(Desc),
    /// Too many requests from one source (HTTP 429 with `Retry-After`).
    #[error("rate_limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("temporarily_unavailable")]
    TemporarilyUnavailable,
    /// A server we depend on (the realm's mail server) failed or refused (HTTP 502); the
    /// description says which, never how (no addresses, no upstream text).
    #[error("upstream_unavailable: {0}")]
    UpstreamUnavailable(Desc),
    /// A sign-in through an upstream provider failed at one of its steps: `code` names
    /// the step's failure on the page (`invalid_id_token`, `claim_missing`, …).
    #[error("{code}: {desc}")]
    Broker {
        code: &'static str,
        status: u16,
        desc: Desc,
    },
    /// RFC 8628 §3.5 / CIBA §11: the person has not decided yet.
    #[error("authorization_pending")]
    AuthorizationPending,
    /// RFC 8628 §3.5: polled faster than the interval, which grows by five seconds.
    #[error("slow_down")]
    SlowDown,
    /// RFC 8628 §3.5: the device code or `auth_req_id` expired.
    #[error("expired_token")]
    ExpiredToken,
    /// CIBA §13: the hint names no (enabled) person of the realm.
    #[error("unknown_user_id: {0}")]
    UnknownUserId(Desc),
    /// CIBA §13.
    #[error("invalid_binding_message: {0}")]
    InvalidBindingMessage(Desc),
    #[error("server_error: {0}")]
    ServerError(String),
}

impl OAuthError {
    pub fn invalid_request(d: impl Into<Desc>) -> Self {
        Self::InvalidRequest(d.into())
    }

    /// `invalid_scope` naming every refused scope (each cut to 64 characters, at most ten),
    /// or `None` when nothing was refused: one try shows the client all it must change.
    pub fn scopes_refused<'a>(
        refused: impl Iterator<Item = &'a tessera_domain::Scope>,
    ) -> Option<Self> {
        let names: Vec<String> = refused
            .take(10)
            .map(|s| s.as_str().chars().take(64).collect())
            .collect();
        match names.len() {
            0 => None,
            1 => Some(Self::InvalidScope(
                format!("scope {} is not allowed for this client", names[0]).into(),
            )),
            _ => Some(Self::InvalidScope(
                format!("scopes {} are not allowed for this client", names.join(" ")).into(),
            )),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidTarget(_) => "invalid_target",
            Self::AccessDenied(_) => "access_denied",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::RequestNotSupported => "request_not_supported",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::InvalidClientMetadata(_) => "invalid_client_metadata",
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::InvalidSoftwareStatement(_) => "invalid_software_statement",
            Self::Forbidden(_) => "access_denied",
            Self::TemporarilyUnavailable
            | Self::UpstreamUnavailable(_)
            | Self::RateLimited { .. } => "temporarily_unavailable",
            Self::Broker { code, .. } => code,
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::UnknownUserId(_) => "unknown_user_id",
            Self::InvalidBindingMessage(_) => "invalid_binding_message",
            Self::ServerError(_) => "server_error",
        }
    }

    /// HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient(_) | Self::InvalidToken(_) => 401,
            // access_denied is 400 at the token endpoint (RFC 6749 §5.2 uses 400 for all
            // but invalid_client); at the authorization endpoint it travels in a redirect.
            Self::InsufficientScope(_) | Self::Forbidden(_) => 403,
            Self::RateLimited { .. } => 429,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::TemporarilyUnavailable => 503,
            Self::UpstreamUnavailable(_) => 502,
            Self::ServerError(_) => 500,
            Self::Broker { status, .. } => *status,
            _ => 400,
        }
    }

    /// The client-safe description: printable ASCII without `"` or `\` (RFC 6749 §5.2),
    /// so it can also go into a `WWW-Authenticate` header.
    pub fn description(&self) -> String {
        let raw: &str = match self {
            Self::ServerError(_) => "internal error",
            Self::RequestNotSupported => "request objects are not supported",
            Self::LoginRequired => "the user must log in",
            Self::ConsentRequired => "the user must consent",
            Self::InteractionRequired => "the user must choose on a page",
            Self::TemporarilyUnavailable => "the server is busy, retry later",
            Self::RateLimited { .. } => "too many requests from this address, retry later",
            Self::AuthorizationPending => "the person has not decided yet",
            Self::SlowDown => "polling too fast: wait five seconds more between polls",
            Self::ExpiredToken => "the request expired; start again",
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::UnsupportedGrantType(d)
            | Self::InvalidScope(d)
            | Self::InvalidTarget(d)
            | Self::UnsupportedResponseType(d)
            | Self::AccessDenied(d)
            | Self::InvalidToken(d)
            | Self::InsufficientScope(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::UpstreamUnavailable(d)
            | Self::InvalidClientMetadata(d)
            | Self::InvalidRedirectUri(d)
            | Self::InvalidSoftwareStatement(d)
            | Self::Forbidden(d)
            | Self::UnknownUserId(d)
            | Self::InvalidBindingMessage(d)
            | Self::Broker { desc: d, .. } => d,
        };
        raw.chars()
            .map(|c| match c {
                ' ' | '!' | '#'..='[' | ']'..='~' => c,
                _ => '?',
            })
            .collect()
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::Conflict => Self::Conflict("already exists".into()),
            other => Self::ServerError(other.to_string()),
        }
    }
}

impl From<tessera_domain::DomainError> for OAuthError {
    fn from(e: tessera_domain::DomainError) -> Self {
        Self::InvalidRequest(e.to_string().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_strips_quotes_backslashes_and_line_breaks() {
        let e = OAuthError::invalid_request("bad \"x\"\r\n\\ é");
        assert_eq!(e.description(), "bad ?x???? ?");
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let e = OAuthError::ServerError("connection refused to 10.0.0.1".into());
        assert_eq!(e.description(), "internal error");
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn invalid_client_is_401_and_others_400() {
        assert_eq!(OAuthError::InvalidClient("x".into()).status(), 401);
        assert_eq!(OAuthError::UnsupportedGrantType("x".into()).status(), 400);
        assert_eq!(OAuthError::InvalidScope("x".into()).status(), 400);
    }
}
