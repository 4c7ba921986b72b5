//! E-mail to people, through the realm's own SMTP server (lettre): STARTTLS or TLS with
//! certificate checks (plaintext only to a loopback relay), credentials sealed at rest
//! under the master key and bound to the realm, bounded timeouts. Callers learn only
//! whether the server accepted the message, never its text.

use crate::{OAuthError, Provider};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use tessera_domain::{Email, RealmId, SmtpSecurity, SmtpSettings};

/// How long one SMTP command may take before the send is given up.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Associated data of a realm's sealed SMTP password: it opens for that realm only.
pub(crate) fn smtp_aad(realm: RealmId) -> Vec<u8> {
    [b"smtp-password|".as_slice(), realm.0.as_bytes()].concat()
}

/// A message for one person.
pub struct Mail<'a> {
    pub to: &'a Email,
    pub subject: String,
    pub body: String,
}

impl Provider {
    /// Whether the realm can send e-mail.
    pub(crate) async fn realm_sends_mail(&self, realm: RealmId) -> Result<bool, OAuthError> {
        Ok(self.store().get_realm_smtp(realm).await?.is_some())
    }

    /// Sends `mail` through the realm's SMTP server. `NotFound`-free: a realm without one
    /// is a caller's decision made before, so here it is a server error.
    pub(crate) async fn send_mail(&self, realm: RealmId, mail: Mail<'_>) -> Result<(), OAuthError> {
        self.prepare_mail(realm, mail).await?.send().await
    }

    /// Everything of a send but the SMTP conversation: the message and the connection
    /// settings, sealed password opened. What is left can run after the request has been
    /// answered ([`Outgoing::send`]), so an answer does not take longer when a message
    /// goes out.
    pub(crate) async fn prepare_mail(
        &self,
        realm: RealmId,
        mail: Mail<'_>,
    ) -> Result<Outgoing, OAuthError> {
        let stored = self
            .store()
            .get_realm_smtp(realm)
            .await?
            .ok_or_else(|| OAuthError::ServerError("the realm has no SMTP server".into()))?;
        let password =
            match &stored.password_sealed {
                Some(sealed) => Some(
                    String::from_utf8(self.master.open(sealed, &smtp_aad(realm)).map_err(
                        |_| OAuthError::ServerError("SMTP password does not open".into()),
                    )?)
                    .map_err(|_| OAuthError::ServerError("SMTP password is not UTF-8".into()))?,
                ),
                None => None,
            };
        Ok(Outgoing {
            realm,
            transport: transport(&stored.settings, password)?,
            message: message(&stored.settings, mail)?,
        })
    }
}

/// A message ready to go, with the connection that takes it.
pub(crate) struct Outgoing {
    realm: RealmId,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    message: Message,
}

impl Outgoing {
    pub(crate) async fn send(self) -> Result<(), OAuthError> {
        let realm = self.realm;
        self.transport
            .send(self.message)
            .await
            .map(|_| ())
            .map_err(|e| {
                tracing::warn!(realm = %realm.0, error = %e, "sending e-mail failed");
                OAuthError::UpstreamUnavailable(
                    "the realm's mail server did not accept the message".into(),
                )
            })
    }
}

fn transport(
    s: &SmtpSettings,
    password: Option<String>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, OAuthError> {
    let bad =
        |e: lettre::transport::smtp::Error| OAuthError::ServerError(format!("SMTP settings: {e}"));
    let builder = match s.security {
        SmtpSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host).map_err(bad)?
        }
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(bad)?,
        // Validated: loopback only.
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
    };
    let mut builder = builder.port(s.port).timeout(Some(SMTP_TIMEOUT));
    if let (Some(user), Some(password)) = (&s.username, password) {
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

fn message(s: &SmtpSettings, mail: Mail<'_>) -> Result<Message, OAuthError> {
    // A bare address (addr-spec) only: `name <other@host>` would mail someone else than
    // the address an account is verified for.
    let mailbox = |e: &Email| {
        e.as_str()
            .parse::<Address>()
            .map(|a| Mailbox::new(None, a))
            .map_err(|_| OAuthError::invalid_request("the e-mail address cannot be mailed to"))
    };
    Message::builder()
        .from(mailbox(&s.from)?)
        .to(mailbox(mail.to)?)
        .subject(mail.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body)
        .map_err(|e| OAuthError::ServerError(format!("building e-mail: {e}")))
}
