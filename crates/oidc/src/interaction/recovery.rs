//! Links mailed to people: "Forgot password?" (a single-use link that sets a new
//! password), e-mail verification and e-mail change. A link's secret is random, stored
//! only as a hash, expires, and is consumed by one conditional UPDATE; every link is
//! built from the realm's public URL and goes out through the realm's SMTP server.

use super::brand::Brand;
use super::passwords::{Account, LoginLimiter, MAX_LOGIN_BYTES, millis};
use crate::accounts::validate_password;
use crate::crypto::{random_token, sha256};
use crate::mail::Mail;
use crate::{OAuthError, Provider, RealmCtx};
use std::net::IpAddr;
use tessera_domain::{AccountToken, AccountTokenPurpose, Email, User};

/// How long a password-reset link works.
pub const RESET_LIFETIME_SECS: i64 = 30 * 60;
/// How long an e-mail verification or change link works.
pub const EMAIL_LINK_LIFETIME_SECS: i64 = 24 * 3600;

/// The answer to "Forgot password?": the same whether the account exists or not.
#[derive(Debug, PartialEq, Eq)]
pub enum ForgotOutcome {
    /// A link went out if the name belongs to an account with an e-mail address.
    Answered,
    /// The realm has no mail server: no link can be sent to anyone.
    NoMail,
    /// Too many requests for this name or from this address.
    RateLimited { retry_after_secs: u64 },
}

/// The confirmation page of a mailed e-mail link.
pub struct EmailLinkView {
    pub brand: Brand,
    pub username: String,
    pub email: String,
    /// A change of address (else a verification of the current one).
    pub change: bool,
}

/// A reset link's page: whose password it sets.
pub struct ResetView {
    pub brand: Brand,
    pub username: String,
}

/// What opening an e-mail link did.
#[derive(Debug, PartialEq, Eq)]
pub enum EmailOutcome {
    Verified,
    Changed,
}

fn bad_link() -> OAuthError {
    OAuthError::invalid_request(
        "this link is invalid, has been used or has expired; ask for a new one",
    )
}

impl Provider {
    /// Whether the realm can send e-mail (the pages offer mailed links only then).
    pub async fn realm_can_mail(&self, ctx: &RealmCtx) -> Result<bool, OAuthError> {
        self.realm_sends_mail(ctx.realm.id).await
    }

    /// Stores a new link of `purpose` for `user` to `email` (retiring the earlier ones it
    /// replaces) and returns its URL under `path` of the realm.
    async fn issue_link(
        &self,
        ctx: &RealmCtx,
        user: &User,
        purpose: AccountTokenPurpose,
        email: &Email,
        path: &str,
    ) -> Result<String, OAuthError> {
        let now = self.clock().now();
        let lifetime = match purpose {
            AccountTokenPurpose::PasswordReset => RESET_LIFETIME_SECS,
            _ => EMAIL_LINK_LIFETIME_SECS,
        };
        let secret = random_token();
        let t = AccountToken {
            id: uuid::Uuid::now_v7(),
            realm_id: ctx.realm.id,
            user_id: user.id,
            purpose,
            email: email.clone(),
            created_at: now,
            expires_at: now.plus_secs(lifetime),
        };
        self.store()
            .insert_account_token(&t, sha256(secret.as_bytes()), now)
            .await?;
        Ok(format!(
            "{}/realms/{}/{path}?token={secret}",
            self.public_url, ctx.realm.name
        ))
    }

    /// "Forgot password?": for a username or e-mail of an enabled account with an
    /// address, mails a link that sets a new password. The answer, and the work done
    /// before it, are the same whether or not such an account exists: both budgets (the
    /// typed name's and the address's) are charged for every request, and the account is
    /// looked up, its link stored and mailed only after the answer.
    pub async fn forgot_password(
        self: &std::sync::Arc<Self>,
        realm: &str,
        login: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<ForgotOutcome, OAuthError> {
        let ctx = self.realm(realm).await?;
        if !self.realm_sends_mail(ctx.realm.id).await? {
            return Ok(ForgotOutcome::NoMail);
        }
        let login = login.trim();
        if login.is_empty() {
            return Err(OAuthError::invalid_request(
                "enter your username or e-mail address",
            ));
        }
        // The budget is the typed name's whether or not an account answers to it (keyed
        // by the account, running out for one of its names would tell that the other
        // names are the same account's).
        let account = Account::of(None, login);
        let limiter = LoginLimiter::resets();
        let now = millis(self.clock().now());
        if let Some(wait) = limiter
            .blocked_for(self.store(), ctx.realm.id, client_ip, &account, now)
            .await?
        {
            return Ok(ForgotOutcome::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
        limiter
            .record_failure(self.store(), ctx.realm.id, client_ip, &account, now)
            .await?;
        // Finding the account, storing its link and mailing it happen after the answer:
        // nothing before it depends on whether the account exists.
        let (p, login) = (self.clone(), login.to_owned());
        tokio::spawn(async move {
            if let Err(e) = p.mail_reset_link(&ctx, &login).await {
                tracing::warn!(error = %e, "a password-reset message was not sent");
            }
        });
        Ok(ForgotOutcome::Answered)
    }

    /// Stores a reset link for the enabled account `login` names, if it has an address,
    /// and mails it there.
    async fn mail_reset_link(&self, ctx: &RealmCtx, login: &str) -> Result<(), OAuthError> {
        let found = match login.len() <= MAX_LOGIN_BYTES {
            true => self.store().find_user_by_login(ctx.realm.id, login).await?,
            false => None,
        };
        let Some((user, email)) = found
            .filter(|u| u.enabled)
            .and_then(|u| u.email.clone().map(|e| (u, e)))
        else {
            return Ok(());
        };
        let link = self
            .issue_link(
                ctx,
                &user,
                AccountTokenPurpose::PasswordReset,
                &email,
                "login-actions/reset-password",
            )
            .await?;
        let brand = Brand::of(&ctx.realm, None);
        let mail = Mail {
            to: &email,
            subject: format!("Set a new password for {}", brand.name),
            body: format!(
                "Someone asked to set a new password for your account {} at {}.\n\n\
                 Open this link to choose one; it works once, and for 30 minutes:\n{link}\n\n\
                 If it was not you, ignore this message: your password stays as it is.\n",
                user.username, brand.name
            ),
        };
        self.send_mail(ctx.realm.id, mail).await
    }

    /// A reset link's page, while the link works.
    pub async fn reset_page(&self, realm: &str, token: &str) -> Result<ResetView, OAuthError> {
        let ctx = self.realm(realm).await?;
        let t = self
            .store()
            .find_account_token(
                ctx.realm.id,
                AccountTokenPurpose::PasswordReset,
                &sha256(token.as_bytes()),
                self.clock().now(),
            )
            .await?
            .ok_or_else(bad_link)?;
        let user = self.reset_holder(ctx.realm.id, &t).await?;
        Ok(ResetView {
            brand: Brand::of(&ctx.realm, None),
            username: user.username.to_string(),
        })
    }

    /// The account a reset link is for, while it still may be: enabled, and its address
    /// still the one the link went to (a link mailed to an address the person has since
    /// left must not reset their password).
    async fn reset_holder(
        &self,
        realm: tessera_domain::RealmId,
        t: &tessera_domain::AccountToken,
    ) -> Result<tessera_domain::User, OAuthError> {
        let user = self.store().get_user(realm, t.user_id).await?;
        if !user.enabled || user.email.as_ref() != Some(&t.email) {
            return Err(bad_link());
        }
        Ok(user)
    }

    /// Sets a new password through a reset link, once: the password is checked and
    /// hashed before the link is consumed (a refused password leaves it working). The
    /// person's sessions and grants all end, and the address the link went to is
    /// verified (the secret reached it) if it is still the account's.
    pub async fn reset_password(
        &self,
        realm: &str,
        token: &str,
        password: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        let ctx = self.realm(realm).await?;
        validate_password(password)?;
        let hash = sha256(token.as_bytes());
        let purpose = AccountTokenPurpose::PasswordReset;
        let found = self
            .store()
            .find_account_token(ctx.realm.id, purpose, &hash, self.clock().now())
            .await?
            .ok_or_else(bad_link)?;
        self.reset_holder(ctx.realm.id, &found).await?;
        let phc = self
            .passwords
            .hash(password, ctx.realm.password_params.unwrap_or_default())
            .await?;
        let t = self
            .store()
            .consume_account_token(ctx.realm.id, &[purpose], &hash, self.clock().now())
            .await?
            .ok_or_else(bad_link)?;
        self.store()
            .set_user_password_hash(ctx.realm.id, t.user_id, Some(phc))
            .await?;
        self.store()
            .verify_user_email(ctx.realm.id, t.user_id, &t.email)
            .await?;
        self.end_user_sessions(&ctx, t.user_id, None, true).await?;
        self.security_event(
            ctx.realm.id,
            "password_reset",
            t.user_id.to_string(),
            "password set through a mailed link".into(),
            client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        )
        .await;
        Ok(())
    }

    /// Mails `user` a link that verifies their current address.
    pub(crate) async fn send_verification(
        &self,
        ctx: &RealmCtx,
        user: &User,
    ) -> Result<(), OAuthError> {
        let email = user
            .email
            .clone()
            .ok_or_else(|| OAuthError::invalid_request("the account has no e-mail address"))?;
        if user.email_verified {
            return Err(OAuthError::Conflict(
                "the e-mail address is verified already".into(),
            ));
        }
        self.mail_email_link(ctx, user, AccountTokenPurpose::VerifyEmail, &email)
            .await
    }

    /// Mails a link to `new`, which becomes `user`'s address when it is opened. The
    /// address must be free now (and is checked again then).
    pub(crate) async fn request_email_change(
        &self,
        ctx: &RealmCtx,
        user: &User,
        new: &Email,
    ) -> Result<(), OAuthError> {
        if user
            .email
            .as_ref()
            .is_some_and(|e| e.normalized() == new.normalized())
        {
            return Err(OAuthError::invalid_request(
                "this is your e-mail address already",
            ));
        }
        let mut changed = tessera_domain::NewUser::from(user);
        changed.email = Some(new.clone());
        self.check_user_unique(ctx.realm.id, &changed, Some(user.id))
            .await?;
        self.mail_email_link(ctx, user, AccountTokenPurpose::ChangeEmail, new)
            .await
    }

    async fn mail_email_link(
        &self,
        ctx: &RealmCtx,
        user: &User,
        purpose: AccountTokenPurpose,
        to: &Email,
    ) -> Result<(), OAuthError> {
        if !self.realm_sends_mail(ctx.realm.id).await? {
            return Err(OAuthError::Conflict(
                "this realm cannot send e-mail; ask an administrator".into(),
            ));
        }
        // The realm's mail server is no one's to flood: a person gets three links, then
        // one per five minutes (the budget "Forgot password?" keeps per typed name, here
        // per account).
        let limiter = LoginLimiter::resets();
        let account = Account::of(Some(user.id), "");
        let now = millis(self.clock().now());
        if let Some(wait) = limiter
            .blocked_for(self.store(), ctx.realm.id, None, &account, now)
            .await?
        {
            return Err(OAuthError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
        limiter
            .record_failure(self.store(), ctx.realm.id, None, &account, now)
            .await?;
        let link = self
            .issue_link(ctx, user, purpose, to, "account/email")
            .await?;
        let brand = Brand::of(&ctx.realm, None);
        let what = match purpose {
            AccountTokenPurpose::ChangeEmail => "make this your e-mail address",
            _ => "verify your e-mail address",
        };
        let mail = Mail {
            to,
            subject: format!("Confirm your e-mail address for {}", brand.name),
            body: format!(
                "Open this link to {what} for your account {} at {}; it works once, \
                 and for 24 hours:\n{link}\n\n\
                 If you did not ask for this, ignore this message.\n",
                user.username, brand.name
            ),
        };
        self.send_mail(ctx.realm.id, mail).await
    }

    /// What a mailed e-mail link would do, without using it: the page that asks to
    /// confirm. Opening a link is no proof (mail scanners fetch every link); the
    /// confirmation's POST is.
    pub async fn email_link_page(
        &self,
        realm: &str,
        token: &str,
    ) -> Result<EmailLinkView, OAuthError> {
        let ctx = self.realm(realm).await?;
        let hash = sha256(token.as_bytes());
        let now = self.clock().now();
        for purpose in [
            AccountTokenPurpose::VerifyEmail,
            AccountTokenPurpose::ChangeEmail,
        ] {
            if let Some(t) = self
                .store()
                .find_account_token(ctx.realm.id, purpose, &hash, now)
                .await?
            {
                let user = self.store().get_user(ctx.realm.id, t.user_id).await?;
                return Ok(EmailLinkView {
                    brand: Brand::of(&ctx.realm, None),
                    username: user.username.to_string(),
                    email: t.email.to_string(),
                    change: purpose == AccountTokenPurpose::ChangeEmail,
                });
            }
        }
        Err(bad_link())
    }

    /// Opens an e-mail link, once: a verification marks the address verified if it is
    /// still the account's; a change makes the address the account's (verified), if no
    /// other account took it meanwhile.
    pub async fn open_email_link(
        &self,
        realm: &str,
        token: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<EmailOutcome, OAuthError> {
        let ctx = self.realm(realm).await?;
        let t = self
            .store()
            .consume_account_token(
                ctx.realm.id,
                &[
                    AccountTokenPurpose::VerifyEmail,
                    AccountTokenPurpose::ChangeEmail,
                ],
                &sha256(token.as_bytes()),
                self.clock().now(),
            )
            .await?
            .ok_or_else(bad_link)?;
        match t.purpose {
            AccountTokenPurpose::ChangeEmail => {
                let user = self.store().get_user(ctx.realm.id, t.user_id).await?;
                let mut changed = tessera_domain::NewUser::from(&user);
                changed.email = Some(t.email.clone());
                self.check_user_unique(ctx.realm.id, &changed, Some(user.id))
                    .await?;
                self.store()
                    .set_user_verified_email(ctx.realm.id, user.id, &t.email)
                    .await
                    .map_err(|e| match e {
                        tessera_storage::StoreError::Conflict => {
                            OAuthError::Conflict("a user with this email exists".into())
                        }
                        e => e.into(),
                    })?;
                self.security_event(
                    ctx.realm.id,
                    "email_changed",
                    user.id.to_string(),
                    "e-mail address changed through a mailed link".into(),
                    client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                )
                .await;
                Ok(EmailOutcome::Changed)
            }
            _ => match self
                .store()
                .verify_user_email(ctx.realm.id, t.user_id, &t.email)
                .await?
            {
                true => Ok(EmailOutcome::Verified),
                false => Err(bad_link()),
            },
        }
    }
}
