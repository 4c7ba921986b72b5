//! End users of a realm: who logs in at the authorization endpoint.

use crate::{DomainError, RealmId, UnixTime, UserId};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Free-form JSON attributes of a user (always a JSON object).
pub type UserAttributes = serde_json::Map<String, serde_json::Value>;

/// A login name, unique per realm. Stored lower-cased, so `Alice` and `alice` are one user.
/// ASCII only (`[a-z0-9._@+-]` after lower-casing, 1 to 64 characters): non-ASCII input is
/// refused rather than folded, so look-alikes such as the Kelvin sign `K` (which Unicode
/// lower-cases to an ASCII `k`) cannot name someone else's account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let allowed = |b: u8| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-')
        };
        let lower = s.to_ascii_lowercase();
        if !lower.is_empty() && lower.len() <= Self::MAX_LEN && lower.bytes().all(allowed) {
            Ok(Self(lower))
        } else {
            Err(DomainError::new(
                "username",
                "use 1 to 64 characters of a-z, 0-9, '.', '_', '@', '+' and '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address as the user typed it, with the form used for look-ups and uniqueness:
/// Unicode NFC, then lower case (then NFC again, as lower-casing can denormalize). So
/// `José@Example.com` typed with a combining accent and `jose\u{301}@EXAMPLE.COM` are one
/// address. NFC is canonical, not compatibility, normalization: full-width `Ｊｏｈｎ` stays
/// distinct from ASCII `John`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email {
    original: String,
    normalized: String,
}

impl Email {
    /// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
    pub const MAX_LEN: usize = 254;

    /// One `@` with something on both sides, no whitespace or control characters, at
    /// most 254 bytes (as typed and as normalized).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::new("email", why.to_owned());
        if s.len() > Self::MAX_LEN {
            return Err(err("longer than 254 bytes"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("must not contain spaces or control characters"));
        }
        match s.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                if domain.contains('@') {
                    return Err(err("must contain exactly one '@'"));
                }
            }
            _ => return Err(err("must look like name@domain")),
        }
        let normalized = Self::normalize(s);
        if normalized.len() > Self::MAX_LEN {
            return Err(err("longer than 254 bytes"));
        }
        Ok(Self {
            original: s.to_owned(),
            normalized,
        })
    }

    /// The look-up form of any string (used for login names that may be addresses).
    pub fn normalize(s: &str) -> String {
        let nfc: String = s.nfc().collect();
        nfc.to_lowercase().nfc().collect()
    }

    /// As the user typed it: for display and for the `email` claim.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// NFC + lower case: what uniqueness and look-ups use.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Argon2id cost parameters for a realm's password hashes. The default is OWASP's
/// recommendation (m = 19 MiB, t = 2, p = 1). Existing hashes keep the parameters they were
/// made with (they are in the PHC string); new hashes use the realm's current ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl PasswordParams {
    pub const OWASP: Self = Self {
        m_cost: 19_456,
        t_cost: 2,
        p_cost: 1,
    };
    /// Upper bounds an administrator may set: 256 MiB, 16 passes, 16 lanes.
    pub const MAX_M_COST: u32 = 262_144;
    pub const MAX_T_COST: u32 = 16;
    pub const MAX_P_COST: u32 = 16;
    /// Argon2 needs 8 KiB per lane; a floor of 8 KiB × the most lanes makes every in-range
    /// combination valid on its own, so one bound per field describes the rule exactly.
    pub const MIN_M_COST: u32 = 8 * Self::MAX_P_COST;

    pub fn validate(&self) -> Result<(), DomainError> {
        let ok = (1..=Self::MAX_P_COST).contains(&self.p_cost)
            && (1..=Self::MAX_T_COST).contains(&self.t_cost)
            && (Self::MIN_M_COST..=Self::MAX_M_COST).contains(&self.m_cost);
        if ok {
            Ok(())
        } else {
            Err(DomainError::new(
                "password_params",
                "use 1 <= p_cost <= 16, 1 <= t_cost <= 16 and 128 <= m_cost <= 262144",
            ))
        }
    }
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self::OWASP
    }
}

/// A user as the protocol engine and the admin API see it. The password hash is not
/// part of it: it never leaves storage except for verification.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: UserId,
    pub realm_id: RealmId,
    pub username: Username,
    pub email: Option<Email>,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub enabled: bool,
    pub attributes: UserAttributes,
    pub created_at: UnixTime,
}

/// What an administrator supplies to create or replace a user's profile.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub username: Username,
    pub email: Option<Email>,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub enabled: bool,
    pub attributes: UserAttributes,
}

impl From<&User> for NewUser {
    /// A stored user's profile, to change some of it and save it again.
    fn from(u: &User) -> Self {
        Self {
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            enabled: u.enabled,
            attributes: u.attributes.clone(),
        }
    }
}

impl NewUser {
    /// An enabled user with only a username.
    pub fn new(username: Username) -> Self {
        Self {
            username,
            email: None,
            email_verified: false,
            given_name: None,
            family_name: None,
            enabled: true,
            attributes: UserAttributes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_ascii_only() {
        assert_eq!(
            Username::parse("Alice.B+x@corp-1").unwrap().as_str(),
            "alice.b+x@corp-1"
        );
        assert_eq!(
            Username::parse("ALICE").unwrap(),
            Username::parse("alice").unwrap()
        );
        for bad in [
            "",
            "a b",
            "a/b",
            "a:b",
            "é",
            "\u{212a}elvin", // Kelvin sign: lower-cases to ASCII 'k'
            "\u{130}",       // dotted capital I
            &"x".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn emails_collide_across_case_and_unicode_normalization_forms() {
        let full_width = Email::parse("Ｊｏｈｎ@EXAMPLE.com").unwrap();
        let lower = Email::parse("ｊｏｈｎ@example.COM").unwrap();
        assert_eq!(full_width.normalized(), lower.normalized());
        assert_eq!(
            full_width.as_str(),
            "Ｊｏｈｎ@EXAMPLE.com",
            "the original is kept"
        );
        // NFC (precomposed é) vs NFD (e + combining acute), and upper case.
        let nfc = Email::parse("Jos\u{e9}@example.com").unwrap();
        let nfd = Email::parse("JOSE\u{301}@EXAMPLE.COM").unwrap();
        assert_eq!(nfc.normalized(), nfd.normalized());
        assert_eq!(nfc.normalized(), "jos\u{e9}@example.com");
        // Canonical, not compatibility, normalization: full width is not ASCII.
        assert_ne!(
            full_width.normalized(),
            Email::parse("john@example.com").unwrap().normalized()
        );
    }

    #[test]
    fn emails_need_one_at_sign_and_no_spaces() {
        for bad in [
            "",
            "john",
            "@example.com",
            "john@",
            "a@b@c",
            "jo hn@example.com",
            "john@exa\nmple.com",
            &format!("{}@example.com", "x".repeat(250)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse("a@b").is_ok());
    }

    #[test]
    fn password_params_default_to_owasp_and_are_bounded() {
        assert_eq!(
            PasswordParams::default(),
            PasswordParams {
                m_cost: 19_456,
                t_cost: 2,
                p_cost: 1
            }
        );
        assert!(PasswordParams::OWASP.validate().is_ok());
        for bad in [
            PasswordParams {
                m_cost: 7,
                t_cost: 1,
                p_cost: 1,
            },
            PasswordParams {
                m_cost: 8,
                t_cost: 0,
                p_cost: 1,
            },
            PasswordParams {
                m_cost: 8,
                t_cost: 1,
                p_cost: 2,
            },
            PasswordParams {
                m_cost: 127,
                t_cost: 1,
                p_cost: 1,
            },
            PasswordParams {
                m_cost: 1 << 20,
                t_cost: 1,
                p_cost: 1,
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
