//! One upstream provider as we see it, through openidconnect's relying-party side and the
//! one guarded outbound client: discovery and JWKS from a cache (fetched again after a
//! failure only after a back-off, JWKS once more on an unknown `kid`, rate-limited), the
//! authorization URL, the code exchange, ID token verification and userinfo.

use super::cache::{Metadata, Upstream};
use crate::{OAuthError, Provider, RealmCtx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKeySet, LoginHint, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tessera_domain::{IdentityProvider, UpstreamAuthMethod};

/// After a failed fetch, the next try waits 2 s, 4 s, … up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// An unknown `kid` fetches the JWKS again at most this often per provider.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// How far an upstream's `iat` may lie in the future (clock skew) or the past.
const IAT_SKEW_SECS: i64 = 60;
const IAT_MAX_AGE_SECS: i64 = 600;

/// A client of an upstream built from its discovery document.
type UpstreamClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What a sign-in through the upstream established, after every check.
#[derive(Debug)]
pub(crate) struct UpstreamIdentity {
    pub subject: String,
    pub sid: Option<String>,
    /// The verified ID token's claims.
    pub id_claims: serde_json::Map<String, serde_json::Value>,
    pub email: Option<String>,
    /// True only when the source of `email` said `email_verified: true` (a JSON boolean).
    pub email_verified: bool,
    /// The userinfo response, when it was asked (its `sub` is the ID token's).
    pub userinfo: Option<serde_json::Map<String, serde_json::Value>>,
}

impl UpstreamIdentity {
    /// A profile claim (`preferred_username`, `given_name`…) as a non-empty string: the
    /// ID token's, else userinfo's (providers that keep the ID token small release the
    /// profile only there).
    pub(crate) fn profile_claim(&self, name: &str) -> Option<&str> {
        fn text<'a>(
            claims: &'a serde_json::Map<String, serde_json::Value>,
            name: &str,
        ) -> Option<&'a str> {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        }
        text(&self.id_claims, name).or_else(|| self.userinfo.as_ref().and_then(|u| text(u, name)))
    }
}

/// What a failed step tells the person (a page) and the log (the alias and the cause).
fn failure(code: &'static str, desc: &'static str) -> OAuthError {
    OAuthError::Broker {
        code,
        status: 400,
        desc: desc.into(),
    }
}

fn unavailable(desc: &'static str) -> OAuthError {
    OAuthError::Broker {
        code: "upstream_unavailable",
        status: 502,
        desc: desc.into(),
    }
}

/// The peer label of a provider in outbound metrics and logs: the realm too, as two
/// realms may both have a provider `google`.
pub(crate) fn peer(ctx: &RealmCtx, p: &IdentityProvider) -> String {
    format!("idp:{}/{}", ctx.realm.name, p.settings.alias)
}

/// The signature algorithms we accept from an upstream: asymmetric ones it announces
/// (never `none`, never HMAC, where the "key" would be a shared secret); RS256 when it
/// announces none, as OIDC Discovery makes RS256 the default.
fn accepted_algs(meta: &Metadata) -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm as A;
    let asymmetric = [
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
        A::EcdsaP521Sha512,
        A::EdDsa,
    ];
    let algs: Vec<_> = meta
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| asymmetric.contains(a))
        .cloned()
        .collect();
    if algs.is_empty() {
        vec![A::RsaSsaPkcs1V15Sha256]
    } else {
        algs
    }
}

/// The payload of a compact JWS whose signature has been verified, as a JSON object.
pub(crate) fn jws_payload(jws: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = jws.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

impl Upstream {
    /// RFC 9207: whether the upstream promises `iss` on its authorization responses.
    pub(crate) fn sends_iss(&self) -> bool {
        self.meta
            .read()
            .expect("metadata lock")
            .additional_metadata()
            .authorization_response_iss_parameter_supported
            .unwrap_or(false)
    }

    pub(crate) fn jwks(&self) -> CoreJsonWebKeySet {
        self.meta.read().expect("metadata lock").jwks().clone()
    }

    pub(crate) fn algs(&self) -> Vec<CoreJwsSigningAlgorithm> {
        accepted_algs(&self.meta.read().expect("metadata lock"))
    }

    fn client(
        &self,
        p: &IdentityProvider,
        secret: String,
        redirect_uri: &str,
    ) -> Result<UpstreamClient, OAuthError> {
        let meta = self.meta.read().expect("metadata lock").clone();
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OAuthError::ServerError(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(p.settings.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(match p.settings.auth_method {
            UpstreamAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
            UpstreamAuthMethod::ClientSecretPost => AuthType::RequestBody,
        });
        Ok(client)
    }
}

/// What a sign-in sends upstream and must find again in the answer.
pub(crate) struct AuthorizationParams<'a> {
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub login_hint: Option<&'a str>,
}

impl Provider {
    /// The provider's discovery document and keys: from memory, or fetched (the issuer in
    /// the document must be the configured one, byte for byte). After a failure the next
    /// fetch waits out a back-off, so a dead upstream costs one request per period.
    pub(crate) async fn upstream(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
    ) -> Result<Arc<Upstream>, OAuthError> {
        let key = (p.id, p.settings.issuer.clone());
        if let Some(up) = self.upstreams.entries.get(&key).await {
            return Ok(up);
        }
        {
            let failures = self.upstreams.failures.lock().expect("back-off lock");
            if failures
                .get(&p.id)
                .is_some_and(|(until, _)| Instant::now() < *until)
            {
                return Err(unavailable(
                    "the identity provider cannot be reached; try again in a minute",
                ));
            }
        }
        // One fetch however many sign-ins wait for it (moka runs one init per key); the
        // back-off is recorded inside it, so once per failed fetch.
        self.upstreams
            .entries
            .try_get_with(key, self.discover(peer(ctx, p), p))
            .await
            .map_err(|e| match &*e {
                // Every waiter gets its own copy of the one failure.
                OAuthError::Broker { code, status, desc } => OAuthError::Broker {
                    code,
                    status: *status,
                    desc: desc.clone(),
                },
                other => OAuthError::ServerError(other.to_string()),
            })
    }

    async fn discover(
        &self,
        peer: String,
        p: &IdentityProvider,
    ) -> Result<Arc<Upstream>, OAuthError> {
        let issuer = IssuerUrl::new(p.settings.issuer.clone()).map_err(|_| {
            failure(
                "invalid_provider",
                "the identity provider's issuer is not a URL",
            )
        })?;
        let http = self.outbound.oidc_client(&peer);
        match Metadata::discover_async(issuer, &http).await {
            Ok(meta) => {
                self.upstreams
                    .failures
                    .lock()
                    .expect("back-off lock")
                    .remove(&p.id);
                Ok(Arc::new(Upstream {
                    peer,
                    meta: RwLock::new(meta),
                    last_jwks_refetch: Mutex::new(None),
                }))
            }
            Err(e) => {
                let mut failures = self.upstreams.failures.lock().expect("back-off lock");
                let n = failures.get(&p.id).map_or(0, |(_, n)| *n).saturating_add(1);
                let wait = Duration::from_secs(1u64 << n.min(6)).min(MAX_BACKOFF);
                failures.insert(p.id, (Instant::now() + wait, n));
                tracing::warn!(
                    idp = %p.settings.alias,
                    realm = %p.realm_id,
                    error = %e,
                    retry_in_secs = wait.as_secs(),
                    "upstream discovery failed"
                );
                Err(unavailable(
                    "the identity provider cannot be reached; try again in a minute",
                ))
            }
        }
    }

    /// Fetches an issuer's discovery document and keys, uncached, for an administrator
    /// about to add it: what the provider offers, before any secret is entrusted to it.
    pub(crate) async fn discovery_preview(
        &self,
        issuer: &str,
    ) -> Result<tessera_domain::DiscoveryPreview, OAuthError> {
        let url = IssuerUrl::new(issuer.to_owned())
            .map_err(|_| OAuthError::invalid_request("issuer must be an absolute URL"))?;
        let http = self.outbound.oidc_client("idp:preview");
        let meta = Metadata::discover_async(url, &http).await.map_err(|e| {
            OAuthError::InvalidRequest(
                format!("no OpenID Provider answers at this issuer: {e}").into(),
            )
        })?;
        let text = |u: Option<&str>| u.map(str::to_owned);
        Ok(tessera_domain::DiscoveryPreview {
            issuer: meta.issuer().to_string(),
            authorization_endpoint: meta.authorization_endpoint().to_string(),
            token_endpoint: text(meta.token_endpoint().map(|u| u.as_str())),
            userinfo_endpoint: text(meta.userinfo_endpoint().map(|u| u.as_str())),
            jwks_uri: meta.jwks_uri().to_string(),
            keys: meta.jwks().keys().len(),
            scopes: meta
                .scopes_supported()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            signing_algs: accepted_algs(&meta)
                .iter()
                .filter_map(|a| serde_json::to_value(a).ok())
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        })
    }

    /// Drops a provider's cached discovery document (its settings changed).
    pub(crate) async fn forget_upstream(&self, p: &IdentityProvider) {
        self.upstreams
            .entries
            .invalidate(&(p.id, p.settings.issuer.clone()))
            .await;
        self.issuer_keys.entries.invalidate(&p.id).await;
        self.issuer_keys.failures.invalidate(&p.id).await;
        self.upstreams
            .failures
            .lock()
            .expect("back-off lock")
            .remove(&p.id);
    }

    /// Fetches the JWKS again when a token names a key we do not have, at most once per
    /// interval per provider: rotated keys are found, and a stream of made-up `kid`s
    /// cannot make us hammer the upstream. `true` when new keys were loaded.
    pub(crate) async fn refetch_jwks(&self, p: &IdentityProvider, up: &Upstream) -> bool {
        {
            let mut last = up.last_jwks_refetch.lock().expect("jwks lock");
            if last.is_some_and(|t| t.elapsed() < JWKS_REFETCH_INTERVAL) {
                return false;
            }
            *last = Some(Instant::now());
        }
        let uri = up.meta.read().expect("metadata lock").jwks_uri().clone();
        let http = self.outbound.oidc_client(&up.peer);
        match JsonWebKeySet::fetch_async(&uri, &http).await {
            Ok(jwks) => {
                let mut meta = up.meta.write().expect("metadata lock");
                *meta = meta.clone().set_jwks(jwks);
                true
            }
            Err(e) => {
                tracing::warn!(idp = %p.settings.alias, error = %e, "upstream JWKS refetch failed");
                false
            }
        }
    }

    /// The upstream authorization URL: code flow, `state`, `nonce`, PKCE S256.
    pub(crate) fn upstream_authorize_url(
        &self,
        up: &Upstream,
        p: &IdentityProvider,
        a: &AuthorizationParams<'_>,
    ) -> Result<String, OAuthError> {
        // The secret is not needed to build a URL.
        let client = up.client(p, String::new(), a.redirect_uri)?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            a.pkce_verifier.to_owned(),
        ));
        let (state, nonce) = (a.state.to_owned(), a.nonce.to_owned());
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .set_pkce_challenge(challenge)
            .add_scopes(
                p.settings
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .map(|s| Scope::new(s.clone())),
            );
        if let Some(hint) = a.login_hint {
            req = req.set_login_hint(LoginHint::new(hint.to_owned()));
        }
        Ok(req.url().0.to_string())
    }

    /// Redeems the code, verifies the ID token (signature with an accepted algorithm,
    /// `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`), and completes the e-mail from
    /// userinfo when the ID token lacks it (OIDC Core §5.3.2: same `sub` required).
    pub(crate) async fn upstream_identity(
        &self,
        up: &Upstream,
        p: &IdentityProvider,
        code: &str,
        a: &AuthorizationParams<'_>,
    ) -> Result<UpstreamIdentity, OAuthError> {
        let secret = self.open_idp_secret(p)?;
        let client = up.client(p, secret, a.redirect_uri)?;
        let http = self.outbound.oidc_client(&up.peer);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| failure("invalid_provider", "the identity provider has no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(a.pkce_verifier.to_owned()))
            .request_async(&http)
            .await
            .map_err(|e| {
                tracing::warn!(idp = %p.settings.alias, error = %e, "upstream code exchange failed");
                failure(
                    "upstream_error",
                    "the identity provider did not complete the sign-in",
                )
            })?;
        let id_token = token.id_token().ok_or_else(|| {
            tracing::warn!(idp = %p.settings.alias, "upstream token response without an ID token");
            failure("invalid_id_token", "the identity provider sent no ID token")
        })?;
        let nonce = Nonce::new(a.nonce.to_owned());
        let verify = |client: &UpstreamClient| {
            let clock = self.clock.clone();
            let now =
                move || chrono::DateTime::from_timestamp(clock.now().0, 0).unwrap_or_default();
            let now_secs = self.clock.now().0;
            let verifier = client
                .id_token_verifier()
                .set_allowed_algs(up.algs())
                .set_time_fn(now)
                .set_issue_time_verifier_fn(move |iat| {
                    let iat = iat.timestamp();
                    if iat > now_secs + IAT_SKEW_SECS || iat < now_secs - IAT_MAX_AGE_SECS {
                        Err("iat is out of range".to_owned())
                    } else {
                        Ok(())
                    }
                });
            id_token
                .claims(&verifier, &nonce)
                .map(|c| c.subject().to_string())
        };
        let mut verified = verify(&client);
        if matches!(
            verified,
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
            ))
        ) && self.refetch_jwks(p, up).await
        {
            let secret = self.open_idp_secret(p)?;
            verified = verify(&up.client(p, secret, a.redirect_uri)?);
        }
        let subject = verified.map_err(|e| {
            tracing::warn!(
                target: "tessera::security",
                event = "upstream_id_token_rejected",
                idp = %p.settings.alias,
                error = %e,
                "an upstream ID token failed verification"
            );
            failure(
                "invalid_id_token",
                "the identity provider's answer could not be verified",
            )
        })?;
        let id_claims = jws_payload(&id_token.to_string())
            .ok_or_else(|| failure("invalid_id_token", "the ID token is not JSON"))?;
        let sid = id_claims
            .get("sid")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .map(str::to_owned);
        let mut identity = UpstreamIdentity {
            subject,
            sid,
            email: None,
            email_verified: false,
            id_claims,
            userinfo: None,
        };
        let (id_email, id_verified) = email_claims(&identity.id_claims);
        // An e-mail is verified only by the source that gave it (never the ID token's
        // verdict for userinfo's address).
        let mut email = (id_email.clone(), id_verified == Some(true));
        if id_email.is_none() || id_verified.is_none() {
            match self
                .upstream_userinfo(up, p, token.access_token().secret(), &identity.subject)
                .await
            {
                Ok(info) => {
                    if let (Some(e), v) = email_claims(&info) {
                        email = (Some(e), v == Some(true));
                    }
                    identity.userinfo = Some(info);
                }
                Err(UserinfoFailure::Substituted(e)) => return Err(e),
                Err(UserinfoFailure::Unavailable(e)) if !p.settings.email_optional => {
                    return Err(e);
                }
                Err(UserinfoFailure::Unavailable(_)) => {}
            }
        }
        (identity.email, identity.email_verified) = email;
        if identity.email.is_none() && !p.settings.email_optional {
            tracing::warn!(idp = %p.settings.alias, "the upstream released no e-mail address");
            return Err(failure(
                "claim_missing",
                "the identity provider did not release an e-mail address",
            ));
        }
        Ok(identity)
    }

    /// The userinfo response as a JSON object, whose `sub` must be the ID token's.
    async fn upstream_userinfo(
        &self,
        up: &Upstream,
        p: &IdentityProvider,
        access_token: &str,
        subject: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, UserinfoFailure> {
        let missing = || {
            UserinfoFailure::Unavailable(failure(
                "claim_missing",
                "the identity provider did not release an e-mail address",
            ))
        };
        let Some(endpoint) = up
            .meta
            .read()
            .expect("metadata lock")
            .userinfo_endpoint()
            .map(|u| u.to_string())
        else {
            tracing::warn!(idp = %p.settings.alias, "no e-mail in the ID token and no userinfo endpoint");
            return Err(missing());
        };
        if access_token.is_empty() {
            return Err(missing());
        }
        let bad = |why: &str| {
            tracing::warn!(
                target: "tessera::security",
                event = "upstream_userinfo_rejected",
                idp = %p.settings.alias,
                reason = why,
                "upstream userinfo rejected"
            );
            failure(
                "invalid_userinfo",
                "the identity provider's user information could not be used",
            )
        };
        let unusable = |why: &str| UserinfoFailure::Unavailable(bad(why));
        let (status, body) = self
            .outbound
            .get_json(&up.peer, &endpoint, Some(access_token))
            .await
            .map_err(|e| unusable(&e.to_string()))?;
        if !status.is_success() {
            return Err(unusable(&format!("status {status}")));
        }
        let serde_json::Value::Object(info) = body else {
            return Err(unusable("not a JSON object"));
        };
        if info.get("sub").and_then(|s| s.as_str()) != Some(subject) {
            // Token substitution (OIDC Core §5.3.2): refused even when e-mail is optional.
            return Err(UserinfoFailure::Substituted(bad(
                "sub differs from the ID token's",
            )));
        }
        Ok(info)
    }
}

/// Why userinfo gave nothing usable: it could not be had, or it named someone else.
enum UserinfoFailure {
    Unavailable(OAuthError),
    Substituted(OAuthError),
}

/// `email` (a string) and `email_verified` (a JSON boolean; anything else is absent).
fn email_claims(
    claims: &serde_json::Map<String, serde_json::Value>,
) -> (Option<String>, Option<bool>) {
    let email = claims
        .get("email")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let verified = claims.get("email_verified").and_then(|v| v.as_bool());
    (email, verified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn email_verified_counts_only_as_a_json_boolean() {
        assert_eq!(
            email_claims(&obj(json!({"email": "a@x.test", "email_verified": true}))),
            (Some("a@x.test".into()), Some(true))
        );
        assert_eq!(
            email_claims(&obj(json!({"email": "a@x.test", "email_verified": "true"}))),
            (Some("a@x.test".into()), None)
        );
        assert_eq!(email_claims(&obj(json!({"email": 5}))), (None, None));
    }

    #[test]
    fn hmac_and_none_are_never_accepted_from_an_upstream() {
        let meta: Metadata = serde_json::from_value(json!({
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/a",
            "jwks_uri": "https://idp.example/j",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256", "none", "ES256"]
        }))
        .unwrap();
        assert_eq!(
            accepted_algs(&meta),
            vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]
        );
    }
}
