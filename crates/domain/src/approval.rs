//! Requests approved elsewhere: a client asks for a person's grant, and the person
//! approves or denies it on their own device. The device authorization grant (RFC 8628)
//! and client-initiated backchannel authentication (OpenID CIBA Core 1.0) are both one
//! such request, polled for by the client and decided on Tessera's pages.

use crate::{
    ClientUuid, DomainError, OrgSelection, RealmId, ScopeSet, SessionId, UnixTime, UserId,
};

/// The built-in public client whose sign-in the approval pages (`/realms/{realm}/device`)
/// use. The id is reserved like the console's.
pub const DEVICE_CLIENT_ID: &str = "tessera-device";

/// Which protocol a request came by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApprovalKind {
    /// RFC 8628: the person types the user code the device shows.
    Device,
    /// CIBA: the client named the person; they are notified.
    Ciba,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Ciba => "ciba",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Device, Self::Ciba]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Where a request is in its life. Expiry is not a status: it is `expires_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    /// The client took its tokens: the request is spent.
    Redeemed,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Denied, Self::Redeemed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The person's decision as stored when they approve: what the grant will be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub sid: String,
    pub auth_time: UnixTime,
    pub org: Option<OrgSelection>,
    /// How the person signed in: `password` or `idp:<alias>` (for the audit log).
    pub signed_in_via: String,
}

/// A pending (or decided) request. Its secrets — the device code or `auth_req_id` the
/// client polls with, the user code, a ping's notification token — are kept by the store
/// as hashes (the notification token sealed, since it is sent back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub id: uuid::Uuid,
    pub realm_id: RealmId,
    pub kind: ApprovalKind,
    pub client: ClientUuid,
    pub scope: ScopeSet,
    /// RFC 8707 targets the request narrowed the grant to.
    pub targets: Vec<String>,
    /// CIBA: the person the client named; a device request learns it at approval.
    pub user_id: Option<UserId>,
    /// CIBA: shown to the person so they can tell this request from another.
    pub binding_message: Option<String>,
    pub acr_values: Option<String>,
    pub status: ApprovalStatus,
    pub approval: Option<Approval>,
    /// Seconds the client must leave between two polls.
    pub interval_secs: i64,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub decided_at: Option<UnixTime>,
}

impl ApprovalRequest {
    pub fn is_live(&self, now: UnixTime) -> bool {
        self.expires_at > now
    }
}

/// How long requests live and how often their clients may poll, per realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApprovalSettings {
    pub device_code_lifetime_secs: i64,
    pub device_poll_interval_secs: i64,
    /// The longest a CIBA request lives (`requested_expiry` may ask for less).
    pub ciba_lifetime_secs: i64,
    pub ciba_poll_interval_secs: i64,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            device_code_lifetime_secs: 600,
            device_poll_interval_secs: 5,
            ciba_lifetime_secs: 300,
            ciba_poll_interval_secs: 5,
        }
    }
}

impl ApprovalSettings {
    pub fn validate(&self) -> Result<(), DomainError> {
        let lifetime = |v: i64| (60..=3600).contains(&v);
        let interval = |v: i64| (1..=60).contains(&v);
        if !(lifetime(self.device_code_lifetime_secs) && lifetime(self.ciba_lifetime_secs)) {
            return Err(DomainError::new(
                "approvals",
                "device code and CIBA lifetimes must be within 60..=3600 seconds",
            ));
        }
        if !(interval(self.device_poll_interval_secs) && interval(self.ciba_poll_interval_secs)) {
            return Err(DomainError::new(
                "approvals",
                "poll intervals must be within 1..=60 seconds",
            ));
        }
        Ok(())
    }
}

/// RFC 8628 §6.1: base-20 consonants, no vowels (no words) and nothing that reads as
/// another character; 20^8 ≈ 2.6·10^10 codes.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A user code: eight letters of [`USER_CODE_ALPHABET`], shown as `XXXX-XXXX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// From eight random bytes (each reduced modulo 20: the bias of 256 mod 20 is
    /// 16/256 on four letters, well within what the attempt limit allows for).
    pub fn from_random(bytes: [u8; 8]) -> Self {
        Self(
            bytes
                .iter()
                .map(|b| USER_CODE_ALPHABET[usize::from(*b) % 20] as char)
                .collect(),
        )
    }

    /// What a person typed: case, dashes and spaces do not matter.
    pub fn parse(typed: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::new("user_code", "a code has eight letters, like BDFH-JKLM");
        if typed.len() > 32 {
            return Err(bad());
        }
        let code: String = typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() != 8 || !code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)) {
            return Err(bad());
        }
        Ok(Self(code))
    }

    /// The stored form: eight letters, no dash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As a person reads it: `XXXX-XXXX`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

/// CIBA's `binding_message`: shown to the person beside the request, so short plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingMessage(String);

impl BindingMessage {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > Self::MAX_CHARS || s.chars().any(char::is_control) {
            return Err(DomainError::new(
                "binding_message",
                "a binding message is 1 to 64 characters of plain text",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_code_is_read_whatever_its_case_and_dashes() {
        let c = UserCode::parse("bdfh-jklm").unwrap();
        assert_eq!(c.as_str(), "BDFHJKLM");
        assert_eq!(c.display(), "BDFH-JKLM");
        assert_eq!(UserCode::parse(" BDFH JKLM ").unwrap(), c);
        assert_eq!(UserCode::parse("BDFHJKLM").unwrap(), c);
        for bad in [
            "BDFH-JKL",
            "BDFH-JKLMN",
            "AEIO-UBCD",
            "BDFH-JKL1",
            "",
            "ÄDFH-JKLM",
        ] {
            assert!(UserCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_random_user_code_uses_only_the_alphabet() {
        let c = UserCode::from_random([0, 19, 20, 255, 128, 7, 99, 200]);
        assert_eq!(c.as_str().len(), 8);
        assert!(UserCode::parse(&c.display()).is_ok());
    }

    #[test]
    fn a_binding_message_is_short_plain_text() {
        assert!(BindingMessage::parse("Pay 12 EUR to ACME, code 4711").is_ok());
        assert!(BindingMessage::parse("").is_err());
        assert!(BindingMessage::parse(&"x".repeat(65)).is_err());
        assert!(BindingMessage::parse("line\nbreak").is_err());
    }

    #[test]
    fn approval_settings_hold_lifetimes_and_intervals_in_range() {
        assert!(ApprovalSettings::default().validate().is_ok());
        let s = ApprovalSettings {
            device_poll_interval_secs: 0,
            ..Default::default()
        };
        assert!(s.validate().is_err());
        let s = ApprovalSettings {
            ciba_lifetime_secs: 4000,
            ..Default::default()
        };
        assert!(s.validate().is_err());
    }
}
