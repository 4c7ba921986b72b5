//! How a realm sends e-mail (invitation links): one SMTP submission server.

use crate::{DomainError, Email};

/// Transport security of the SMTP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS; refused if the server cannot (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a server on a loopback address (a local relay, tests).
    None,
}

impl SmtpSecurity {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            _ => Err(DomainError::new(
                "security",
                "must be starttls, tls or none",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }
}

/// A realm's SMTP server. The password is not here: it is sealed at rest and never
/// read back out of the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// The sender of the realm's messages.
    pub from: Email,
}

impl SmtpSettings {
    /// A DNS name or IP literal, a port, and no plaintext beyond loopback.
    pub fn validate(&self) -> Result<(), DomainError> {
        let host_ok = !self.host.is_empty()
            && self.host.len() <= 253
            && self.host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !host_ok {
            return Err(DomainError::new(
                "host",
                "must be a host name or IP address",
            ));
        }
        if self.port == 0 {
            return Err(DomainError::new("port", "must be 1 to 65535"));
        }
        if self.security == SmtpSecurity::None && !self.is_loopback() {
            return Err(DomainError::new(
                "security",
                "none is only allowed for a server on a loopback address",
            ));
        }
        if self.username.as_deref().is_some_and(|u| {
            u.is_empty() || u.chars().count() > 256 || u.chars().any(char::is_control)
        }) {
            return Err(DomainError::new("username", "must be 1 to 256 characters"));
        }
        Ok(())
    }

    /// The hosts plain SMTP may go to: the usual spellings of this machine, as a fixed list
    /// so that the admin API's document can state the rule exactly.
    pub const LOOPBACK_HOSTS: [&'static str; 4] = ["localhost", "127.0.0.1", "::1", "[::1]"];

    pub fn is_loopback(&self) -> bool {
        Self::LOOPBACK_HOSTS.contains(&self.host.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, security: SmtpSecurity) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port: 587,
            security,
            username: None,
            from: Email::parse("no-reply@example.com").unwrap(),
        }
    }

    #[test]
    fn plaintext_smtp_is_only_for_loopback_servers() {
        assert!(settings("127.0.0.1", SmtpSecurity::None).validate().is_ok());
        assert!(settings("[::1]", SmtpSecurity::None).validate().is_ok());
        assert!(
            settings("127.0.0.2", SmtpSecurity::None)
                .validate()
                .is_err()
        );
        assert!(
            settings("smtp.example.com", SmtpSecurity::None)
                .validate()
                .is_err()
        );
        assert!(
            settings("smtp.example.com", SmtpSecurity::StartTls)
                .validate()
                .is_ok()
        );
        assert!(
            settings("smtp example", SmtpSecurity::Tls)
                .validate()
                .is_err()
        );
        assert!(settings("", SmtpSecurity::Tls).validate().is_err());
    }
}
