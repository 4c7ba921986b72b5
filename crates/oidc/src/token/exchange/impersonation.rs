//! Who may be impersonated: users the client's policy names, never administrators.

use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{ExchangePolicy, ImpersonationScope, OrgRoleName, RealmName, UserId};

/// Impersonation tokens live at most ten minutes.
pub const IMPERSONATION_MAX_SECS: i64 = 600;

impl Provider {
    /// A user is an administrator when they are a principal of the master realm or hold
    /// the `admin` role of an organization: never impersonated (CVE-2026-17526).
    pub(crate) async fn is_admin_user(
        &self,
        ctx: &RealmCtx,
        user: UserId,
    ) -> Result<bool, OAuthError> {
        if ctx.realm.name.as_str() == RealmName::MASTER {
            return Ok(true);
        }
        Ok(self
            .store()
            .list_user_memberships(ctx.realm.id, user, true)
            .await?
            .iter()
            .any(|m| m.roles.iter().any(|r| r.as_str() == OrgRoleName::ADMIN)))
    }

    /// Whether `policy` lets its client impersonate `user`.
    pub(crate) async fn may_impersonate(
        &self,
        ctx: &RealmCtx,
        policy: &ExchangePolicy,
        user: UserId,
    ) -> Result<Result<(), &'static str>, OAuthError> {
        let allowed = match &policy.impersonate {
            ImpersonationScope::Nobody => return Ok(Err("the client may not impersonate")),
            ImpersonationScope::AllUsers => true,
            ImpersonationScope::Organizations(orgs) => {
                let mut member = false;
                for org in orgs {
                    if self
                        .store()
                        .get_membership(ctx.realm.id, *org, user, false)
                        .await?
                        .is_some()
                    {
                        member = true;
                        break;
                    }
                }
                member
            }
        };
        if !allowed {
            return Ok(Err("the client may not impersonate this user"));
        }
        if self.is_admin_user(ctx, user).await? {
            return Ok(Err("administrators cannot be impersonated"));
        }
        Ok(Ok(()))
    }
}
