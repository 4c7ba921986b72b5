//! A realm's SMTP server for the messages it sends (invitation links). The password is
//! sealed under the master key, bound to the realm, and never returned.

use super::AdminPrincipal;
use crate::mail::{Mail, smtp_aad};
use crate::{OAuthError, Provider};
use tessera_domain::{Email, SmtpSettings};

/// What an administrator may read back: everything but the password.
#[derive(Debug, Clone)]
pub struct SmtpView {
    pub settings: SmtpSettings,
    pub has_password: bool,
}

impl Provider {
    pub async fn get_realm_smtp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
    ) -> Result<Option<SmtpView>, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .get_realm_smtp(realm_id)
            .await?
            .map(|s| SmtpView {
                settings: s.settings,
                has_password: s.password_sealed.is_some(),
            }))
    }

    /// Sets or replaces the realm's SMTP server. A password needs a username; without a
    /// new password, the stored one is kept only for the same server and username, so
    /// no administrator can send it to a server of their choosing.
    pub async fn put_realm_smtp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        settings: SmtpSettings,
        password: Option<String>,
    ) -> Result<SmtpView, OAuthError> {
        caller.require_realm_admin()?;
        settings
            .validate()
            .map_err(|e| OAuthError::InvalidRequest(e.to_string().into()))?;
        if password.is_some() && settings.username.is_none() {
            return Err(OAuthError::invalid_request("a password needs a username"));
        }
        if password
            .as_deref()
            .is_some_and(|p| p.is_empty() || p.chars().count() > 256)
        {
            return Err(OAuthError::invalid_request(
                "the password must be 1 to 256 characters",
            ));
        }
        let realm_id = self.admin_realm_id(realm).await?;
        let sealed = match password {
            Some(p) => Some(self.master.seal(p.as_bytes(), &smtp_aad(realm_id))),
            None => self
                .store()
                .get_realm_smtp(realm_id)
                .await?
                .filter(|old| {
                    let (o, n) = (&old.settings, &settings);
                    (&o.host, o.port, o.security, &o.username)
                        == (&n.host, n.port, n.security, &n.username)
                })
                .and_then(|old| old.password_sealed),
        };
        let has_password = sealed.is_some();
        self.store()
            .put_realm_smtp(realm_id, &settings, sealed, self.clock().now())
            .await?;
        Ok(SmtpView {
            settings,
            has_password,
        })
    }

    /// Removes the realm's SMTP server: invitations fall back to realm administrators.
    pub async fn delete_realm_smtp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        if self.store().delete_realm_smtp(realm_id).await? {
            Ok(())
        } else {
            Err(super::not_found("SMTP server"))
        }
    }

    /// Sends a test message through the realm's SMTP server (the console's "send test
    /// e-mail"): 409 without a server, 502 when it refuses.
    pub async fn send_test_mail(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        to: &Email,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        if !self.realm_sends_mail(ctx.realm.id).await? {
            return Err(OAuthError::Conflict(
                "the realm has no SMTP server yet".into(),
            ));
        }
        self.send_mail(
            ctx.realm.id,
            Mail {
                to,
                subject: format!("Test message from Tessera realm {}", ctx.realm.name),
                body: format!(
                    "This is a test message from the realm {} of Tessera at {}.\n\n\
                     If you received it, the realm can send invitations and other messages.\n",
                    ctx.realm.name, self.public_url
                ),
            },
        )
        .await
    }
}
