//! The console's vocabulary: who is signed in to it, and the built-in client it signs
//! people in with.

use crate::{RealmId, UnixTime, UserId};

/// The built-in public client every realm's console signs its administrators in with
/// (code flow with PKCE against the realm's own authorization endpoint). The id is
/// reserved: nobody registers a client under it.
pub const CONSOLE_CLIENT_ID: &str = "tessera-console";

/// The realm role that makes a user of realm `master` a realm administrator.
pub const REALM_ADMIN_ROLE: &str = "admin";

/// A person signed in to a console. The browser holds a random secret; only its hash is
/// stored, under which the session is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    pub id: uuid::Uuid,
    pub realm_id: RealmId,
    pub user_id: UserId,
    /// Echoed in every form of the console; a post without it is refused.
    pub csrf: String,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
}

impl ConsoleSession {
    /// Whether the session still holds at `now`: used within `idle_secs` of its last
    /// request and younger than `max_secs`.
    pub fn live_at(&self, now: UnixTime, idle_secs: i64, max_secs: i64) -> bool {
        now.0 < self.last_seen_at.0.saturating_add(idle_secs)
            && now.0 < self.created_at.0.saturating_add(max_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_console_session_ends_when_idle_or_too_old() {
        let s = ConsoleSession {
            id: uuid::Uuid::nil(),
            realm_id: RealmId(uuid::Uuid::nil()),
            user_id: UserId(uuid::Uuid::nil()),
            csrf: String::new(),
            created_at: UnixTime(1000),
            last_seen_at: UnixTime(5000),
        };
        assert!(s.live_at(UnixTime(5000 + 1799), 1800, 36_000));
        assert!(!s.live_at(UnixTime(5000 + 1800), 1800, 36_000));
        assert!(!s.live_at(UnixTime(1000 + 36_000), 1_000_000, 36_000));
    }
}
