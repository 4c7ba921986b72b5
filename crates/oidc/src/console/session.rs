//! Signing in to a console and staying signed in. The sign-in is an ordinary code flow
//! with PKCE of the built-in client against the realm's authorization endpoint; its
//! pending state (OAuth `state`, PKCE verifier) travels sealed in a short-lived cookie.
//! The session's secret lives in the browser; the store keeps its hash.

use super::ConsoleHome;
use crate::clients::metadata::ClientMetadata;
use crate::crypto::{ct_eq, random_id, random_token, sha256};
use crate::{OAuthError, Params, Provider, RealmCtx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tessera_domain::{CONSOLE_CLIENT_ID, ClientId, ConsoleSession, User, UserId};

const PENDING_PURPOSE: &str = "console-login";
/// How long the sign-in may take.
pub const PENDING_LIFETIME_SECS: i64 = 15 * 60;
/// The console's own ceilings over the realm's session lifetimes.
const MAX_IDLE_SECS: i64 = 3600;
const MAX_AGE_SECS: i64 = 12 * 3600;
/// A session's use is written at most this often.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    verifier: String,
    /// The console page to return to (bookmarks survive the sign-in).
    back: String,
    exp: i64,
}

/// A sign-in begun: where to send the browser, and the sealed value of its login cookie.
pub struct LoginStart {
    pub authorize_url: String,
    pub pending: String,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Provider {
    fn pending_aad(home: &ConsoleHome) -> Vec<u8> {
        format!("tessera-console|{}", home.path()).into_bytes()
    }

    /// The console's redirect URI for `home`.
    pub fn console_callback(&self, home: &ConsoleHome) -> String {
        format!("{}{}/callback", self.public_url, home.path())
    }

    /// The built-in client as this server's public URL makes it: written when missing or
    /// different (only when a sign-in starts, never on a protocol path).
    async fn ensure_console_client(
        &self,
        ctx: &RealmCtx,
        home: &ConsoleHome,
    ) -> Result<(), OAuthError> {
        let wanted = ClientMetadata {
            name: Some("Tessera console".into()),
            public: true,
            token_endpoint_auth_method: Some("none".into()),
            redirect_uris: vec![self.console_callback(home)],
            post_logout_redirect_uris: vec![format!("{}{}/", self.public_url, home.path())],
            grant_types: Some(vec!["authorization_code".into()]),
            scopes: Some(vec!["openid".into()]),
            // The console acts through its own session, never through the tokens of
            // this client: they are no admin API credential.
            admin_console: false,
            ..ClientMetadata::new(CONSOLE_CLIENT_ID)
        };
        let id = ClientId::parse(CONSOLE_CLIENT_ID).expect("a valid client id");
        let built = self.build_client(&ctx.realm, wanted).await?;
        match self.client(ctx, &id).await? {
            Some(c)
                if c.redirect_uris == built.redirect_uris
                    && !c.admin_console
                    && c.enabled
                    && c.oidc.post_logout_redirect_uris == built.oidc.post_logout_redirect_uris =>
            {
                Ok(())
            }
            Some(c) => {
                self.store()
                    .update_client(ctx.realm.id, c.id, &built)
                    .await?;
                self.forget_client(ctx.realm.id, &id).await;
                Ok(())
            }
            None => {
                let r = self
                    .store()
                    .insert_client(
                        ctx.realm.id,
                        tessera_domain::ClientUuid::new_v7(),
                        &built,
                        None,
                        self.clock().now(),
                    )
                    .await;
                match r {
                    // Another sign-in created it meanwhile.
                    Ok(_) | Err(tessera_storage::StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
                self.forget_client(ctx.realm.id, &id).await;
                Ok(())
            }
        }
    }

    /// Begins a sign-in to the console at `home`, returning to the console page `back`
    /// afterwards (a path of this console; anything else returns to its start).
    /// With `via`, the sign-in goes straight to that identity provider and asks it for a
    /// fresh login (an administrator trying a provider out).
    pub async fn console_login(
        &self,
        home: &ConsoleHome,
        back: &str,
        via: Option<&tessera_domain::IdpAlias>,
    ) -> Result<LoginStart, OAuthError> {
        let ctx = self.realm(home.realm()).await?;
        self.ensure_console_client(&ctx, home).await?;
        let root = format!("{}/", home.path());
        let back = match back.starts_with(&root)
            && back.len() < 1024
            && !back.contains("//")
            && !back.contains('\\')
        {
            true => back.to_owned(),
            false => root,
        };
        let p = Pending {
            state: random_id(),
            verifier: random_token(),
            back,
            exp: self.clock().now().0 + PENDING_LIFETIME_SECS,
        };
        let challenge = URL_SAFE_NO_PAD.encode(sha256(p.verifier.as_bytes()));
        let mut authorize_url = format!(
            "{}/protocol/openid-connect/auth?client_id={CONSOLE_CLIENT_ID}&response_type=code\
             &scope={}&redirect_uri={}&state={}&code_challenge={challenge}\
             &code_challenge_method=S256",
            ctx.issuer,
            "openid",
            enc(&self.console_callback(home)),
            p.state,
        );
        if let Some(alias) = via {
            authorize_url.push_str(&format!(
                "&kc_idp_hint={}&prompt=login",
                enc(alias.as_str())
            ));
        }
        let json = serde_json::to_vec(&p).expect("pending login serializes");
        let pending = URL_SAFE_NO_PAD.encode(
            self.master
                .subkey(PENDING_PURPOSE)
                .seal(&json, &Self::pending_aad(home)),
        );
        Ok(LoginStart {
            authorize_url,
            pending,
        })
    }

    /// Ends a sign-in: the callback's `state` must be the pending one, and the code is
    /// redeemed at the realm's token endpoint as any public client's (PKCE included).
    /// Returns the new session, the secret for the browser's cookie and the page to go to.
    pub async fn console_callback_finish(
        &self,
        home: &ConsoleHome,
        pending: Option<&str>,
        state: Option<&str>,
        code: Option<&str>,
    ) -> Result<(ConsoleSession, String, String), OAuthError> {
        let bad = || {
            OAuthError::invalid_request(
                "the console sign-in is invalid or has expired; open the console again",
            )
        };
        let raw = pending
            .filter(|p| p.len() < 4096)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .ok_or_else(bad)?;
        let json = self
            .master
            .subkey(PENDING_PURPOSE)
            .open(&raw, &Self::pending_aad(home))
            .map_err(|_| bad())?;
        let p: Pending = serde_json::from_slice(&json).map_err(|_| bad())?;
        let state = state.ok_or_else(bad)?;
        if p.exp <= self.clock().now().0 || !ct_eq(p.state.as_bytes(), state.as_bytes()) {
            return Err(bad());
        }
        let code = code.ok_or_else(bad)?;
        let params = Params::from_pairs(vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), self.console_callback(home)),
            ("client_id".into(), CONSOLE_CLIENT_ID.into()),
            ("code_verifier".into(), p.verifier.clone()),
        ]);
        let issued = self.token(home.realm(), None, &params).await?;
        let ctx = self.realm(home.realm()).await?;
        let claims = self
            .resolve_access_token(&ctx, &issued.access_token)
            .await?
            .ok_or_else(bad)?;
        let user = uuid::Uuid::parse_str(&claims.sub)
            .map(UserId)
            .map_err(|_| bad())?;
        let now = self.clock().now();
        let session = ConsoleSession {
            id: uuid::Uuid::now_v7(),
            realm_id: ctx.realm.id,
            user_id: user,
            csrf: random_id(),
            created_at: now,
            last_seen_at: now,
        };
        let secret = random_token();
        self.store()
            .insert_console_session(&session, sha256(secret.as_bytes()))
            .await?;
        Ok((session, secret, p.back))
    }

    /// The live session the browser's secret names, if any; its use is recorded.
    pub async fn console_session(
        &self,
        home: &ConsoleHome,
        secret: &str,
    ) -> Result<Option<ConsoleSession>, OAuthError> {
        if secret.len() > 128 {
            return Ok(None);
        }
        let ctx = self.realm(home.realm()).await?;
        let Some(s) = self
            .store()
            .find_console_session(ctx.realm.id, &sha256(secret.as_bytes()))
            .await?
        else {
            return Ok(None);
        };
        let now = self.clock().now();
        let l = ctx.realm.lifetimes;
        let idle = l.session_idle_secs.min(MAX_IDLE_SECS);
        let max = l.session_max_secs.min(MAX_AGE_SECS);
        if !s.live_at(now, idle, max) {
            self.store()
                .delete_console_session(ctx.realm.id, s.id)
                .await?;
            return Ok(None);
        }
        if now.0 - s.last_seen_at.0 >= TOUCH_EVERY_SECS {
            self.store()
                .touch_console_session(ctx.realm.id, s.id, now, TOUCH_EVERY_SECS)
                .await?;
        }
        Ok(Some(s))
    }

    /// Signs out of the console (the realm's own session is ended by its logout page).
    pub async fn end_console_session(&self, s: &ConsoleSession) -> Result<(), OAuthError> {
        Ok(self
            .store()
            .delete_console_session(s.realm_id, s.id)
            .await?)
    }

    /// Whether a form's CSRF token is the session's.
    pub fn console_csrf_ok(s: &ConsoleSession, sent: Option<&str>) -> bool {
        sent.is_some_and(|t| ct_eq(t.as_bytes(), s.csrf.as_bytes()))
    }

    /// The realm's logout page for the console's client, back to the console after.
    pub fn console_logout_url(&self, home: &ConsoleHome) -> String {
        format!(
            "{}/realms/{}/protocol/openid-connect/logout?client_id={CONSOLE_CLIENT_ID}\
             &post_logout_redirect_uri={}",
            self.public_url,
            home.realm(),
            enc(&format!("{}{}/", self.public_url, home.path())),
        )
    }

    /// The signed-in person, for the console's header.
    pub async fn console_user(&self, s: &ConsoleSession) -> Result<User, OAuthError> {
        Ok(self.store().get_user(s.realm_id, s.user_id).await?)
    }
}
