//! People helping themselves: the built-in client of the account page, and the
//! single-use links mailed to them.

use crate::{Email, RealmId, UnixTime, UserId};

/// The built-in public client each realm's account page (`/realms/{realm}/account`) signs
/// people in with. The id is reserved like the console's.
pub const ACCOUNT_CLIENT_ID: &str = "tessera-account";

/// What a mailed link does when it is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountTokenPurpose {
    /// Sets a new password (the link was mailed to the account's address).
    PasswordReset,
    /// Marks the address verified, if it is still the account's.
    VerifyEmail,
    /// Makes the address the account's (verified): it was mailed there.
    ChangeEmail,
}

impl AccountTokenPurpose {
    pub const ALL: [Self; 3] = [Self::PasswordReset, Self::VerifyEmail, Self::ChangeEmail];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "reset",
            Self::VerifyEmail => "verify",
            Self::ChangeEmail => "change",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The purposes one new link retires the pending links of: a second reset link, or a
    /// second address, leaves only the newest working.
    pub fn retires(self) -> &'static [Self] {
        match self {
            Self::PasswordReset => &[Self::PasswordReset],
            Self::VerifyEmail | Self::ChangeEmail => &[Self::VerifyEmail, Self::ChangeEmail],
        }
    }
}

/// A mailed link as stored (its secret only as a hash, kept by the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountToken {
    pub id: uuid::Uuid,
    pub realm_id: RealmId,
    pub user_id: UserId,
    pub purpose: AccountTokenPurpose,
    /// The address the link was mailed to.
    pub email: Email,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_e_mail_links_retire_each_other() {
        for p in AccountTokenPurpose::ALL {
            assert_eq!(AccountTokenPurpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(AccountTokenPurpose::parse("other"), None);
        assert!(
            AccountTokenPurpose::ChangeEmail
                .retires()
                .contains(&AccountTokenPurpose::VerifyEmail)
        );
        assert!(
            !AccountTokenPurpose::PasswordReset
                .retires()
                .contains(&AccountTokenPurpose::ChangeEmail)
        );
    }
}
