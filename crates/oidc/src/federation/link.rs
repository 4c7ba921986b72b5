//! Linking an upstream account to an existing local account. A verified upstream address
//! equal to a local account's is not proof enough (the upstream may be careless, or
//! hostile): the person signs in with that account's password, then the link is made.
//! The pending link travels in the page, sealed, short-lived and bound to the browser.

use super::broker::broker_failure;
use super::upstream::UpstreamIdentity;
use crate::authorize::AuthorizeRequest;
use crate::crypto::ct_eq;
use crate::interaction::code_flow::{Browser, NewSession, Step};
use crate::interaction::passwords::LoginError;
use crate::{OAuthError, Provider, RealmCtx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tessera_domain::{
    Client, FederatedIdentity, IdentityProvider, IdpId, RealmId, UpstreamLogin, User, UserId,
};
use tessera_storage::StoreError;

const LINK_PURPOSE: &str = "broker-link";
const LINK_LIFETIME_SECS: i64 = 10 * 60;

#[derive(Serialize, Deserialize)]
struct PendingLink {
    req: AuthorizeRequest,
    idp: IdpId,
    subject: String,
    sid: Option<String>,
    username: Option<String>,
    user: UserId,
    email: String,
    csrf: String,
    exp: i64,
}

fn aad(realm: RealmId) -> Vec<u8> {
    format!("tessera-broker-link|{realm}").into_bytes()
}

fn expired() -> OAuthError {
    broker_failure(
        "invalid_state",
        "this sign-in has expired; start again from the application",
    )
}

impl Provider {
    /// The page that asks for the existing account's password.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn link_step(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        req: AuthorizeRequest,
        p: &IdentityProvider,
        id: &UpstreamIdentity,
        existing: &User,
        b: &Browser<'_>,
    ) -> Result<Step, OAuthError> {
        let email = existing
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default();
        let pending = PendingLink {
            req,
            idp: p.id,
            subject: id.subject.clone(),
            sid: id.sid.clone(),
            username: id.email.clone(),
            user: existing.id,
            email: email.clone(),
            csrf: b.csrf.to_owned(),
            exp: self.clock.now().0 + LINK_LIFETIME_SECS,
        };
        Ok(self.link_page(ctx, client, &pending, p, None))
    }

    fn link_page(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        pending: &PendingLink,
        p: &IdentityProvider,
        error: Option<&'static str>,
    ) -> Step {
        let sealed = self.master.subkey(LINK_PURPOSE).seal(
            &serde_json::to_vec(pending).expect("pending link serializes"),
            &aad(ctx.realm.id),
        );
        Step::LinkAccount {
            client_name: client.name.clone(),
            redirect_uri: pending.req.redirect_uri.clone(),
            pending: URL_SAFE_NO_PAD.encode(sealed),
            email: pending.email.clone(),
            provider: p
                .settings
                .display_name
                .clone()
                .unwrap_or_else(|| p.settings.alias.to_string()),
            brand: crate::interaction::brand::Brand::of(&ctx.realm, None),
            error,
        }
    }

    /// Handles the link page: the existing account's password, then the link and a session.
    pub async fn link_account(
        &self,
        realm: &str,
        pending: &str,
        password: &str,
        b: &Browser<'_>,
    ) -> Result<(Step, Option<NewSession>), OAuthError> {
        let ctx = self.realm(realm).await?;
        let pending: PendingLink = (pending.len() <= 16 * 1024)
            .then(|| URL_SAFE_NO_PAD.decode(pending).ok())
            .flatten()
            .and_then(|raw| {
                self.master
                    .subkey(LINK_PURPOSE)
                    .open(&raw, &aad(ctx.realm.id))
                    .ok()
            })
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(expired)?;
        if pending.exp <= self.clock.now().0 || !ct_eq(pending.csrf.as_bytes(), b.csrf.as_bytes()) {
            return Err(expired());
        }
        let client = self.recheck_client(&ctx, &pending.req).await?;
        let p = self
            .realm_idps(&ctx)
            .await?
            .iter()
            .find(|p| p.id == pending.idp && p.settings.enabled)
            .cloned()
            .ok_or_else(|| OAuthError::NotFound("no such identity provider".into()))?;
        let user = self.store.get_user(ctx.realm.id, pending.user).await?;
        // The account's own login name: the password proves this account, no other.
        let refused = match self
            .authenticate_user(&ctx, user.username.as_str(), password, b.ip)
            .await
        {
            Ok(u) if u.id == user.id => None,
            Ok(_) | Err(LoginError::InvalidCredentials | LoginError::Disabled) => {
                Some("The password is not right.")
            }
            Err(LoginError::RateLimited { .. }) => {
                Some("Too many failed attempts. Wait a minute and try again.")
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(why) = refused {
            return Ok((self.link_page(&ctx, &client, &pending, &p, Some(why)), None));
        }
        let proven = user;
        let now = self.clock.now();
        let link = FederatedIdentity {
            realm_id: ctx.realm.id,
            idp_id: p.id,
            alias: p.settings.alias.clone(),
            user_id: proven.id,
            subject: pending.subject.clone(),
            username: pending.username.clone(),
            upstream_sid: pending.sid.clone(),
            created_at: now,
            last_login: now,
        };
        match self.store.insert_link(&link).await {
            Ok(()) => {}
            // Linked meanwhile (another tab): fine when it is this very link.
            Err(StoreError::Conflict) => match self
                .store
                .find_link(ctx.realm.id, &p, &link.subject)
                .await?
            {
                Some(l) if l.user_id == proven.id => {}
                _ => {
                    return Err(broker_failure(
                        "account_exists",
                        "this account is linked to another account of the identity provider",
                    ));
                }
            },
            Err(e) => return Err(e.into()),
        }
        tracing::info!(
            target: "tessera::security",
            event = "upstream_account_linked",
            realm = %ctx.realm.name,
            idp = %p.settings.alias,
            user_id = %proven.id,
            "an upstream account was linked after the password step"
        );
        self.join_provider_org(&ctx, &p, &proven).await?;
        let upstream = UpstreamLogin {
            idp_id: p.id,
            subject: pending.subject,
            sid: pending.sid,
        };
        self.signed_in(&ctx, &client, &pending.req, b, &proven, Some(upstream))
            .await
    }
}
