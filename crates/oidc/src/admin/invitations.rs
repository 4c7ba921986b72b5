//! Invitations into an organization: created, listed, resent (a new link) and revoked by
//! its administrators; the link is delivered to the invitee, who accepts it in the
//! browser (`crate::interaction::invitations`).

use super::orgs::after_id;
use super::{AdminPrincipal, not_found, page};
use crate::crypto::{jws, random_id};
use crate::interaction::invitations::{INVITATION_TYP, InvitationClaims};
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{Email, Invitation, InvitationId, InvitationStatus, OrgRoleName, UnixTime};

/// Invitations are valid for 7 days unless asked otherwise; at most 30.
pub const INVITATION_DEFAULT_SECS: i64 = 7 * 86_400;
pub const INVITATION_MAX_SECS: i64 = 30 * 86_400;

fn invitation_not_found() -> OAuthError {
    not_found("invitation")
}

impl Provider {
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
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
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
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
}
