//! Client authentication at the token, introspection and revocation endpoints:
//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1), `private_key_jwt`
//! (RFC 7523 §2.2), or a public client's `client_id` alone; one method per request, and
//! the one its client is registered with.

use super::JWT_BEARER;
use super::assertion::{self, Rejection};
use crate::crypto::{ct_eq, sha256};
use crate::endpoints::discovery;
use crate::params::Params;
use crate::{OAuthError, Provider, RealmCtx};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use std::sync::Arc;
use tessera_domain::{AuthMethod, Client, ClientId};

/// Credentials from an `Authorization: Basic` header: each half form-urlencoded (§2.3.1).
#[derive(Clone)]
pub struct BasicCredentials {
    pub client_id: String,
    pub secret: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn bad_client() -> OAuthError {
    OAuthError::InvalidClient("client authentication failed".into())
}

/// Parses an `Authorization` header value. A malformed Basic header is a failed
/// authentication (401), not a missing one.
pub fn parse_basic(header: &str) -> Result<BasicCredentials, OAuthError> {
    let b64 = header
        .get(..6)
        .filter(|s| s.eq_ignore_ascii_case("basic "))
        .map(|_| header[6..].trim())
        .ok_or_else(|| OAuthError::invalid_request("unsupported authorization scheme"))?;
    let raw = STANDARD.decode(b64).map_err(|_| bad_client())?;
    let raw = String::from_utf8(raw).map_err(|_| bad_client())?;
    let (id, secret) = raw.split_once(':').ok_or_else(bad_client)?;
    let dec = |s: &str| {
        let s = s.replace('+', " ");
        percent_decode_str(&s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| bad_client())
    };
    Ok(BasicCredentials {
        client_id: dec(id)?,
        secret: dec(secret)?,
    })
}

/// The endpoint a client authenticates at: which clients it accepts, and a name
/// `private_key_jwt` assertions may use as their audience.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Endpoint {
    Token,
    /// Only clients that proved a secret or a key.
    Introspection,
    Revocation,
}

impl Endpoint {
    fn accepts_public(self) -> bool {
        self != Self::Introspection
    }

    fn path(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Introspection => "token/introspect",
            Self::Revocation => "revoke",
        }
    }
}

/// Why a client's authentication failed, for the security log.
#[derive(Clone, Copy)]
enum Failure {
    NoCredentials,
    UnknownClient,
    BadSecret,
    /// Credentials of a method the client is not registered with.
    WrongMethod,
    /// The client's right secret, presented the other way (Basic for a
    /// `client_secret_post` client or the reverse): the caller proved the secret, so
    /// the answer may name the method to use.
    OtherSecretMethod(AuthMethod),
    UnsupportedAssertionType,
    Assertion(Rejection),
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Self::NoCredentials => "no_credentials",
            Self::UnknownClient => "unknown_or_disabled_client",
            Self::BadSecret => "bad_secret",
            Self::WrongMethod | Self::OtherSecretMethod(_) => "not_the_clients_auth_method",
            Self::UnsupportedAssertionType => "unsupported_client_assertion_type",
            Self::Assertion(r) => r.reason(),
        }
    }
}

enum Refusal {
    /// Failed authentication, with the client when it exists.
    Failed(Failure, Option<Arc<Client>>),
    Other(OAuthError),
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        Self::Other(e)
    }
}

impl Provider {
    /// Authenticates the client of a request. The request's log span gets the client id;
    /// a failure is one warn line naming the realm, why, and the client id only when such
    /// a client exists (a typed id could be anything, a secret included).
    pub async fn authenticate_client(
        &self,
        ctx: &RealmCtx,
        basic: Option<BasicCredentials>,
        params: &Params,
        endpoint: Endpoint,
    ) -> Result<Arc<Client>, OAuthError> {
        match self.check_client(ctx, basic, params, endpoint).await {
            Ok(client) => {
                tracing::Span::current().record("client_id", client.client_id.as_str());
                Ok(client)
            }
            Err(Refusal::Failed(why, known)) => {
                tracing::warn!(
                    target: "tessera::security",
                    event = "invalid_client",
                    realm = %ctx.realm.name,
                    reason = why.reason(),
                    client_id = known.as_ref().map(|c| c.client_id.as_str()),
                    "client authentication failed"
                );
                Err(match why {
                    Failure::NoCredentials => {
                        OAuthError::InvalidClient("client authentication required".into())
                    }
                    Failure::OtherSecretMethod(m) => OAuthError::InvalidClient(
                        format!(
                            "this client is registered to authenticate with {}",
                            m.as_str()
                        )
                        .into(),
                    ),
                    _ => bad_client(),
                })
            }
            Err(Refusal::Other(e)) => Err(e),
        }
    }

    /// The client, or why it failed to authenticate.
    async fn check_client(
        &self,
        ctx: &RealmCtx,
        basic: Option<BasicCredentials>,
        params: &Params,
        endpoint: Endpoint,
    ) -> Result<Arc<Client>, Refusal> {
        let body_id = params.get("client_id");
        let body_secret = params.get("client_secret");
        let assertion_type = params.get("client_assertion_type");
        let assertion = params.get("client_assertion");
        if assertion_type.is_some() || assertion.is_some() {
            if basic.is_some() || body_secret.is_some() {
                return Err(Refusal::Other(OAuthError::invalid_request(
                    "use one client authentication method, not a client assertion and a secret together",
                )));
            }
            let (Some(kind), Some(assertion)) = (assertion_type, assertion) else {
                return Err(Refusal::Other(OAuthError::invalid_request(
                    "client_assertion and client_assertion_type go together",
                )));
            };
            if kind != JWT_BEARER {
                return Err(Refusal::Failed(Failure::UnsupportedAssertionType, None));
            }
            return self
                .check_assertion(ctx, body_id, assertion, endpoint)
                .await;
        }
        let used = if basic.is_some() {
            AuthMethod::ClientSecretBasic
        } else {
            AuthMethod::ClientSecretPost
        };
        let (id, secret) = match basic {
            Some(b) => {
                if body_secret.is_some() {
                    return Err(Refusal::Other(OAuthError::invalid_request(
                        "use one client authentication method, not Basic and client_secret together",
                    )));
                }
                if body_id.is_some_and(|id| id != b.client_id) {
                    return Err(Refusal::Other(OAuthError::invalid_request(
                        "client_id does not match the Authorization header",
                    )));
                }
                (b.client_id, Some(b.secret))
            }
            None => match body_id {
                Some(id) => (id.to_owned(), body_secret.map(str::to_owned)),
                None => return Err(Refusal::Failed(Failure::NoCredentials, None)),
            },
        };
        let client = match ClientId::parse(&id) {
            Ok(cid) => self.client(ctx, &cid).await?,
            Err(_) => None,
        };
        let Some(client) = client.filter(|c| c.enabled) else {
            // Same work as a real comparison, so unknown ids do not answer faster.
            let _ = ct_eq(
                &sha256(secret.as_deref().unwrap_or_default().as_bytes()),
                &[0; 32],
            );
            return Err(Refusal::Failed(Failure::UnknownClient, None));
        };
        // The client's one method decides, down to where its secret goes (RFC 7591 §2:
        // one `token_endpoint_auth_method`); a key-holding client never passes as public.
        match (client.auth_method, &client.secret_hash, secret) {
            (m, Some(hash), Some(secret))
                if m.uses_secret() && ct_eq(hash, &sha256(secret.as_bytes())) =>
            {
                if m == used {
                    Ok(client)
                } else {
                    Err(Refusal::Failed(Failure::OtherSecretMethod(m), Some(client)))
                }
            }
            (AuthMethod::None, _, None) if endpoint.accepts_public() => Ok(client),
            (AuthMethod::PrivateKeyJwt, _, _) => {
                Err(Refusal::Failed(Failure::WrongMethod, Some(client)))
            }
            _ => Err(Refusal::Failed(Failure::BadSecret, Some(client))),
        }
    }

    /// `private_key_jwt`: the assertion's `sub` names the client (and must be the body's
    /// `client_id` if one is sent), whose keys then verify it; its `jti` is spent last.
    async fn check_assertion(
        &self,
        ctx: &RealmCtx,
        body_id: Option<&str>,
        assertion: &str,
        endpoint: Endpoint,
    ) -> Result<Arc<Client>, Refusal> {
        let Some(sub) = assertion::claimed_subject(assertion) else {
            return Err(Refusal::Failed(
                Failure::Assertion(Rejection::Malformed),
                None,
            ));
        };
        if body_id.is_some_and(|id| id != sub) {
            return Err(Refusal::Other(OAuthError::invalid_request(
                "client_id does not match the client assertion's sub",
            )));
        }
        let client = match ClientId::parse(&sub) {
            Ok(cid) => self.client(ctx, &cid).await?,
            Err(_) => None,
        };
        let Some(client) = client.filter(|c| c.enabled) else {
            return Err(Refusal::Failed(Failure::UnknownClient, None));
        };
        if client.auth_method != AuthMethod::PrivateKeyJwt {
            return Err(Refusal::Failed(Failure::WrongMethod, Some(client)));
        }
        let url = discovery::endpoint(&ctx.issuer, endpoint.path());
        let spent = match self
            .verify_client_assertion(ctx, &client, assertion, &url)
            .await
        {
            Ok(spent) => spent,
            Err(r) => return Err(Refusal::Failed(Failure::Assertion(r), Some(client))),
        };
        if !self.spend_assertion(ctx, &client, &spent).await? {
            return Err(Refusal::Failed(
                Failure::Assertion(Rejection::Replayed),
                Some(client),
            ));
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_halves_are_form_urldecoded() {
        let h = format!("Basic {}", STANDARD.encode("my%3Aclient:p%40ss+word"));
        let c = parse_basic(&h).unwrap();
        assert_eq!(c.client_id, "my:client");
        assert_eq!(c.secret, "p@ss word");
        assert!(parse_basic(&format!("basic {}", STANDARD.encode("a:b"))).is_ok());
    }

    #[test]
    fn malformed_basic_headers_fail_authentication() {
        assert_eq!(
            parse_basic("Basic !!!").unwrap_err().code(),
            "invalid_client"
        );
        assert_eq!(
            parse_basic(&format!("Basic {}", STANDARD.encode("nocolon")))
                .unwrap_err()
                .code(),
            "invalid_client"
        );
        assert_eq!(
            parse_basic(&format!("Basic {}", STANDARD.encode([0xff, b':', 0xfe])))
                .unwrap_err()
                .code(),
            "invalid_client"
        );
        assert_eq!(
            parse_basic("Bearer abc").unwrap_err().code(),
            "invalid_request"
        );
        assert_eq!(parse_basic("Bas").unwrap_err().code(), "invalid_request");
    }
}
