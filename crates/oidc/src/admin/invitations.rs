//! Invitations into an organization: created, listed, resent (a new link) and revoked by
//! its administrators; the link is delivered to the invitee, who accepts it in the
//! browser (`crate::interaction::invitations`).

use super::orgs::after_id;
use super::{AdminPrincipal, not_found, page};
use crate::crypto::{jws, random_id};
use crate::interaction::invitations::{INVITATION_TYP, InvitationClaims};
use crate::mail::Mail;
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{
    Email, Invitation, InvitationId, InvitationStatus, OrgId, OrgRoleName, RealmId, UnixTime,
};

/// Invitations are valid for 7 days unless asked otherwise; at most 30.
pub const INVITATION_DEFAULT_SECS: i64 = 7 * 86_400;
pub const INVITATION_MAX_SECS: i64 = 30 * 86_400;

fn invitation_not_found() -> OAuthError {
    not_found("invitation")
}

/// "7 days", "3 hours", "45 minutes".
fn validity(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 2 * 3_600 => (s / 3_600, "hours"),
        s => ((s / 60).max(1), "minutes"),
    };
    format!("{n} {unit}")
}

/// How an invitation's link reaches the invitee.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// E-mailed to the invited address: following it proves the address.
    Mail,
    /// Handed to the realm administrator who asked (the realm sends no e-mail): it
    /// proves nothing about the address, so it never verifies it.
    HandOver,
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

    /// E-mail when the realm can send it; otherwise only a realm administrator may take
    /// the link. An organization's administrator never sees a link: they could accept it
    /// themselves and own an account under someone else's address.
    async fn delivery(
        &self,
        ctx: &RealmCtx,
        caller: &AdminPrincipal,
    ) -> Result<Delivery, OAuthError> {
        if self.realm_sends_mail(ctx.realm.id).await? {
            return Ok(Delivery::Mail);
        }
        if caller.manages_realm(ctx.realm.id) {
            return Ok(Delivery::HandOver);
        }
        Err(OAuthError::Conflict(
            "this realm sends no e-mail (no SMTP server): a realm administrator must set one up, or invite"
                .into(),
        ))
    }

    /// Sends the link by e-mail, or returns it to hand over.
    async fn deliver(
        &self,
        ctx: &RealmCtx,
        inv: &Invitation,
        org_name: &str,
        how: Delivery,
    ) -> Result<Option<String>, OAuthError> {
        let link = self.invitation_link(ctx, inv)?;
        if how == Delivery::HandOver {
            return Ok(Some(link));
        }
        let mail = Mail {
            to: &inv.email,
            subject: format!("You are invited to join {org_name}"),
            body: format!(
                "You are invited to join {org_name}.\n\n\
                 Open this link to accept; it works once, and for {valid}:\n{link}\n\n\
                 If you did not expect this invitation, ignore this message.\n",
                valid = validity(inv.expires_at.0 - self.clock().now().0),
            ),
        };
        self.send_mail(ctx.realm.id, mail).await?;
        Ok(None)
    }

    /// Why a conditional change of a pending invitation changed nothing: it is gone, or
    /// no longer pending.
    async fn not_pending(&self, realm: RealmId, org: OrgId, id: InvitationId) -> OAuthError {
        match self.store().get_invitation(realm, org, id).await {
            Ok(Some(_)) => OAuthError::Conflict("the invitation is no longer pending".into()),
            Ok(None) => invitation_not_found(),
            Err(e) => e.into(),
        }
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

    /// Invites an e-mail address into an organization with roles. The link is e-mailed
    /// to the address; only a realm administrator of a realm without SMTP gets it back.
    pub async fn create_invitation(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        email: Email,
        roles: Vec<OrgRoleName>,
        lifetime_secs: Option<i64>,
    ) -> Result<(Invitation, Option<String>), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        self.role_ids(ctx.realm.id, &roles).await?;
        let offered: Vec<&OrgRoleName> = roles.iter().collect();
        self.check_grantable(caller, ctx.realm.id, org.id, &offered)
            .await?;
        let how = self.delivery(&ctx, caller).await?;
        let inv = Invitation {
            id: InvitationId::new_v7(),
            realm_id: ctx.realm.id,
            org_id: org.id,
            email,
            roles,
            status: InvitationStatus::Pending,
            jti: random_id(),
            delivered: how == Delivery::Mail,
            expires_at: self.invitation_expiry(lifetime_secs)?,
            created_at: self.clock().now(),
        };
        self.store().insert_invitation(&inv).await?;
        match self.deliver(&ctx, &inv, &org.name, how).await {
            Ok(link) => Ok((inv, link)),
            Err(e) => {
                // Undelivered: nobody can use it, so it should not look pending.
                self.store()
                    .revoke_invitation(ctx.realm.id, org.id, inv.id)
                    .await?;
                Err(e)
            }
        }
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

    /// A new link (and expiry) for a pending invitation, delivered like a new one;
    /// earlier links stop working.
    pub async fn resend_invitation(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        id: InvitationId,
        lifetime_secs: Option<i64>,
    ) -> Result<(Invitation, Option<String>), OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let how = self.delivery(&ctx, caller).await?;
        let jti = random_id();
        let expires_at = self.invitation_expiry(lifetime_secs)?;
        if !self
            .store()
            .renew_invitation(
                ctx.realm.id,
                org.id,
                id,
                &jti,
                how == Delivery::Mail,
                expires_at,
            )
            .await?
        {
            return Err(self.not_pending(ctx.realm.id, org.id, id).await);
        }
        let inv = self
            .store()
            .get_invitation(ctx.realm.id, org.id, id)
            .await?
            .ok_or_else(invitation_not_found)?;
        let link = self.deliver(&ctx, &inv, &org.name, how).await?;
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
        Err(self.not_pending(ctx.realm.id, org.id, id).await)
    }
}
