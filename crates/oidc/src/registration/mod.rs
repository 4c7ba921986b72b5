//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592), at
//! `/realms/{realm}/clients-registrations/openid-connect`. A registration goes through
//! the one client builder (`Provider::build_client`); open registration adds the realm's
//! limits on top. Initial and registration access tokens are 256-bit random strings
//! stored as SHA-256, compared in constant time, bound to one realm (and, for
//! registration tokens, one client).

pub mod metadata;

use crate::clients::metadata::{ClientMetadata, suits};
use crate::crypto::{ct_eq, random_id, random_token, sha256};
use crate::interaction::passwords::{FailureLimiter, address_key, millis};
use crate::{OAuthError, Provider, RealmCtx};
use metadata::{ClientInformation, RegistrationRequest};
use std::net::IpAddr;
use tessera_domain::{
    ApplicationType, Client, ClientId, GrantType, NewClient, OpenRegistration, Realm, RedirectUri,
    RegistrationMode, ScopeSet,
};
use tessera_storage::{RegistrationGrant, StoreError};

/// Who is registering: the holder of an initial access token, or anyone (open
/// registration), known by address for the realm's rate limit.
#[derive(Clone, Copy, Debug)]
pub enum Registrant<'a> {
    InitialToken(&'a str),
    Anonymous(Option<IpAddr>),
}

fn invalid_token(why: &'static str) -> OAuthError {
    OAuthError::InvalidToken(why.into())
}

/// A registration token replaced (or its client deleted) by a concurrent request since
/// it was checked: as invalid as any other.
fn token_replaced(e: StoreError) -> OAuthError {
    match e {
        StoreError::NotFound => invalid_token("the registration access token is invalid"),
        e => e.into(),
    }
}

/// The builder's refusals are the metadata's (RFC 7591 §3.2.2).
fn as_metadata_error(e: OAuthError) -> OAuthError {
    match e {
        OAuthError::InvalidRequest(d) => OAuthError::InvalidClientMetadata(d),
        e => e,
    }
}

impl Provider {
    /// Where RFC 7592 requests for a client go (`registration_client_uri`).
    pub(crate) fn registration_client_uri(&self, ctx: &RealmCtx, client: &ClientId) -> String {
        let id: String = url::form_urlencoded::byte_serialize(client.as_str().as_bytes()).collect();
        format!("{}/clients-registrations/openid-connect/{id}", ctx.issuer)
    }

    /// Registers a client (RFC 7591 §3.1). 401 `invalid_token` without a usable initial
    /// token where the realm needs one; 400 with an RFC 7591 code for refused metadata.
    pub async fn register_client(
        &self,
        realm: &str,
        registrant: Registrant<'_>,
        body: &[u8],
    ) -> Result<ClientInformation, OAuthError> {
        let ctx = self.realm(realm).await?;
        let policy = &ctx.realm.registration;
        let now = self.clock().now();
        let token_hash;
        let (grant, org, open) = match registrant {
            Registrant::InitialToken(_) if policy.mode == RegistrationMode::Closed => {
                return Err(invalid_token("this realm does not accept registrations"));
            }
            Registrant::InitialToken(token) => {
                token_hash = sha256(token.as_bytes());
                let t = self
                    .store()
                    .find_initial_token(ctx.realm.id, &token_hash, now)
                    .await?
                    .ok_or_else(|| {
                        invalid_token("the initial access token is invalid, expired or used up")
                    })?;
                (RegistrationGrant::InitialToken(&token_hash), t.org_id, None)
            }
            Registrant::Anonymous(address) if policy.mode == RegistrationMode::Open => {
                self.charge_open_registration(&ctx, address).await?;
                let grant = RegistrationGrant::Open {
                    max_clients: policy.open.max_clients,
                };
                (grant, None, Some(&policy.open))
            }
            Registrant::Anonymous(_) => {
                return Err(invalid_token("an initial access token is required"));
            }
        };
        let req = RegistrationRequest::from_json(body)?;
        if req.client_id.is_some() || req.client_secret.is_some() {
            return Err(OAuthError::InvalidClientMetadata(
                "the server chooses client_id and client_secret".into(),
            ));
        }
        let scope_given = req.scope.is_some();
        let base = ClientMetadata {
            organization: org.map(|o| o.0.to_string()),
            // Nobody vouched for an open registration: its users see what it asks for
            // (RFC 9700 §4.11.2, BCP-3).
            consent_required: open.is_some(),
            audiences: policy.open.audiences.clone(),
            ..ClientMetadata::new(format!("dcr-{}", random_id()))
        };
        let m = req.into_metadata(base)?;
        let c = self
            .build_registered(&ctx.realm, m, open, scope_given)
            .await?;
        let secret = c.auth_method.uses_secret().then(random_token);
        let rat = random_token();
        let client = self
            .store()
            .insert_registered_client(
                ctx.realm.id,
                &c,
                secret.as_deref().map(|s| sha256(s.as_bytes())),
                sha256(rat.as_bytes()),
                grant,
                now,
            )
            .await
            .map_err(|e| match (e, open) {
                // Spent by a concurrent registration since it was looked up.
                (StoreError::NotFound, _) => {
                    invalid_token("the initial access token is invalid, expired or used up")
                }
                (StoreError::Conflict, Some(_)) => OAuthError::Forbidden(
                    "this realm holds as many registered clients as open registration allows"
                        .into(),
                ),
                (e, _) => e.into(),
            })?;
        self.forget_client(ctx.realm.id, &client.client_id).await;
        tracing::info!(
            target: "tessera::security",
            event = "client_registered",
            realm = %ctx.realm.name,
            client_id = %client.client_id,
            open = open.is_some(),
            "client registered"
        );
        let mut info = ClientInformation::of(
            &client,
            self.registration_client_uri(&ctx, &client.client_id),
        );
        info.client_secret = secret;
        info.registration_access_token = Some(rat);
        Ok(info)
    }

    /// RFC 7592 §2.1: the client's current metadata. The registration token is not
    /// rotated (the response carries the same one, §3 makes it part of the client
    /// information) and the secret not shown again.
    pub async fn read_registration(
        &self,
        realm: &str,
        client_id: &str,
        token: &str,
    ) -> Result<ClientInformation, OAuthError> {
        let ctx = self.realm(realm).await?;
        let (client, _) = self.registered_client(&ctx, client_id, token).await?;
        let mut info = ClientInformation::of(
            &client,
            self.registration_client_uri(&ctx, &client.client_id),
        );
        info.registration_access_token = Some(token.to_owned());
        Ok(info)
    }

    /// RFC 7592 §2.2: replaces the client's metadata (omitted fields take their
    /// defaults) and rotates its registration token. What the request cannot set (the
    /// organization, roles, exchange policy, APIs) stays.
    pub async fn update_registration(
        &self,
        realm: &str,
        client_id: &str,
        token: &str,
        body: &[u8],
    ) -> Result<ClientInformation, OAuthError> {
        let ctx = self.realm(realm).await?;
        let (old, old_hash) = self.registered_client(&ctx, client_id, token).await?;
        let req = RegistrationRequest::from_json(body)?;
        if req.client_id.as_deref() != Some(old.client_id.as_str()) {
            return Err(OAuthError::InvalidClientMetadata(
                "client_id must be given and be this client's".into(),
            ));
        }
        if let Some(s) = &req.client_secret {
            let same = old
                .secret_hash
                .as_deref()
                .is_some_and(|h| ct_eq(h, &sha256(s.as_bytes())));
            if !same {
                return Err(OAuthError::InvalidClientMetadata(
                    "client_secret is not this client's secret".into(),
                ));
            }
        }
        let scope_given = req.scope.is_some();
        let m = req.into_metadata(ClientMetadata::from(&old))?;
        let open = old
            .registered_openly
            .then_some(&ctx.realm.registration.open);
        let c = self
            .build_registered(&ctx.realm, m, open, scope_given)
            .await?;
        if c.auth_method.uses_secret() && old.secret_hash.is_none() {
            return Err(OAuthError::InvalidClientMetadata(
                "a client without a secret cannot switch to a secret method; register a new client"
                    .into(),
            ));
        }
        let rat = random_token();
        let client = self
            .store()
            .update_registered_client(ctx.realm.id, old.id, &c, &old_hash, sha256(rat.as_bytes()))
            .await
            .map_err(token_replaced)?;
        self.forget_client(ctx.realm.id, &client.client_id).await;
        let mut info = ClientInformation::of(
            &client,
            self.registration_client_uri(&ctx, &client.client_id),
        );
        info.registration_access_token = Some(rat);
        Ok(info)
    }

    /// RFC 7592 §2.3: deletes the client; its grants, refresh tokens and opaque tokens go
    /// with it, and its JWT access tokens stop verifying (their client is gone).
    pub async fn delete_registration(
        &self,
        realm: &str,
        client_id: &str,
        token: &str,
    ) -> Result<(), OAuthError> {
        let ctx = self.realm(realm).await?;
        let (client, hash) = self.registered_client(&ctx, client_id, token).await?;
        self.store()
            .delete_registered_client(ctx.realm.id, client.id, &hash)
            .await
            .map_err(token_replaced)?;
        self.forget_client(ctx.realm.id, &client.client_id).await;
        Ok(())
    }

    /// The client this registration token is for: an enabled client of this realm whose
    /// stored token hash matches (constant time). A disabled client's token opens
    /// nothing (Keycloak CVE-2026-9705). Unknown, foreign and wrong all read the same.
    async fn registered_client(
        &self,
        ctx: &RealmCtx,
        client_id: &str,
        token: &str,
    ) -> Result<(Client, Vec<u8>), OAuthError> {
        let refused = || invalid_token("the registration access token is invalid");
        let id = ClientId::parse(client_id).map_err(|_| refused())?;
        let client = self
            .store()
            .find_client_by_client_id(ctx.realm.id, &id)
            .await?
            .ok_or_else(refused)?;
        let given = sha256(token.as_bytes());
        let matches = client
            .registration_token_hash
            .as_deref()
            .is_some_and(|h| ct_eq(h, &given));
        if !matches || !client.enabled {
            return Err(refused());
        }
        Ok((client, given))
    }

    /// Builds a registered client: redirect URIs first (their own error code), then the
    /// one builder, then open registration's limits.
    async fn build_registered(
        &self,
        realm: &Realm,
        m: ClientMetadata,
        open: Option<&OpenRegistration>,
        scope_given: bool,
    ) -> Result<NewClient, OAuthError> {
        let app = ApplicationType::parse(m.application_type.as_deref().unwrap_or("web"))
            .map_err(|e| OAuthError::InvalidClientMetadata(e.to_string().into()))?;
        let bad_uri = |d: String| OAuthError::InvalidRedirectUri(d.into());
        for u in &m.redirect_uris {
            let r = RedirectUri::parse(u).map_err(|e| bad_uri(e.to_string()))?;
            if !suits(app, &r) {
                return Err(bad_uri(format!(
                    "redirect URI {u} does not suit a {} application",
                    app.as_str()
                )));
            }
            if open.is_some_and(|p| !p.allows_redirect(u)) {
                return Err(bad_uri(format!(
                    "redirect URI {u} names a host open registration does not allow"
                )));
            }
        }
        let code_flow = m
            .grant_types
            .iter()
            .flatten()
            .any(|g| g == GrantType::AuthorizationCode.as_str());
        if code_flow && m.redirect_uris.is_empty() {
            return Err(bad_uri(
                "a client of the authorization_code grant needs redirect_uris".into(),
            ));
        }
        if let Some(p) = open {
            let called = m
                .post_logout_redirect_uris
                .iter()
                .chain(&m.backchannel_logout_uri)
                .chain(&m.jwks_uri);
            if let Some(u) = called.into_iter().find(|u| !p.allows_redirect(u)) {
                return Err(OAuthError::InvalidClientMetadata(
                    format!("{u} names a host open registration does not allow").into(),
                ));
            }
        }
        let mut c = self
            .build_client(realm, m)
            .await
            .map_err(as_metadata_error)?;
        if let Some(p) = open {
            if let Some(g) = c
                .grant_types
                .iter()
                .find(|g| !p.allowed_grant_types.contains(g))
            {
                return Err(OAuthError::InvalidClientMetadata(
                    format!("open registration does not allow grant type {g}").into(),
                ));
            }
            let allowed = |s: &str| p.allowed_scopes.iter().any(|a| a == s);
            if scope_given {
                if let Some(s) = c.scopes.iter().find(|s| !allowed(s.as_str())) {
                    return Err(OAuthError::InvalidClientMetadata(
                        format!("open registration does not allow scope {}", s.as_str()).into(),
                    ));
                }
            } else {
                // The realm's defaults, as far as open registration allows them.
                let kept: Vec<&str> = c
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .filter(|s| allowed(s))
                    .collect();
                c.scopes = ScopeSet::from_list(&kept)?;
            }
        }
        Ok(c)
    }

    /// One registration from this address against the realm's open-registration rate
    /// (GCRA; the budget lives in the database like failed logins', so every process
    /// charges the same one). A refused attempt is not charged.
    async fn charge_open_registration(
        &self,
        ctx: &RealmCtx,
        address: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        let per_minute = ctx.realm.registration.open.rate_per_minute;
        let limiter = FailureLimiter::new(per_minute, per_minute);
        let who = address.map_or_else(|| "unknown".to_owned(), |a| address_key(a).to_string());
        let key = sha256(format!("register:{who}").as_bytes());
        let now_ms = millis(self.clock().now());
        let tats = self
            .store()
            .find_login_throttles(ctx.realm.id, &[&key])
            .await?;
        if let Some(wait) = tats.first().and_then(|(_, t)| limiter.wait(*t, now_ms)) {
            return Err(OAuthError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
        self.store()
            .charge_login_throttles(ctx.realm.id, &[(&key, limiter.interval_ms())], now_ms)
            .await?;
        Ok(())
    }
}
