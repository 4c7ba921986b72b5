//! Accepting an invitation in the browser: the invitee signs in (an account with the
//! invited e-mail exists) or creates an account for that e-mail, and joins the
//! organization. Self-registration exists only here, behind a valid invitation (ORG-11).

/// `typ` of invitation tokens: never accepted as any other token, nor any other as one.
pub const INVITATION_TYP: &str = "invitation+jwt";

use crate::crypto::ct_eq;
use crate::crypto::jws;
use crate::interaction::passwords::LoginError;
use crate::{OAuthError, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use tessera_domain::{Email, Invitation, InvitationId, InvitationStatus, OrgId, Organization};
use tessera_domain::{NewUser, UserId, Username};

/// What the invitation page shows.
#[derive(Debug)]
pub struct InvitationView {
    pub org_name: String,
    pub email: String,
    /// An account with the invited e-mail exists: sign in; otherwise: create one.
    pub existing_account: bool,
}

/// The invitee's answer.
pub struct InvitationForm<'a> {
    pub token: &'a str,
    /// The hidden CSRF field; must equal the browser's CSRF cookie.
    pub csrf_field: &'a str,
    pub csrf_cookie: &'a str,
    /// For a new account; an existing account signs in with the invited e-mail.
    pub username: &'a str,
    pub password: &'a str,
    pub ip: Option<IpAddr>,
}

/// The result of the form: joined, or the page again with a message.
#[derive(Debug)]
pub enum InvitationOutcome {
    Joined {
        org_name: String,
    },
    Again {
        view: InvitationView,
        error: &'static str,
    },
}

impl Provider {
    async fn invitation_view(
        &self,
        realm: tessera_domain::RealmId,
        open: &OpenInvitation,
    ) -> Result<InvitationView, OAuthError> {
        let existing = self
            .store()
            .find_user_by_email(realm, &open.invitation.email)
            .await?;
        Ok(InvitationView {
            org_name: open.org.name.clone(),
            email: open.invitation.email.as_str().to_owned(),
            existing_account: existing.is_some(),
        })
    }

    /// `GET …/invitations/accept?token=…`: a verified link shows the page.
    pub async fn invitation_page(
        &self,
        realm: &str,
        token: &str,
    ) -> Result<InvitationView, OAuthError> {
        let ctx = self.realm(realm).await?;
        let open = self.open_invitation(&ctx, token).await?;
        self.invitation_view(ctx.realm.id, &open).await
    }

    /// `POST …/invitations/accept`: signs in or creates the account, then joins.
    pub async fn answer_invitation(
        &self,
        realm: &str,
        f: InvitationForm<'_>,
    ) -> Result<InvitationOutcome, OAuthError> {
        if f.csrf_field.is_empty() || !ct_eq(f.csrf_field.as_bytes(), f.csrf_cookie.as_bytes()) {
            return Err(OAuthError::invalid_request(
                "the form has expired; open the invitation link again",
            ));
        }
        let ctx = self.realm(realm).await?;
        let open = self.open_invitation(&ctx, f.token).await?;
        let view = self.invitation_view(ctx.realm.id, &open).await?;
        let again = |view, error| Ok(InvitationOutcome::Again { view, error });
        let inv = &open.invitation;
        let user: UserId = if view.existing_account {
            match self
                .authenticate_user(&ctx, inv.email.as_str(), f.password, f.ip)
                .await
            {
                Ok(u) => u.id,
                Err(LoginError::InvalidCredentials | LoginError::Disabled) => {
                    return again(view, "Invalid password.");
                }
                Err(LoginError::RateLimited { .. }) => {
                    return again(
                        view,
                        "Too many failed attempts. Wait a minute and try again.",
                    );
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            let Ok(username) = Username::parse(f.username) else {
                return again(
                    view,
                    "Choose a username of a-z, 0-9, '.', '_', '@', '+' and '-'.",
                );
            };
            let mut u = NewUser::new(username);
            // Following the link proves the address.
            u.email = Some(inv.email.clone());
            u.email_verified = true;
            match self
                .insert_account(&ctx, u, Some(f.password.to_owned()))
                .await
            {
                Ok(u) => u.id,
                Err(OAuthError::Conflict(_)) => {
                    return again(view, "That username is taken.");
                }
                Err(OAuthError::InvalidRequest(_)) => {
                    return again(view, "Choose a password of at least 8 characters.");
                }
                Err(e) => return Err(e),
            }
        };
        match self.accept_invitation(&ctx, &open, user).await {
            Ok(()) => Ok(InvitationOutcome::Joined {
                org_name: open.org.name,
            }),
            Err(e) => {
                // Lost a race for the link: the account made for it goes too.
                if !view.existing_account {
                    let _ = self.store().delete_user(ctx.realm.id, user).await;
                }
                Err(e)
            }
        }
    }
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

impl Provider {
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
        let roles: Vec<_> = self
            .store()
            .find_org_roles(ctx.realm.id, &inv.roles)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.id)
            .collect();
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
