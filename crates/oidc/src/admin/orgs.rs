//! Administration of organizations, shared by the admin REST API and the CLI, and the
//! authorization of organization administrators: a member holding the organization role
//! `admin` manages their own organization's members, roles and invitations, nothing else.

use super::AdminPrincipal;
use super::users::MAX_SEARCH_CHARS;
use crate::accounts::MAX_ATTRIBUTES_BYTES;
use crate::admin::{conflict, not_found, page};
use crate::{OAuthError, Provider, RealmCtx};
use std::sync::Arc;
use tessera_domain::{
    DomainName, Member, Membership, NewOrganization, OrgDomain, OrgId, OrgRole, OrgRoleId,
    OrgRoleName, Organization, RealmId, UserId, Username,
};

/// Longest organization name or description.
pub const MAX_ORG_TEXT_CHARS: usize = 1000;
/// Most domains per organization.
pub const MAX_DOMAINS: usize = 100;
/// Adds a user to an organization, by id or (realm administrators only) by username.
#[derive(Debug, Clone)]
pub enum UserRef {
    Id(UserId),
    Username(String),
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
    if o.external_id
        .as_deref()
        .is_some_and(|x| x.is_empty() || x.chars().count() > 255 || x.chars().any(char::is_control))
    {
        return Err(OAuthError::invalid_request(
            "external_id must be 1 to 255 characters without control characters",
        ));
    }
    Ok(())
}

/// The `after` cursor of id-keyed pages.
pub(crate) fn after_id(
    after: Option<&str>,
    why: &'static str,
) -> Result<Option<uuid::Uuid>, OAuthError> {
    after
        .map(|a| uuid::Uuid::parse_str(a).map_err(|_| OAuthError::invalid_request(why)))
        .transpose()
}

impl Provider {
    /// An organization of the realm by id or alias.
    pub(crate) async fn find_org(
        &self,
        realm: RealmId,
        org_ref: &str,
    ) -> Result<Organization, OAuthError> {
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
    pub(crate) async fn caller_org(
        &self,
        realm: &str,
        org_ref: &str,
        caller: &AdminPrincipal,
    ) -> Result<(Arc<RealmCtx>, Organization), OAuthError> {
        let ctx = self.admin_realm(realm).await?;
        let org = self.find_org(ctx.realm.id, org_ref).await?;
        if !caller.manages_org(ctx.realm.id, org.id) {
            return Err(not_found("organization"));
        }
        Ok((ctx, org))
    }

    pub async fn create_org(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        o: NewOrganization,
        domains: Vec<OrgDomain>,
    ) -> Result<Organization, OAuthError> {
        caller.require_realm_admin()?;
        validate_org(&o)?;
        if domains.len() > MAX_DOMAINS {
            return Err(OAuthError::invalid_request("at most 100 domains"));
        }
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .insert_org(realm_id, OrgId::new_v7(), &o, &domains, self.clock().now())
            .await
            .map_err(conflict(
                "organization with this alias or external id, or an organization owning this \
                 domain,",
            ))
    }

    pub async fn list_orgs(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        search: Option<&str>,
        domain: Option<&str>,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<Organization>, OAuthError> {
        caller.require_realm_admin()?;
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
    ) -> Result<(Organization, Vec<OrgDomain>), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let domains = self.store().list_org_domains(ctx.realm.id, org.id).await?;
        Ok((org, domains))
    }

    pub async fn update_org(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        o: NewOrganization,
    ) -> Result<Organization, OAuthError> {
        caller.require_realm_admin()?;
        validate_org(&o)?;
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        self.store()
            .update_org(ctx.realm.id, org.id, &o)
            .await
            .map_err(conflict("organization with this alias or external id"))
    }

    /// What an organization shows people (name, description, logo), which its own
    /// administrators may change too. Alias, external id, status and attributes (which
    /// tokens may carry) stay with the realm's administrators.
    pub async fn update_org_profile(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        name: String,
        description: Option<String>,
        logo_uri: Option<tessera_domain::LogoUri>,
    ) -> Result<Organization, OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let o = NewOrganization {
            alias: org.alias,
            name,
            description,
            enabled: org.enabled,
            attributes: org.attributes,
            external_id: org.external_id,
            logo_uri,
        };
        validate_org(&o)?;
        self.store()
            .update_org(ctx.realm.id, org.id, &o)
            .await
            .map_err(conflict("organization with this alias or external id"))
    }

    /// Deletes an organization: managed members' accounts go with it, others are unlinked,
    /// and its identity providers are deleted (and forgotten by every process).
    pub async fn delete_org(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        self.store()
            .delete_org(ctx.realm.id, org.id)
            .await
            .map_err(|_| not_found("organization"))?;
        self.forget_idps(ctx.realm.id).await;
        Ok(())
    }

    pub async fn put_org_domain(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        d: OrgDomain,
    ) -> Result<(), OAuthError> {
        // An organization's administrators add domains to verify by DNS
        // (`admin::domains`); only a realm administrator declares one verified.
        if d.verified {
            caller.require_realm_admin()?;
        }
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        name: &str,
    ) -> Result<(), OAuthError> {
        let name = DomainName::parse(name).map_err(|_| not_found("domain"))?;
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        self.store()
            .delete_org_domain(ctx.realm.id, org.id, &name)
            .await
            .map_err(|_| not_found("domain"))
    }

    pub async fn create_org_role(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        name: OrgRoleName,
        description: Option<String>,
    ) -> Result<OrgRole, OAuthError> {
        caller.require_realm_admin()?;
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
    pub async fn list_org_roles(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
    ) -> Result<Vec<OrgRole>, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        if let AdminPrincipal::OrgAdmin { realm: own, .. } = caller
            && *own != realm_id
        {
            return Err(not_found("realm"));
        }
        Ok(self.store().list_org_roles(realm_id).await?)
    }

    pub async fn delete_org_role(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        name: &str,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let name = OrgRoleName::parse(name).map_err(|_| not_found("role"))?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .delete_org_role(realm_id, &name)
            .await
            .map_err(|_| not_found("role"))
    }

    /// The templates named, all of which must exist in the realm.
    pub(crate) async fn role_ids(
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        user: UserRef,
        roles: Vec<OrgRoleName>,
        managed: bool,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        // An organization's administrators bring people in only by invitations the
        // people accept; adding an account directly, and marking it managed (the
        // organization's to delete), is for realm administrators.
        caller.require_realm_admin()?;
        let realm_id = ctx.realm.id;
        // By username only for realm admins: an organization admin must not be able to
        // probe the realm's user names (ISO-9).
        let user = match user {
            UserRef::Id(id) => self.store().get_user(realm_id, id).await.ok(),
            UserRef::Username(name) => match Username::parse(&name) {
                Ok(u) => self.store().find_user_by_username(realm_id, &u).await?,
                Err(_) => None,
            },
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        user: UserId,
        roles: Vec<OrgRoleName>,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let ids = self.role_ids(ctx.realm.id, &roles).await?;
        let current = self.member_roles(ctx.realm.id, org.id, user).await?;
        let added: Vec<&OrgRoleName> = roles.iter().filter(|r| !current.contains(r)).collect();
        self.check_grantable(caller, ctx.realm.id, org.id, &added)
            .await?;
        let demoted = current.iter().any(is_admin) && !roles.iter().any(is_admin);
        self.store()
            .set_member_roles(
                ctx.realm.id,
                org.id,
                user,
                &ids,
                demoted.then_some(&crate::accounts::org_admin_role()),
            )
            .await
            .map_err(crate::accounts::keeping_an_admin)
    }

    async fn member_roles(
        &self,
        realm: RealmId,
        org: OrgId,
        user: UserId,
    ) -> Result<Vec<OrgRoleName>, OAuthError> {
        Ok(self
            .store()
            .get_membership(realm, org, user, true)
            .await?
            .ok_or_else(|| not_found("member"))?
            .roles)
    }

    /// An organization's administrator gives (directly or by invitation) only roles they
    /// hold themselves, besides the base role `member` (a realm administrator, any role):
    /// nobody raises anyone above their own powers.
    pub(crate) async fn check_grantable(
        &self,
        caller: &AdminPrincipal,
        realm: RealmId,
        org: OrgId,
        added: &[&OrgRoleName],
    ) -> Result<(), OAuthError> {
        let AdminPrincipal::OrgAdmin { user: me, .. } = caller else {
            return Ok(());
        };
        if added.iter().all(|r| r.as_str() == OrgRoleName::MEMBER) {
            return Ok(());
        }
        let mine = self.member_roles(realm, org, *me).await?;
        let beyond = |r: &&&OrgRoleName| r.as_str() != OrgRoleName::MEMBER && !mine.contains(r);
        match added.iter().find(beyond) {
            Some(r) => Err(OAuthError::InsufficientScope(
                format!(
                    "only an administrator holding the role {} may give it",
                    r.as_str()
                )
                .into(),
            )),
            None => Ok(()),
        }
    }

    pub async fn remove_org_member(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        user: UserId,
    ) -> Result<(), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let current = self.member_roles(ctx.realm.id, org.id, user).await?;
        let admin = current.iter().any(is_admin);
        self.store()
            .remove_member(
                ctx.realm.id,
                org.id,
                user,
                admin.then_some(&crate::accounts::org_admin_role()),
            )
            .await
            .map_err(crate::accounts::keeping_an_admin)
    }

    /// One page of members by user id (`after` = the last id of the previous page),
    /// optionally those whose username or e-mail contains `search`.
    pub async fn list_org_members(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        search: Option<&str>,
        after: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<Member>, OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let after = after_id(after, "after must be a user id")?.map(UserId);
        let p = page(None, limit);
        Ok(self
            .store()
            .list_members(ctx.realm.id, org.id, search, after, p.limit)
            .await?)
    }

    /// A user's organizations, disabled ones included (realm administrators only).
    pub async fn user_orgs(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        user: UserId,
    ) -> Result<Vec<Membership>, OAuthError> {
        caller.require_realm_admin()?;
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
}

fn is_admin(r: &OrgRoleName) -> bool {
    r.as_str() == OrgRoleName::ADMIN
}
