//! Password sign-in: one username-or-e-mail and password check, in a fixed order that
//! reveals as little as possible, on the bounded hashing pool and behind the failed-login
//! limits of [`super::passwords`].

use super::passwords::{
    Account, LoginError, MAX_LOGIN_BYTES, MAX_PASSWORD_CHARS, PasswordHasher, dummy_hash, millis,
    needs_rehash, retry_after,
};
use crate::telemetry::{self, LoginOutcome};
use crate::{Provider, RealmCtx};
use std::net::IpAddr;
use tessera_domain::{PasswordParams, RealmId, User, UserId};

impl Provider {
    pub fn password_hasher(&self) -> &PasswordHasher {
        &self.passwords
    }

    /// Checks a username-or-e-mail and password in `ctx`'s realm. The order is fixed so
    /// that answers reveal as little as possible: the address's and the account's budgets
    /// are checked first (one read; the address's wait wins); every attempt that gets that far costs one Argon2id check
    /// (against a dummy hash when there is no such user or it has no password), so
    /// wrong passwords, unknown users and disabled accounts take the same time. Only
    /// failures are charged; a correct password for a disabled account is `Disabled`.
    /// After a success, a hash made with other than the realm's current parameters is
    /// replaced in the background.
    ///
    /// Every outcome is counted; each failure is one warn line with the realm, the outcome
    /// and the user id when the account exists, never the typed name (it may be a password
    /// typed into the wrong field).
    pub async fn authenticate_user(
        &self,
        ctx: &RealmCtx,
        login: &str,
        password: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<User, LoginError> {
        let mut account = None;
        let res = self
            .check_password(ctx, login, password, client_ip, &mut account)
            .await;
        let outcome = match &res {
            Ok(_) => LoginOutcome::Success,
            Err(LoginError::InvalidCredentials) => LoginOutcome::BadCredentials,
            Err(LoginError::RateLimited { .. }) => LoginOutcome::RateLimited,
            Err(LoginError::Disabled) => LoginOutcome::Disabled,
            Err(LoginError::Busy) => LoginOutcome::Busy,
            Err(LoginError::Server(_)) => LoginOutcome::Error,
        };
        telemetry::login(outcome);
        if outcome != LoginOutcome::Success {
            tracing::warn!(
                target: "tessera::security",
                event = "login_failed",
                realm = %ctx.realm.name,
                outcome = outcome.as_str(),
                user_id = account.map(tracing::field::display),
                "password sign-in failed"
            );
        }
        // Over the limit: an attack or a locked-out person, worth an administrator's look.
        if outcome == LoginOutcome::RateLimited {
            self.security_event(
                ctx.realm.id,
                "login_rate_limited",
                account.map_or_else(|| "unknown account".to_owned(), |u| u.to_string()),
                "password sign-in".into(),
                client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            )
            .await;
        }
        res
    }

    /// [`Provider::authenticate_user`]'s checks; `found_user` gets the user the name matched.
    async fn check_password(
        &self,
        ctx: &RealmCtx,
        login: &str,
        password: &str,
        client_ip: Option<IpAddr>,
        found_user: &mut Option<UserId>,
    ) -> Result<User, LoginError> {
        let realm = ctx.realm.id;
        let now = millis(self.clock().now());
        let found = if login.len() <= MAX_LOGIN_BYTES {
            self.store().find_user_credentials(realm, login).await?
        } else {
            None
        };
        *found_user = found.as_ref().map(|(u, _)| u.id);
        let account = Account::of(*found_user, login);
        if let Some(wait) = self
            .logins
            .blocked_for(self.store(), realm, client_ip, &account, now)
            .await?
        {
            return Err(retry_after(wait));
        }

        let params = ctx.realm.password_params.unwrap_or_default();
        let (user, hash) = match found {
            Some((u, Some(h))) => (Some(u), h),
            _ => (None, dummy_hash(params)),
        };
        let ok = password.chars().count() <= MAX_PASSWORD_CHARS
            && self.passwords.verify(password, &hash).await?;
        match user {
            Some(u) if ok => {
                if !u.enabled {
                    return Err(LoginError::Disabled);
                }
                if needs_rehash(&hash, params) {
                    self.rehash_in_background(realm, u.id, password, params);
                }
                Ok(u)
            }
            _ => {
                self.logins
                    .record_failure(self.store(), realm, client_ip, &account, now)
                    .await?;
                Err(LoginError::InvalidCredentials)
            }
        }
    }

    fn rehash_in_background(&self, realm: RealmId, id: UserId, password: &str, p: PasswordParams) {
        let (hasher, store, password) = (
            self.passwords.clone(),
            self.store().clone(),
            password.to_owned(),
        );
        tokio::spawn(async move {
            match hasher.hash(&password, p).await {
                Ok(h) => {
                    if let Err(e) = store.set_user_password_hash(realm, id, Some(h)).await {
                        tracing::warn!(error = %e, "storing a re-hashed password failed");
                    }
                }
                // Busy: the next login tries again.
                Err(e) => tracing::debug!(error = %e, "password re-hash skipped"),
            }
        });
    }
}
