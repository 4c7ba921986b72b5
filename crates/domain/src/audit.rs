//! The audit log: who changed what in a realm, and when and from where (API, CLI,
//! console), and the security events worth an administrator's attention.

use crate::{OrgId, RealmId, UnixTime};
use uuid::Uuid;

/// What kind of entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKind {
    /// An administrative change that succeeded.
    AdminChange,
    /// A security event (refused exchanges, reused refresh tokens, …).
    Security,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdminChange => "admin_change",
            Self::Security => "security",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin_change" => Some(Self::AdminChange),
            "security" => Some(Self::Security),
            _ => None,
        }
    }
}

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// Time-ordered (UUIDv7): the log pages by it.
    pub id: Uuid,
    pub realm_id: RealmId,
    /// The organization the change was about, when it was one's.
    pub org_id: Option<OrgId>,
    pub at: UnixTime,
    pub kind: AuditKind,
    /// `create`, `update` or `delete` of an admin resource, or the security event's name.
    pub action: String,
    /// What was acted on: the admin route and the ids in its path.
    pub target: String,
    /// `realm_admin`, `org_admin`, `operator` (the CLI).
    pub principal: String,
    /// The acting subject (`sub`, and the client it used).
    pub actor: String,
    /// Where from: the client address as the trusted proxies report it, or `cli`.
    pub source: String,
}
