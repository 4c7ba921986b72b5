//! Tessera's vocabulary: identifiers, realms, clients, scopes and keys. No IO here.

mod account;
mod approval;
mod audit;
mod branding;
mod client;
mod clock;
mod console;
mod error;
mod exchange;
mod federation;
mod grant;
mod ids;
mod keys;
mod org;
mod registration;
mod scope;
mod smtp;
mod user;

pub use account::{ACCOUNT_CLIENT_ID, AccountToken, AccountTokenPurpose};
pub use approval::{
    Approval, ApprovalKind, ApprovalRequest, ApprovalSettings, ApprovalStatus, BindingMessage,
    DEVICE_CLIENT_ID, USER_CODE_ALPHABET, UserCode,
};
pub use audit::{AuditEvent, AuditKind};
pub use branding::{Branding, DisplayName, LogoUri};
pub use client::{
    ADMIN_SCOPE, AccessTokenFormat, ApiSettings, ApplicationType, AuthMethod, CibaDelivery, Client,
    ClientKeys, ClientProfile, GrantType, NewClient, OidcSettings, OrgSettings, RedirectUri,
    ResourceUri,
};
pub use clock::{Clock, FixedClock, SystemClock, UnixTime};
pub use console::{CONSOLE_CLIENT_ID, ConsoleSession, REALM_ADMIN_ROLE};
pub use error::DomainError;
pub use exchange::{
    ExchangePolicy, ExchangeRecord, ImpersonationScope, ImpersonationToken, TokenType,
};
pub use federation::{
    DiscoveryPreview, FederatedIdentity, IdentityProvider, IdpAlias, IdpSettings, MapUsers,
    OrgAdminExchange, RequiredClaim, TOKEN_ALGS, TokenTrust, UpstreamAuthMethod, UpstreamLogin,
};
pub use grant::{AuthorizationCode, Grant, Redemption, RefreshToken, Session};
pub use ids::{
    ClientId, ClientUuid, GrantId, IdpId, InvitationId, OrgId, OrgRoleId, RealmId, RealmName,
    SessionId, UserId,
};
pub use keys::{KeyStatus, SigningAlg, StoredKey};
pub use org::{
    DomainName, Invitation, InvitationStatus, Member, Membership, NewOrganization, ORG_SCOPE,
    OrgAlias, OrgClaimFormat, OrgDomain, OrgRole, OrgRoleName, OrgScope, OrgSelection,
    Organization,
};
pub use registration::{
    InitialAccessToken, OpenRegistration, RegistrationMode, RegistrationPolicy,
};
pub use scope::{Scope, ScopeSet};
pub use smtp::{SmtpSecurity, SmtpSettings};
pub use user::{Email, NewUser, PasswordParams, User, UserAttributes, Username};

/// A tenant: its own issuer, keys, clients and (later) users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Realm {
    pub id: RealmId,
    pub name: RealmName,
    pub enabled: bool,
    /// Algorithm of the access tokens this realm signs.
    pub access_token_alg: SigningAlg,
    pub access_token_lifetime_secs: i64,
    /// Argon2id parameters for new password hashes; `None` = OWASP defaults.
    pub password_params: Option<PasswordParams>,
    pub lifetimes: Lifetimes,
    /// Organizations feature: when off, no token, userinfo or introspection response
    /// carries organization claims (ORG-3).
    pub organizations_enabled: bool,
    /// Longest `act` chain a token exchange may build (RFC 8693 §4.1).
    pub max_delegation_depth: i64,
    /// Who may register clients dynamically, and within which limits (RFC 7591).
    pub registration: RegistrationPolicy,
    /// What the sign-in pages show: display name and logo.
    pub branding: Branding,
    /// Audit log events older than this many days are swept.
    pub audit_retention_days: i64,
    /// Device and CIBA requests: lifetimes and poll intervals.
    pub approvals: ApprovalSettings,
    pub created_at: UnixTime,
}

/// How long browser sessions and refresh tokens live, per realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    /// A session unused this long ends.
    pub session_idle_secs: i64,
    /// A session ends this long after login, whatever its use.
    pub session_max_secs: i64,
    /// A refresh token unused this long expires (offline grants: `refresh_max_secs`).
    pub refresh_idle_secs: i64,
    /// A grant's refresh tokens stop working this long after the grant.
    pub refresh_max_secs: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            session_idle_secs: 1800,
            session_max_secs: 36_000,
            refresh_idle_secs: 1800,
            refresh_max_secs: 36_000,
        }
    }
}

/// A realm's settings as an administrator sets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealmSettings {
    pub enabled: bool,
    pub access_token_alg: SigningAlg,
    pub access_token_lifetime_secs: i64,
    /// Argon2id parameters for new password hashes; `None` = OWASP defaults.
    pub password_params: Option<PasswordParams>,
    pub lifetimes: Lifetimes,
    pub organizations_enabled: bool,
    pub max_delegation_depth: i64,
    pub registration: RegistrationPolicy,
    pub branding: Branding,
    pub audit_retention_days: i64,
    pub approvals: ApprovalSettings,
}

impl From<&Realm> for RealmSettings {
    /// A realm's current settings, to change some and update.
    fn from(r: &Realm) -> Self {
        Self {
            enabled: r.enabled,
            access_token_alg: r.access_token_alg,
            access_token_lifetime_secs: r.access_token_lifetime_secs,
            password_params: r.password_params,
            lifetimes: r.lifetimes,
            organizations_enabled: r.organizations_enabled,
            max_delegation_depth: r.max_delegation_depth,
            registration: r.registration.clone(),
            branding: r.branding.clone(),
            audit_retention_days: r.audit_retention_days,
            approvals: r.approvals,
        }
    }
}

impl Default for RealmSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            access_token_alg: SigningAlg::Rs256,
            access_token_lifetime_secs: 300,
            password_params: None,
            lifetimes: Lifetimes::default(),
            organizations_enabled: true,
            max_delegation_depth: 3,
            registration: RegistrationPolicy::default(),
            branding: Branding::default(),
            audit_retention_days: 365,
            approvals: ApprovalSettings::default(),
        }
    }
}

/// An opaque access token as stored: only the hash of the token value is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpaqueToken {
    pub realm_id: RealmId,
    pub token_hash: Vec<u8>,
    pub jti: String,
    pub client: ClientUuid,
    pub client_id: ClientId,
    pub subject: String,
    pub scope: ScopeSet,
    pub audience: Vec<String>,
    pub roles: Vec<String>,
    /// For user tokens: the grant (revoking it deactivates the token) and session id.
    pub grant_id: Option<GrantId>,
    pub sid: Option<String>,
    /// The `organization` claim as issued (JSON), and the active organization.
    pub org_claim: Option<String>,
    pub org_id: Option<OrgId>,
    /// For exchanged tokens: the `act` claim (JSON) and the jtis of its ancestors.
    pub act: Option<String>,
    pub lineage: Vec<String>,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
}
