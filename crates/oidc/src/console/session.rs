//! Signing in to a console and staying signed in. The sign-in is the built-in client's
//! (`interaction/builtin_client.rs`); the session's secret lives in the browser, the
//! store keeps its hash.

use super::ConsoleHome;
use crate::crypto::{ct_eq, random_id, random_token, sha256};
use crate::interaction::builtin_client::BuiltIn;
pub use crate::interaction::builtin_client::{LoginStart, PENDING_LIFETIME_SECS};
use crate::{OAuthError, Provider};
use tessera_domain::{CONSOLE_CLIENT_ID, ConsoleSession, User};

/// The console's own ceilings over the realm's session lifetimes.
const MAX_IDLE_SECS: i64 = 3600;
const MAX_AGE_SECS: i64 = 12 * 3600;
/// A session's use is written at most this often.
const TOUCH_EVERY_SECS: i64 = 60;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl ConsoleHome {
    fn builtin(&self) -> BuiltIn<'_> {
        BuiltIn {
            client_id: CONSOLE_CLIENT_ID,
            name: "Tessera console",
            realm: self.realm(),
            path: self.path(),
            start: format!("{}/", self.path()),
        }
    }
}

impl Provider {
    /// The console's redirect URI for `home`.
    pub fn console_callback(&self, home: &ConsoleHome) -> String {
        self.builtin_callback_url(&home.builtin())
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
        self.builtin_login(&home.builtin(), back, via).await
    }

    /// Ends a sign-in (see [`Provider::builtin_callback`]). Returns the new session, the
    /// secret for the browser's cookie and the page to go to.
    pub async fn console_callback_finish(
        &self,
        home: &ConsoleHome,
        pending: Option<&str>,
        state: Option<&str>,
        code: Option<&str>,
    ) -> Result<(ConsoleSession, String, String), OAuthError> {
        let (ctx, user, back) = self
            .builtin_callback(&home.builtin(), pending, state, code)
            .await?;
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
        Ok((session, secret, back))
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
