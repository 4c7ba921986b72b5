//! Administration of organizations, shared by the admin REST API and the CLI, and the
//! authorization of organization administrators: a member holding the organization role
//! `admin` manages their own organization's members, roles and invitations, nothing else.

use crate::admin::users::{MAX_ATTRIBUTES_BYTES, MAX_SEARCH_CHARS};
use crate::admin::{conflict, not_found, page};
use crate::crypto::jws;
use crate::crypto::random_id;
use crate::tokens::access_token::AccessClaims;
use crate::{OAuthError, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tessera_domain::{
    DomainName, Email, Invitation, InvitationId, InvitationStatus, Member, Membership,
    NewOrganization, OrgDomain, OrgId, OrgRole, OrgRoleId, OrgRoleName, Organization, RealmId,
    UnixTime, UserId, Username,
};

/// Longest organization name or description.
pub const MAX_ORG_TEXT_CHARS: usize = 1000;
/// Most domains per organization.
pub const MAX_DOMAINS: usize = 100;
/// Invitations are valid for 7 days unless asked otherwise; at most 30.
pub const INVITATION_DEFAULT_SECS: i64 = 7 * 86_400;
pub const INVITATION_MAX_SECS: i64 = 30 * 86_400;
/// `typ` of invitation tokens: never accepted as any other token, nor any other as one.
pub const INVITATION_TYP: &str = "invitation+jwt";

/// Who may manage an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgCaller {
    /// A master-realm admin token: everything.
    RealmAdmin,
    /// A member of this organization holding its `admin` role.
    OrgAdmin { org: OrgId, user: UserId },
}

/// Adds a user to an organization, by id or (realm administrators only) by username.
#[derive(Debug, Clone)]
pub enum UserRef {
    Id(UserId),
    Username(String),
}

/// The claims of an invitation link's token. Everything in it is re-checked against the
/// stored invitation; the signature makes it unforgeable (ORG-4).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvitationClaims {
    pub iss: String,
    pub aud: String,
    /// The invitation id.
    pub sub: String,
    pub org_id: String,
    pub email: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// A verified invitation link: the stored invitation and its organization.
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    pub invitation: Invitation,
    pub org: Organization,
    pub jti: String,
}

fn validate_org(o: &NewOrganization) -> Result<(), OAuthError> {
    let bad_text =
        |s: &str| s.chars().count() > MAX_ORG_TEXT_CHARS || s.chars().any(char::is_control);
    if o.name.trim().is_empty() || bad_text(&o.name) {
        return Err(OAuthError::invalid_request(
            "name must be 1 to 1000 characters without control characters",
        ));
    }
    if o.description.as_deref().is_some_and(bad_text) {
        return Err(OAuthError::invalid_request(
            "description must be at most 1000 characters without control characters",
        ));
    }
    if serde_json::Value::Object(o.attributes.clone())
        .to_string()
        .len()
        > MAX_ATTRIBUTES_BYTES
    {
        return Err(OAuthError::invalid_request(
            "attributes are larger than 16 KiB",
        ));
    }
    Ok(())
}

/// The `after` cursor of id-keyed pages.
fn after_id(after: Option<&str>, why: &'static str) -> Result<Option<uuid::Uuid>, OAuthError> {
    after
        .map(|a| uuid::Uuid::parse_str(a).map_err(|_| OAuthError::invalid_request(why)))
        .transpose()
}

fn invitation_not_found() -> OAuthError {
    not_found("invitation")
}

impl Provider {
    /// Authorizes a caller for one organization: a master admin token, or a token of this
    /// realm whose user is an enabled member of the organization with the `admin` role.
    /// Anyone else addressing the organization gets 404, whether it exists or not
    /// (ORG-5, ISO-10).
    pub async fn authorize_org_admin(
        &self,
        realm: &str,
        org_ref: &str,
        bearer: &str,
    ) -> Result<OrgCaller, OAuthError> {
        match self.authorize_admin(bearer).await {
            Ok(_) => return Ok(OrgCaller::RealmAdmin),
            Err(OAuthError::InvalidToken(_)) => {}
            Err(e) => return Err(e),
        }
        let ctx = self.admin_realm(realm).await?;
        let claims = self.realm_user_token(&ctx, bearer).await?;
        let user = UserId(
            uuid::Uuid::parse_str(&claims.sub)
                .map_err(|_| OAuthError::InvalidToken("not a user token".into()))?,
        );
        let org = self
            .find_org(ctx.realm.id, org_ref)
            .await
            .map_err(|_| not_found("organization"))?;
        let is_admin = self
            .store()
            .get_membership(ctx.realm.id, org.id, user, false)
            .await?
            .is_some_and(|m| m.roles.iter().any(|r| r.as_str() == OrgRoleName::ADMIN));
        if !is_admin {
            return Err(not_found("organization"));
        }
        Ok(OrgCaller::OrgAdmin { org: org.id, user })
    }

    /// For realm-wide administration: a master admin token passes; a valid user token of
    /// the addressed realm (an organization admin, say) is refused with 403 rather than
    /// 401, so clients can tell "wrong privileges" from "bad token" (ORG-6, ORG-7).
    pub async fn authorize_realm_admin(
        &self,
        realm: Option<&str>,
        bearer: &str,
    ) -> Result<crate::admin::AdminPrincipal, OAuthError> {
        match self.authorize_admin(bearer).await {
            Ok(p) => Ok(p),
            Err(OAuthError::InvalidToken(d)) => {
                if let Some(realm) = realm
                    && let Ok(ctx) = self.admin_realm(realm).await
                    && self.realm_user_token(&ctx, bearer).await.is_ok()
                {
                    return Err(OAuthError::InsufficientScope(
                        "realm administration needs a master-realm admin token".into(),
                    ));
                }
                Err(OAuthError::InvalidToken(d))
            }
            Err(e) => Err(e),
        }
    }

    /// A live access token of this realm, for this realm's own audience, issued to a user.
    async fn realm_user_token(
        &self,
        ctx: &RealmCtx,
        bearer: &str,
    ) -> Result<AccessClaims, OAuthError> {
        let invalid = || OAuthError::InvalidToken("the access token is invalid or expired".into());
        let claims = self
            .resolve_access_token(ctx, bearer)
            .await?
            .ok_or_else(invalid)?;
        if !claims.aud.contains(&ctx.issuer) || claims.grant_id.is_none() {
            return Err(invalid());
        }
        Ok(claims)
    }

    /// An organization of the realm by id or alias.
    async fn find_org(&self, realm: RealmId, org_ref: &str) -> Result<Organization, OAuthError> {
        let found = match uuid::Uuid::parse_str(org_ref) {
            Ok(id) => self.store().get_org(realm, OrgId(id)).await?,
            Err(_) => match tessera_domain::OrgAlias::parse(org_ref) {
                Ok(alias) => self.store().find_org_by_alias(realm, &alias).await?,
                Err(_) => None,
            },
        };
        found.ok_or_else(|| not_found("organization"))
    }

    /// The organization a caller addresses: an organization admin only ever their own.
    async fn caller_org(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
    ) -> Result<(Arc<RealmCtx>, Organization), OAuthError> {
        let ctx = self.admin_realm(realm).await?;
        let org = self.find_org(ctx.realm.id, org_ref).await?;
        match caller {
            OrgCaller::RealmAdmin => {}
            OrgCaller::OrgAdmin { org: own, .. } if *own == org.id => {}
            OrgCaller::OrgAdmin { .. } => return Err(not_found("organization")),
        }
        Ok((ctx, org))
    }

    fn realm_admin_only(caller: &OrgCaller) -> Result<(), OAuthError> {
        match caller {
            OrgCaller::RealmAdmin => Ok(()),
            OrgCaller::OrgAdmin { .. } => Err(OAuthError::InsufficientScope(
                "organization administrators manage members, roles and invitations only".into(),
            )),
        }
    }

    pub async fn create_org(
        &self,
        realm: &str,
        o: NewOrganization,
        domains: Vec<OrgDomain>,
    ) -> Result<Organization, OAuthError> {
        validate_org(&o)?;
        if domains.len() > MAX_DOMAINS {
            return Err(OAuthError::invalid_request("at most 100 domains"));
        }
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .insert_org(realm_id, OrgId::new_v7(), &o, &domains, self.clock().now())
            .await
            .map_err(conflict(
                "organization with this alias, or an organization owning this domain,",
            ))
    }

    pub async fn list_orgs(
        &self,
        realm: &str,
        search: Option<&str>,
        domain: Option<&str>,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<Organization>, OAuthError> {
        if search.is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
            return Err(OAuthError::invalid_request(
                "search is longer than 256 characters",
            ));
        }
        let domain = domain.map(DomainName::parse).transpose()?;
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .list_orgs(realm_id, search, domain.as_ref(), &page(after, limit))
            .await?)
    }

    /// An organization with its domains.
    pub async fn get_org(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
    ) -> Result<(Organization, Vec<OrgDomain>), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let domains = self.store().list_org_domains(ctx.realm.id, org.id).await?;
        Ok((org, domains))
    }

    pub async fn update_org(
        &self,
        realm: &str,
        org_ref: &str,
        o: NewOrganization,
    ) -> Result<Organization, OAuthError> {
        validate_org(&o)?;
        let (ctx, org) = self
            .caller_org(realm, org_ref, &OrgCaller::RealmAdmin)
            .await?;
        self.store()
            .update_org(ctx.realm.id, org.id, &o)
            .await
            .map_err(conflict("organization with this alias"))
    }

    /// Deletes an organization: managed members' accounts go with it, others are unlinked.
    pub async fn delete_org(&self, realm: &str, org_ref: &str) -> Result<(), OAuthError> {
        let (ctx, org) = self
            .caller_org(realm, org_ref, &OrgCaller::RealmAdmin)
            .await?;
        self.store()
            .delete_org(ctx.realm.id, org.id)
            .await
            .map_err(|_| not_found("organization"))
    }

    pub async fn put_org_domain(
        &self,
        realm: &str,
        org_ref: &str,
        d: OrgDomain,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self
            .caller_org(realm, org_ref, &OrgCaller::RealmAdmin)
            .await?;
        let domains = self.store().list_org_domains(ctx.realm.id, org.id).await?;
        if domains.len() >= MAX_DOMAINS && !domains.iter().any(|x| x.name == d.name) {
            return Err(OAuthError::invalid_request("at most 100 domains"));
        }
        self.store()
            .put_org_domain(ctx.realm.id, org.id, &d)
            .await
            .map_err(conflict("organization owning this domain"))
    }

    pub async fn delete_org_domain(
        &self,
        realm: &str,
        org_ref: &str,
        name: &str,
    ) -> Result<(), OAuthError> {
        let name = DomainName::parse(name).map_err(|_| not_found("domain"))?;
        let (ctx, org) = self
            .caller_org(realm, org_ref, &OrgCaller::RealmAdmin)
            .await?;
        self.store()
            .delete_org_domain(ctx.realm.id, org.id, &name)
            .await
            .map_err(|_| not_found("domain"))
    }

    pub async fn create_org_role(
        &self,
        realm: &str,
        name: OrgRoleName,
        description: Option<String>,
    ) -> Result<OrgRole, OAuthError> {
        if description
            .as_deref()
            .is_some_and(|d| d.chars().count() > MAX_ORG_TEXT_CHARS)
        {
            return Err(OAuthError::invalid_request(
                "description is longer than 1000 characters",
            ));
        }
        let realm_id = self.admin_realm_id(realm).await?;
        let role = OrgRole {
            id: OrgRoleId::new_v7(),
            realm_id,
            name,
            description,
        };
        self.store()
            .insert_org_role(&role, self.clock().now())
            .await
            .map_err(conflict("role with this name"))?;
        Ok(role)
    }

    /// The realm's organization role templates (organization admins may read them to
    /// know what they can assign).
    pub async fn list_org_roles(&self, realm: &str) -> Result<Vec<OrgRole>, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self.store().list_org_roles(realm_id).await?)
    }

    pub async fn delete_org_role(&self, realm: &str, name: &str) -> Result<(), OAuthError> {
        let name = OrgRoleName::parse(name).map_err(|_| not_found("role"))?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .delete_org_role(realm_id, &name)
            .await
            .map_err(|_| not_found("role"))
    }

    /// The templates named, all of which must exist in the realm.
    async fn role_ids(
        &self,
        realm: RealmId,
        names: &[OrgRoleName],
    ) -> Result<Vec<OrgRoleId>, OAuthError> {
        let found = self.store().find_org_roles(realm, names).await?;
        if let Some(missing) = names.iter().find(|n| !found.iter().any(|r| &r.name == *n)) {
            return Err(OAuthError::InvalidRequest(
                format!("role {} is not defined in this realm", missing.as_str()).into(),
            ));
        }
        Ok(found.into_iter().map(|r| r.id).collect())
    }

    pub async fn add_org_member(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        user: UserRef,
        roles: Vec<OrgRoleName>,
        managed: bool,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let realm_id = ctx.realm.id;
        // By username only for realm admins: an organization admin must not be able to
        // probe the realm's user names (ISO-9).
        let user = match user {
            UserRef::Id(id) => self.store().get_user(realm_id, id).await.ok(),
            UserRef::Username(name) => {
                Self::realm_admin_only(caller)?;
                match Username::parse(&name) {
                    Ok(u) => self.store().find_user_by_username(realm_id, &u).await?,
                    Err(_) => None,
                }
            }
        }
        .ok_or_else(|| not_found("user"))?;
        let roles = self.role_ids(realm_id, &roles).await?;
        self.store()
            .add_member(
                realm_id,
                org.id,
                user.id,
                managed,
                &roles,
                self.clock().now(),
            )
            .await
            .map_err(conflict("membership of this user"))
    }

    pub async fn set_org_member_roles(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        user: UserId,
        roles: Vec<OrgRoleName>,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let ids = self.role_ids(ctx.realm.id, &roles).await?;
        self.store()
            .set_member_roles(ctx.realm.id, org.id, user, &ids)
            .await
            .map_err(|_| not_found("member"))
    }

    pub async fn remove_org_member(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        user: UserId,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        self.store()
            .remove_member(ctx.realm.id, org.id, user)
            .await
            .map_err(|_| not_found("member"))
    }

    /// One page of members by user id (`after` = the last id of the previous page).
    pub async fn list_org_members(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        after: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<Member>, OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let after = after_id(after, "after must be a user id")?.map(UserId);
        let p = page(None, limit);
        Ok(self
            .store()
            .list_members(ctx.realm.id, org.id, after, p.limit)
            .await?)
    }

    /// A user's organizations, disabled ones included (realm administrators only).
    pub async fn user_orgs(
        &self,
        realm: &str,
        user: UserId,
    ) -> Result<Vec<Membership>, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .get_user(realm_id, user)
            .await
            .map_err(|_| not_found("user"))?;
        Ok(self
            .store()
            .list_user_memberships(realm_id, user, true)
            .await?)
    }

    /// The link of an invitation: `{issuer}/invitations/accept?token=…`, signed by the
    /// realm's access-token key with its own `typ`.
    fn invitation_link(&self, ctx: &RealmCtx, inv: &Invitation) -> Result<String, OAuthError> {
        let key = ctx.keys.signer(ctx.realm.access_token_alg).ok_or_else(|| {
            OAuthError::ServerError(format!(
                "realm {} has no active signing key",
                ctx.realm.name
            ))
        })?;
        let claims = InvitationClaims {
            iss: ctx.issuer.clone(),
            aud: ctx.issuer.clone(),
            sub: inv.id.to_string(),
            org_id: inv.org_id.to_string(),
            email: inv.email.as_str().to_owned(),
            jti: inv.jti.clone(),
            iat: self.clock().now().0,
            exp: inv.expires_at.0,
        };
        Ok(format!(
            "{}/invitations/accept?token={}",
            ctx.issuer,
            jws::sign(key, INVITATION_TYP, &claims)
        ))
    }

    fn invitation_expiry(&self, lifetime_secs: Option<i64>) -> Result<UnixTime, OAuthError> {
        let secs = lifetime_secs.unwrap_or(INVITATION_DEFAULT_SECS);
        if !(60..=INVITATION_MAX_SECS).contains(&secs) {
            return Err(OAuthError::invalid_request(
                "lifetime_secs must be within 60..=2592000",
            ));
        }
        Ok(self.clock().now().plus_secs(secs))
    }

    /// Invites an e-mail address into an organization with roles; returns the invitation
    /// and its link (to be e-mailed by the caller).
    pub async fn create_invitation(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        email: Email,
        roles: Vec<OrgRoleName>,
        lifetime_secs: Option<i64>,
    ) -> Result<(Invitation, String), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        self.role_ids(ctx.realm.id, &roles).await?;
        let inv = Invitation {
            id: InvitationId::new_v7(),
            realm_id: ctx.realm.id,
            org_id: org.id,
            email,
            roles,
            status: InvitationStatus::Pending,
            jti: random_id(),
            expires_at: self.invitation_expiry(lifetime_secs)?,
            created_at: self.clock().now(),
        };
        self.store().insert_invitation(&inv).await?;
        let link = self.invitation_link(&ctx, &inv)?;
        Ok((inv, link))
    }

    pub async fn list_invitations(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        after: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<Invitation>, OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let after = after_id(after, "after must be an invitation id")?.map(InvitationId);
        Ok(self
            .store()
            .list_invitations(ctx.realm.id, org.id, after, page(None, limit).limit)
            .await?)
    }

    /// A new link (and expiry) for a pending invitation; earlier links stop working.
    pub async fn resend_invitation(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        id: InvitationId,
        lifetime_secs: Option<i64>,
    ) -> Result<(Invitation, String), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let jti = random_id();
        let expires_at = self.invitation_expiry(lifetime_secs)?;
        if !self
            .store()
            .renew_invitation(ctx.realm.id, org.id, id, &jti, expires_at)
            .await?
        {
            return Err(
                match self
                    .store()
                    .get_invitation(ctx.realm.id, org.id, id)
                    .await?
                {
                    Some(_) => OAuthError::Conflict("the invitation is no longer pending".into()),
                    None => invitation_not_found(),
                },
            );
        }
        let inv = self
            .store()
            .get_invitation(ctx.realm.id, org.id, id)
            .await?
            .ok_or_else(invitation_not_found)?;
        let link = self.invitation_link(&ctx, &inv)?;
        Ok((inv, link))
    }

    pub async fn revoke_invitation(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &OrgCaller,
        id: InvitationId,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        if self
            .store()
            .revoke_invitation(ctx.realm.id, org.id, id)
            .await?
        {
            return Ok(());
        }
        Err(
            match self
                .store()
                .get_invitation(ctx.realm.id, org.id, id)
                .await?
            {
                Some(_) => OAuthError::Conflict("the invitation is no longer pending".into()),
                None => invitation_not_found(),
            },
        )
    }

    /// Verifies an invitation link: signature by this realm's keys, `typ`, `iss`, `aud`,
    /// `exp`, then the stored invitation (pending, same link, same organization and
    /// e-mail) and its organization (enabled). Anything else is `access_denied` (ORG-4).
    pub async fn open_invitation(
        &self,
        ctx: &RealmCtx,
        token: &str,
    ) -> Result<OpenInvitation, OAuthError> {
        let denied =
            || OAuthError::AccessDenied("the invitation link is invalid, used or expired".into());
        let c: InvitationClaims =
            jws::verify(&ctx.keys, INVITATION_TYP, token).map_err(|_| denied())?;
        let now = self.clock().now();
        if c.iss != ctx.issuer || c.aud != ctx.issuer || c.exp <= now.0 {
            return Err(denied());
        }
        let (Ok(id), Ok(org_id)) = (
            uuid::Uuid::parse_str(&c.sub),
            uuid::Uuid::parse_str(&c.org_id),
        ) else {
            return Err(denied());
        };
        let inv = self
            .store()
            .get_invitation(ctx.realm.id, OrgId(org_id), InvitationId(id))
            .await?
            .ok_or_else(denied)?;
        let email = Email::parse(&c.email).map_err(|_| denied())?;
        if inv.status_at(now) != InvitationStatus::Pending
            || inv.jti != c.jti
            || inv.email.normalized() != email.normalized()
        {
            return Err(denied());
        }
        let org = self
            .store()
            .get_org(ctx.realm.id, inv.org_id)
            .await?
            .filter(|o| o.enabled)
            .ok_or_else(denied)?;
        Ok(OpenInvitation {
            invitation: inv,
            org,
            jti: c.jti,
        })
    }

    /// Joins `user` to the invitation's organization with its roles; the link is spent
    /// by one conditional UPDATE, so it works once (ISO-6).
    pub async fn accept_invitation(
        &self,
        ctx: &RealmCtx,
        open: &OpenInvitation,
        user: UserId,
    ) -> Result<(), OAuthError> {
        let inv = &open.invitation;
        let roles = self
            .role_ids(ctx.realm.id, &inv.roles)
            .await
            .unwrap_or_default();
        let accepted = self
            .store()
            .accept_invitation(
                ctx.realm.id,
                inv.org_id,
                inv.id,
                &open.jti,
                &inv.email,
                user,
                &roles,
                self.clock().now(),
            )
            .await?;
        if accepted {
            Ok(())
        } else {
            Err(OAuthError::AccessDenied(
                "the invitation link is invalid, used or expired".into(),
            ))
        }
    }
}
