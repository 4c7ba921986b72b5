//! Protocol and API errors as HTTP: RFC 6749 JSON bodies, `Cache-Control: no-store`,
//! `WWW-Authenticate` on 401/403, and never an internal detail in the body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use tessera_oidc::OAuthError;

#[derive(Debug)]
pub struct ApiError(pub OAuthError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.code())
    }
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl From<tessera_domain::DomainError> for ApiError {
    fn from(e: tessera_domain::DomainError) -> Self {
        Self(e.into())
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let OAuthError::ServerError(cause) = &self.0 {
            tracing::error!(%cause, "request failed");
        }
        let description = self.0.description();
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"));
        match &self.0 {
            OAuthError::InvalidClient(_) => {
                res.insert_header((
                    "WWW-Authenticate",
                    r#"Basic realm="tessera", charset="UTF-8""#,
                ));
            }
            OAuthError::InvalidToken(_) | OAuthError::InsufficientScope(_) => {
                res.insert_header((
                    "WWW-Authenticate",
                    format!(
                        r#"Bearer error="{}", error_description="{}""#,
                        self.0.code(),
                        description
                    ),
                ));
            }
            OAuthError::TemporarilyUnavailable => {
                res.insert_header(("Retry-After", "1"));
            }
            OAuthError::RateLimited { retry_after_secs } => {
                res.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            _ => {}
        }
        res.json(Body {
            error: self.0.code(),
            error_description: description,
        })
    }
}
