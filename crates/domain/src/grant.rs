//! Browser sessions, grants and the single-use artifacts hanging off a grant.

use crate::{
    ClientUuid, GrantId, OrgSelection, RealmId, ScopeSet, SessionId, UnixTime, UpstreamLogin,
    UserId,
};

/// An SSO session in one realm. The cookie carries a random token whose hash is stored;
/// `sid` is the public identifier that goes into ID and logout tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub realm_id: RealmId,
    pub sid: String,
    pub user_id: UserId,
    pub auth_time: UnixTime,
    pub last_seen: UnixTime,
    /// Absolute end; the idle end is `last_seen` + the realm's idle timeout.
    pub expires_at: UnixTime,
    pub ended_at: Option<UnixTime>,
    /// Set when the person signed in through an upstream provider.
    pub upstream: Option<UpstreamLogin>,
}

/// One user's authorization of one client: the family of its codes and refresh tokens,
/// revoked as a whole on code reuse, refresh-token reuse or logout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub realm_id: RealmId,
    pub client: ClientUuid,
    pub user_id: UserId,
    pub session_id: Option<SessionId>,
    pub sid: String,
    pub scope: ScopeSet,
    pub auth_time: UnixTime,
    /// `offline_access` was granted: the grant outlives the session.
    pub offline: bool,
    /// The organization context granted with the `organization` scope.
    pub org: Option<OrgSelection>,
    /// The targets (RFC 8707 `resource`/`audience`) the authorization request narrowed the
    /// grant to; empty: all of the client's audiences.
    pub targets: Vec<String>,
    pub created_at: UnixTime,
    /// Absolute end of the refresh-token family.
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub realm_id: RealmId,
    pub code_hash: Vec<u8>,
    pub grant_id: GrantId,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub expires_at: UnixTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub realm_id: RealmId,
    pub token_hash: Vec<u8>,
    pub grant_id: GrantId,
    /// May be narrower than the grant's (scope narrowing on refresh).
    pub scope: ScopeSet,
    /// Starts as the grant's; switching organizations on refresh changes it.
    pub org: Option<OrgSelection>,
    pub issued_at: UnixTime,
    /// The earlier of the idle end and the grant's absolute end.
    pub expires_at: UnixTime,
}

/// The outcome of redeeming a single-use artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redemption<T> {
    /// This call consumed it.
    Redeemed(T),
    /// It was consumed before: a replay. The family must be revoked.
    Replayed(GrantId),
    /// Unknown, expired, or of another realm.
    Invalid,
}
