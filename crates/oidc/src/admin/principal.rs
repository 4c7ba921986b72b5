//! Who is calling an admin operation, resolved once from the request's credentials. Every
//! admin operation takes the [`AdminPrincipal`] and asks it what the caller may do; a new
//! kind of caller (a console session, a registration access token, a scoped admin key)
//! is one new [`AdminCredentials`] variant and one arm in [`Provider::resolve_admin`].

use super::{ADMIN_ROLE, not_found};
use crate::tokens::access_token::AccessClaims;
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{
    ADMIN_SCOPE, CONSOLE_CLIENT_ID, ClientId, ConsoleSession, OrgId, OrgRoleName, REALM_ADMIN_ROLE,
    RealmId, RealmName, UserId,
};

/// The credentials a request presented.
#[derive(Debug, Clone, Copy)]
pub enum AdminCredentials<'a> {
    /// `Authorization: Bearer …`: an access token.
    Bearer(&'a str),
    /// A person signed in to a console (`crate::console`): a realm administrator when a
    /// user of realm `master` holding its `admin` role, else whatever organization they
    /// administer in the session's realm.
    Console(&'a ConsoleSession),
    /// `Authorization: Bearer …`: a scoped admin key (a biscuit, `admin_keys.rs`).
    AdminKey(&'a str),
}

impl<'a> AdminCredentials<'a> {
    /// An `Authorization: Bearer` value: an admin key by its shape (a long base64 value
    /// without dots), else an access token.
    pub fn bearer(value: &'a str) -> Self {
        if crate::crypto::admin_key::looks_like_admin_key(value) {
            Self::AdminKey(value)
        } else {
            Self::Bearer(value)
        }
    }
}

/// What an admin request addresses: the realm and organization its path names, whether
/// it changes anything (all but GET and HEAD), and the path itself (scoped admin keys
/// check all four).
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminTarget<'a> {
    pub realm: Option<&'a str>,
    pub org: Option<&'a str>,
    pub write: bool,
    pub path: &'a str,
}

/// An administrator, and of what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminPrincipal {
    /// Administers every realm: a master-realm token with the `admin` role, or the
    /// operator at the command line.
    RealmAdmin { client_id: String, sub: String },
    /// Administers one organization of one realm: a member holding its `admin` role.
    OrgAdmin {
        realm: RealmId,
        org: OrgId,
        user: UserId,
    },
    /// A scoped admin key of one realm: of the whole realm (a realm administrator there
    /// only), or of one organization (like that organization's administrator).
    /// `resolve_admin` has checked the path's realm, so realm-wide answers hold for it.
    AdminKey {
        realm: RealmId,
        org: Option<OrgId>,
        /// The key's revocation id.
        key_id: String,
    },
}

impl AdminPrincipal {
    /// The operator running the CLI against the database: a realm administrator.
    pub fn operator() -> Self {
        Self::RealmAdmin {
            client_id: "tessera-cli".into(),
            sub: "operator".into(),
        }
    }

    /// Realm-wide administration; an organization's administrator gets 403 (ORG-6, ORG-7).
    pub fn require_realm_admin(&self) -> Result<(), OAuthError> {
        match self {
            Self::RealmAdmin { .. } | Self::AdminKey { org: None, .. } => Ok(()),
            Self::OrgAdmin { .. } | Self::AdminKey { org: Some(_), .. } => {
                Err(OAuthError::InsufficientScope(
                    "realm administration needs a master-realm admin token".into(),
                ))
            }
        }
    }

    /// Whether the caller manages this organization; anyone else must not learn it
    /// exists (404, ORG-5, ISO-10).
    pub fn manages_org(&self, realm: RealmId, org: OrgId) -> bool {
        match self {
            Self::RealmAdmin { .. } => true,
            Self::OrgAdmin {
                realm: r, org: o, ..
            } => *r == realm && *o == org,
            Self::AdminKey {
                realm: r, org: own, ..
            } => *r == realm && own.is_none_or(|o| o == org),
        }
    }

    /// Whether the caller administers the whole realm (its settings, its own identity
    /// providers, invitation links).
    pub fn manages_realm(&self, realm: RealmId) -> bool {
        match self {
            Self::RealmAdmin { .. } => true,
            Self::OrgAdmin { .. } => false,
            Self::AdminKey { realm: r, org, .. } => *r == realm && org.is_none(),
        }
    }

    /// `sub` and `client_id` for the records an operation leaves (impersonation, logs).
    pub fn subject(&self) -> (String, String) {
        match self {
            Self::RealmAdmin { client_id, sub } => (sub.clone(), client_id.clone()),
            Self::OrgAdmin { user, .. } => (user.to_string(), String::new()),
            Self::AdminKey { key_id, .. } => (format!("admin-key:{key_id}"), String::new()),
        }
    }
}

impl Provider {
    /// Resolves the caller of an admin request addressed to `target` (its realm, and
    /// organization for an organization's resources, as the request's path names them):
    /// - a live master-realm access token with the `admin` role and the master issuer as
    ///   audience (RFC 9700 §2.3) is a realm administrator;
    /// - a user token of the addressed realm whose user holds the `admin` role of the
    ///   addressed organization is that organization's administrator;
    /// - any other valid user token of the addressed realm is refused with 403 for
    ///   realm-wide paths and 404 for an organization's (whether it exists or not);
    /// - a scoped admin key is resolved by `admin_keys.rs` against its realm's root, the
    ///   operation and the path;
    /// - anything else is 401.
    pub async fn resolve_admin(
        &self,
        credentials: AdminCredentials<'_>,
        target: AdminTarget<'_>,
    ) -> Result<AdminPrincipal, OAuthError> {
        let AdminTarget { realm, org, .. } = target;
        let resolved = match credentials {
            AdminCredentials::AdminKey(key) => self.admin_key_principal(key, &target).await,
            AdminCredentials::Bearer(bearer) => self.bearer_admin(bearer, realm, org).await,
            AdminCredentials::Console(s) => self.console_admin(s, realm, org).await,
        };
        // Who, on the request's log line (and its admin-write line).
        if let Ok(p) = &resolved {
            let span = tracing::Span::current();
            match p {
                AdminPrincipal::RealmAdmin { client_id, .. } => {
                    span.record("principal", "realm_admin");
                    span.record("client_id", client_id.as_str());
                }
                AdminPrincipal::OrgAdmin { user, .. } => {
                    span.record("principal", "org_admin");
                    span.record("user_id", tracing::field::display(user));
                }
                AdminPrincipal::AdminKey { key_id, .. } => {
                    span.record("principal", "admin_key");
                    span.record("client_id", key_id.as_str());
                }
            }
        }
        resolved
    }

    async fn bearer_admin(
        &self,
        bearer: &str,
        realm: Option<&str>,
        org: Option<&str>,
    ) -> Result<AdminPrincipal, OAuthError> {
        match self.master_admin(bearer).await {
            Err(OAuthError::InvalidToken(d)) => {
                let refused = || self.foreign_token_hint(bearer).unwrap_or(d.clone());
                let Some(realm) = realm else {
                    return Err(OAuthError::InvalidToken(refused()));
                };
                let Ok(ctx) = self.admin_realm(realm).await else {
                    return Err(OAuthError::InvalidToken(refused()));
                };
                let (claims, bound_to) = self.realm_user_token(&ctx, bearer).await?;
                let user = uuid::Uuid::parse_str(&claims.sub)
                    .map(UserId)
                    .map_err(|_| OAuthError::InvalidToken("not a user token".into()))?;
                match org {
                    Some(org) => self.org_admin(&ctx, org, user, bound_to).await,
                    None => Err(OAuthError::InsufficientScope(
                        "realm administration needs a master-realm admin token".into(),
                    )),
                }
            }
            other => other,
        }
    }

    /// The person of a console session, as of now: an enabled user; of realm `master`
    /// with its `admin` role, a realm administrator; else the administrator of the
    /// addressed organization of the session's own realm.
    async fn console_admin(
        &self,
        s: &ConsoleSession,
        realm: Option<&str>,
        org: Option<&str>,
    ) -> Result<AdminPrincipal, OAuthError> {
        let ended = || OAuthError::InvalidToken("the console session has ended".into());
        let user = self
            .store()
            .get_user(s.realm_id, s.user_id)
            .await
            .map_err(|_| ended())?;
        if !user.enabled {
            return Err(ended());
        }
        let in_master = self
            .realm(RealmName::MASTER)
            .await
            .is_ok_and(|m| m.realm.id == s.realm_id);
        if in_master {
            let roles = self.store().user_roles(s.realm_id, s.user_id).await?;
            return match roles.iter().any(|r| r == REALM_ADMIN_ROLE) {
                true => Ok(AdminPrincipal::RealmAdmin {
                    client_id: CONSOLE_CLIENT_ID.into(),
                    sub: s.user_id.to_string(),
                }),
                false => Err(OAuthError::InsufficientScope(
                    "realm administration needs the admin role of realm master".into(),
                )),
            };
        }
        let ctx = match realm {
            Some(r) => self.admin_realm(r).await?,
            None => return Err(not_found("organization")),
        };
        match org {
            Some(org) if ctx.realm.id == s.realm_id => {
                self.org_admin(&ctx, org, s.user_id, None).await
            }
            _ => Err(not_found("organization")),
        }
    }

    /// Why a token another realm issued does not open this API, read from its unverified
    /// `iss` only to word the refusal: nothing is granted on it.
    fn foreign_token_hint(&self, bearer: &str) -> Option<crate::error::Desc> {
        use base64::Engine;
        let payload = bearer.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        let iss = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()?
            .get("iss")?
            .as_str()?
            .to_owned();
        let realm = iss.strip_prefix(&format!("{}/realms/", self.public_url))?;
        let realm = RealmName::parse(realm).ok()?;
        if realm.as_str() == RealmName::MASTER {
            return None;
        }
        Some(
            format!(
                "this API takes a token of realm master with the admin role, or an organization \
                 administrator's token at /admin/realms/{{realm}}/organizations/{{org}}/...; this \
                 token is from realm {realm}"
            )
            .into(),
        )
    }

    async fn master_admin(&self, bearer: &str) -> Result<AdminPrincipal, OAuthError> {
        let invalid = || OAuthError::InvalidToken("the access token is invalid or expired".into());
        let ctx = self.realm(RealmName::MASTER).await.map_err(|_| invalid())?;
        let claims: AccessClaims = self
            .resolve_access_token(&ctx, bearer)
            .await?
            .ok_or_else(invalid)?;
        if !claims.aud.contains(&ctx.issuer) {
            return Err(invalid());
        }
        if !claims.roles.iter().any(|r| r == ADMIN_ROLE) {
            return Err(OAuthError::InsufficientScope(
                "the admin role is required".into(),
            ));
        }
        Ok(AdminPrincipal::RealmAdmin {
            client_id: claims.client_id,
            sub: claims.sub,
        })
    }

    /// A live access token of this realm issued to a user for administration: by a
    /// client the realm's administrators let act as an admin console (checked now, so
    /// withdrawing the setting ends its tokens' use), carrying the admin scope the user
    /// granted and the admin API as audience, acting for nobody else. Any other token,
    /// however valid for the apps it was meant for, is not an admin credential. Also the
    /// organization the console belongs to, if any: its tokens administer that one only.
    async fn realm_user_token(
        &self,
        ctx: &RealmCtx,
        bearer: &str,
    ) -> Result<(AccessClaims, Option<OrgId>), OAuthError> {
        let invalid =
            || OAuthError::InvalidToken("the access token was not issued for the admin API".into());
        let claims = self
            .resolve_access_token(ctx, bearer)
            .await?
            .ok_or_else(invalid)?;
        let granted = claims
            .scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|x| x == ADMIN_SCOPE));
        if !claims.aud.contains(&self.admin_audience())
            || !granted
            || claims.grant_id.is_none()
            || claims.act.is_some()
        {
            return Err(invalid());
        }
        let console = match ClientId::parse(&claims.client_id) {
            Ok(id) => self.client(ctx, &id).await?,
            Err(_) => None,
        };
        match console {
            Some(c) if c.enabled && c.admin_console => Ok((claims, c.org.bound_to)),
            _ => Err(invalid()),
        }
    }

    /// The token's user, if an enabled member of the organization with its `admin` role,
    /// through a console of no organization or of this one (a console an organization
    /// owns, such as the organization-admin exchange's, never reaches another: 404 even
    /// where its user is an administrator too).
    async fn org_admin(
        &self,
        ctx: &RealmCtx,
        org_ref: &str,
        user: UserId,
        console_org: Option<OrgId>,
    ) -> Result<AdminPrincipal, OAuthError> {
        let org = self
            .find_org(ctx.realm.id, org_ref)
            .await
            .map_err(|_| not_found("organization"))?;
        if console_org.is_some_and(|o| o != org.id) {
            return Err(not_found("organization"));
        }
        let is_admin = self
            .store()
            .get_membership(ctx.realm.id, org.id, user, false)
            .await?
            .is_some_and(|m| m.roles.iter().any(|r| r.as_str() == OrgRoleName::ADMIN));
        if !is_admin {
            return Err(not_found("organization"));
        }
        Ok(AdminPrincipal::OrgAdmin {
            realm: ctx.realm.id,
            org: org.id,
            user,
        })
    }
}
