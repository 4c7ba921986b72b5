//! Accepting an invitation in the browser: the invitee signs in (an account with the
//! invited e-mail exists) or creates an account for that e-mail, and joins the
//! organization. Self-registration exists only here, behind a valid invitation (ORG-11).

/// `typ` of invitation tokens: never accepted as any other token, nor any other as one.
pub const INVITATION_TYP: &str = "invitation+jwt";

use crate::crypto::ct_eq;
use crate::crypto::jws;
use crate::interaction::brand::Brand;
use crate::interaction::passwords::LoginError;
use crate::{OAuthError, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use tessera_domain::{Email, Invitation, InvitationId, InvitationStatus, OrgId, Organization};
use tessera_domain::{NewUser, UserId, Username};

/// What the invitation page shows: the same whether or not the address has an account
/// already, so the page tells nobody which addresses are the realm's users.
#[derive(Debug)]
pub struct InvitationView {
    pub org_name: String,
    pub email: String,
    /// The realm and the inviting organization, as the page shows them.
    pub brand: Brand,
}

/// Which of the page's two forms was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationAction {
    /// Sign in to the account with the invited address.
    SignIn,
    /// Create an account for the invited address.
    Create,
}

/// The invitee's answer.
pub struct InvitationForm<'a> {
    pub token: &'a str,
    /// The hidden CSRF field; must equal the browser's CSRF cookie.
    pub csrf_field: &'a str,
    pub csrf_cookie: &'a str,
    pub action: InvitationAction,
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
        brand: Brand,
    },
    Again {
        view: InvitationView,
        error: &'static str,
    },
}

/// The same words whether the address has no account or the password is wrong.
const SIGN_IN_FAILED: &str =
    "Signing in failed: check the password, or create an account if this address has none.";
/// The same words whether the username or the address is taken.
const CREATE_FAILED: &str = "That username is taken, or this address already has an account: choose another username, or sign in.";

impl Provider {
    fn invitation_view(ctx: &RealmCtx, open: &OpenInvitation) -> InvitationView {
        InvitationView {
            org_name: open.org.name.clone(),
            email: open.invitation.email.as_str().to_owned(),
            brand: Brand::of(&ctx.realm, Some(&open.org)),
        }
    }

    /// `GET …/invitations/accept?token=…`: a verified link shows the page.
    pub async fn invitation_page(
        &self,
        realm: &str,
        token: &str,
    ) -> Result<InvitationView, OAuthError> {
        let ctx = self.realm(realm).await?;
        let open = self.open_invitation(&ctx, token).await?;
        Ok(Self::invitation_view(&ctx, &open))
    }

    /// `POST …/invitations/accept`: signs in or creates the account, then joins.
    pub async fn answer_invitation(
        &self,
        realm: &str,
        f: InvitationForm<'_>,
    ) -> Result<InvitationOutcome, OAuthError> {
        if f.csrf_field.is_empty() || !ct_eq(f.csrf_field.as_bytes(), f.csrf_cookie.as_bytes()) {
            tracing::warn!(
                target: "tessera::security",
                event = "csrf_failure",
                realm = ?realm,
                form = "invitation",
                "an invitation form's CSRF field does not match its cookie"
            );
            return Err(OAuthError::invalid_request(
                "the form has expired; open the invitation link again",
            ));
        }
        let ctx = self.realm(realm).await?;
        let open = self.open_invitation(&ctx, f.token).await?;
        let again = |error| {
            Ok(InvitationOutcome::Again {
                view: Self::invitation_view(&ctx, &open),
                error,
            })
        };
        let inv = &open.invitation;
        let user: UserId = match f.action {
            InvitationAction::SignIn => {
                match self
                    .authenticate_user(&ctx, inv.email.as_str(), f.password, f.ip)
                    .await
                {
                    Ok(u) => u.id,
                    Err(LoginError::InvalidCredentials | LoginError::Disabled) => {
                        return again(SIGN_IN_FAILED);
                    }
                    Err(LoginError::RateLimited { .. }) => {
                        return again("Too many failed attempts. Wait a minute and try again.");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            InvitationAction::Create => {
                // A self-chosen name that looks like an address would take that address
                // out of the sign-in namespace for its real owner.
                let Some(username) = Username::parse(f.username)
                    .ok()
                    .filter(|_| !f.username.contains('@'))
                else {
                    return again("Choose a username of a-z, 0-9, '.', '_', '+' and '-'.");
                };
                let mut u = NewUser::new(username);
                u.email = Some(inv.email.clone());
                // Following the link proves the address only if it was e-mailed there.
                u.email_verified = inv.delivered;
                match self
                    .insert_account(&ctx, u, Some(f.password.to_owned()))
                    .await
                {
                    Ok(u) => u.id,
                    Err(OAuthError::Conflict(_)) => return again(CREATE_FAILED),
                    Err(OAuthError::InvalidRequest(_)) => {
                        return again("Choose a password of at least 8 characters.");
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        match self.accept_invitation(&ctx, &open, user).await {
            Ok(()) => Ok(InvitationOutcome::Joined {
                org_name: open.org.name.clone(),
                brand: Brand::of(&ctx.realm, Some(&open.org)),
            }),
            Err(e) => {
                // Lost a race for the link: the account made for it goes too.
                if f.action == InvitationAction::Create {
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
