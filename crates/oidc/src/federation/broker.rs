//! A sign-in through an upstream provider. The login page's button (or `kc_idp_hint`, or
//! an address under an organization's redirecting domain) sends the browser upstream with
//! `state`, `nonce` and PKCE; the pending request waits in the database under the hash of
//! `state`, sealed and bound to this browser's CSRF cookie, and the one callback that
//! brings that `state` back takes it. Then: the code exchange and ID token (`upstream`),
//! the provider's rules (enabled, required claims, organization domains), and which local
//! user this is — never an existing account by e-mail alone (`link`).

use super::upstream::{AuthorizationParams, UpstreamIdentity};
use crate::authorize::AuthorizeRequest;
use crate::crypto::{ct_eq, random_token, sha256};
use crate::interaction::code_flow::{Browser, LoginOption, NewSession, Step, error_for};
use crate::{OAuthError, Params, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tessera_domain::{
    DomainName, Email, FederatedIdentity, IdentityProvider, IdpId, NewUser, OrgRoleId, OrgRoleName,
    UpstreamLogin, User, UserId, Username,
};
use tessera_storage::{ManagedMembership, StoreError};

/// How long a person may take at the upstream.
const PENDING_LIFETIME_SECS: i64 = 15 * 60;
const STATE_PURPOSE: &str = "broker-state";

/// The request waiting for the upstream's answer.
#[derive(Serialize, Deserialize)]
struct Pending {
    req: AuthorizeRequest,
    nonce: String,
    verifier: String,
    csrf: String,
}

fn pending_aad(ctx: &RealmCtx, idp: IdpId) -> Vec<u8> {
    format!("tessera-broker|{}|{idp}", ctx.realm.id).into_bytes()
}

pub(crate) fn broker_failure(code: &'static str, desc: &'static str) -> OAuthError {
    OAuthError::Broker {
        code,
        status: 400,
        desc: desc.into(),
    }
}

fn expired() -> OAuthError {
    broker_failure(
        "invalid_state",
        "this sign-in has expired or was already used; start again from the application",
    )
}

impl Provider {
    /// The login page's upstream providers: every enabled one, hidden ones marked.
    pub(crate) async fn login_options(
        &self,
        ctx: &RealmCtx,
    ) -> Result<Vec<LoginOption>, OAuthError> {
        let mut out = Vec::new();
        for p in self.realm_idps(ctx).await?.iter() {
            let s = &p.settings;
            if !s.enabled || s.token_only() {
                continue;
            }
            let org_name = match s.org_id {
                Some(org) => match self.store.get_org(ctx.realm.id, org).await? {
                    Some(o) if o.enabled => Some(o.name),
                    _ => continue,
                },
                None => None,
            };
            out.push(LoginOption {
                alias: s.alias.to_string(),
                label: s
                    .display_name
                    .clone()
                    .unwrap_or_else(|| s.alias.to_string()),
                org_name,
                visible: !s.hide_on_login,
                origin: url::Url::parse(&s.issuer)
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The provider a request asks for without the login page: `kc_idp_hint` (ignored
    /// when it names no enabled provider), or the login hint's organization domain.
    pub(crate) async fn hinted_idp(
        &self,
        ctx: &RealmCtx,
        req: &AuthorizeRequest,
    ) -> Result<Option<Arc<IdentityProvider>>, OAuthError> {
        if let Some(alias) = &req.idp_hint {
            match self.enabled_idp(ctx, alias).await {
                Ok(p) => return Ok(Some(p)),
                Err(OAuthError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.idp_for_login_hint(ctx, req.login_hint.as_deref())
            .await
    }

    /// An organization's provider that takes over sign-ins for addresses under one of its
    /// domains, when the organization has verified that domain.
    pub(crate) async fn idp_for_login_hint(
        &self,
        ctx: &RealmCtx,
        hint: Option<&str>,
    ) -> Result<Option<Arc<IdentityProvider>>, OAuthError> {
        let Some(domain) = hint.and_then(DomainName::of_email) else {
            return Ok(None);
        };
        let idps = self.realm_idps(ctx).await?;
        let Some(p) = idps.iter().find(|p| {
            let s = &p.settings;
            s.enabled && s.redirect_on_domain && s.org_id.is_some() && s.domains.contains(&domain)
        }) else {
            return Ok(None);
        };
        let owner = self
            .store
            .find_org_by_domain(ctx.realm.id, &domain, true)
            .await?;
        Ok(owner
            .filter(|o| o.enabled && Some(o.id) == p.settings.org_id)
            .map(|_| p.clone()))
    }

    /// Sends the browser to the upstream: a fresh `state`, `nonce` and PKCE verifier; the
    /// request waits in the database under the hash of `state`.
    pub(crate) async fn broker_redirect(
        &self,
        ctx: &RealmCtx,
        req: &AuthorizeRequest,
        p: &IdentityProvider,
        b: &Browser<'_>,
        login_hint: Option<&str>,
    ) -> Result<Step, OAuthError> {
        let up = self.upstream(ctx, p).await?;
        let (state, nonce, verifier) = (random_token(), random_token(), random_token());
        let pending = Pending {
            req: req.clone(),
            nonce,
            verifier,
            csrf: b.csrf.to_owned(),
        };
        let sealed = self.master.subkey(STATE_PURPOSE).seal(
            &serde_json::to_vec(&pending).expect("pending request serializes"),
            &pending_aad(ctx, p.id),
        );
        let now = self.clock.now();
        self.store
            .insert_broker_state(
                ctx.realm.id,
                p.id,
                &sha256(state.as_bytes()),
                sealed,
                now.plus_secs(PENDING_LIFETIME_SECS),
            )
            .await?;
        let redirect_uri = self.broker_redirect_uri(&ctx.realm.name, &p.settings.alias);
        let location = self.upstream_authorize_url(
            &up,
            p,
            &AuthorizationParams {
                redirect_uri: &redirect_uri,
                state: &state,
                nonce: &pending.nonce,
                pkce_verifier: &pending.verifier,
                login_hint,
            },
        )?;
        Ok(Step::Upstream { location })
    }

    /// Handles the login page's upstream button.
    pub async fn start_broker(
        &self,
        realm: &str,
        sealed: &str,
        alias: &str,
        b: &Browser<'_>,
    ) -> Result<Step, OAuthError> {
        let (ctx, req, _client) = self.resume(realm, sealed, b).await?;
        let p = self.enabled_idp(&ctx, alias).await?;
        self.broker_redirect(&ctx, &req, &p, b, req.login_hint.as_deref())
            .await
    }

    /// Handles the upstream's redirect back to `…/broker/{alias}/endpoint`.
    pub async fn broker_callback(
        &self,
        realm: &str,
        alias: &str,
        params: &Params,
        b: &Browser<'_>,
    ) -> Result<(Step, Option<NewSession>), OAuthError> {
        let ctx = self.realm(realm).await?;
        // ISO-8: only this realm's providers, and only enabled ones (XID-1).
        let p = self.enabled_idp(&ctx, alias).await?;
        let state = params
            .get("state")
            .filter(|s| s.len() <= 512)
            .ok_or_else(expired)?;
        let now = self.clock.now();
        let sealed = self
            .store
            .take_broker_state(ctx.realm.id, p.id, &sha256(state.as_bytes()), now)
            .await?
            .ok_or_else(expired)?;
        let pending: Pending = self
            .master
            .subkey(STATE_PURPOSE)
            .open(&sealed, &pending_aad(&ctx, p.id))
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or_else(expired)?;
        if !ct_eq(pending.csrf.as_bytes(), b.csrf.as_bytes()) {
            tracing::warn!(
                target: "tessera::security",
                event = "csrf_failure",
                realm = %ctx.realm.name,
                form = "broker-callback",
                "an upstream answer came back to another browser"
            );
            return Err(expired());
        }
        let req = pending.req;
        let client = self.recheck_client(&ctx, &req).await?;
        if let Some(error) = params.get("error") {
            // Anyone can send this parameter: log a bounded, printable form of it.
            let error: String = error
                .chars()
                .filter(char::is_ascii_graphic)
                .take(64)
                .collect();
            tracing::info!(idp = %p.settings.alias, %error, "upstream refused the sign-in");
            let e = OAuthError::AccessDenied("the identity provider did not sign you in".into());
            return Ok((error_for(&ctx, &req, e), None));
        }
        let up = self.upstream(&ctx, &p).await?;
        // RFC 9207: a named issuer must be this provider's.
        match params.get("iss") {
            Some(iss) if iss != p.settings.issuer => {
                return Err(broker_failure(
                    "upstream_error",
                    "the answer came from another issuer",
                ));
            }
            None if up.sends_iss() => {
                return Err(broker_failure(
                    "upstream_error",
                    "the answer did not name its issuer",
                ));
            }
            _ => {}
        }
        let code = params
            .get("code")
            .filter(|c| c.len() <= 2048)
            .ok_or_else(|| {
                broker_failure("upstream_error", "the identity provider sent no code")
            })?;
        let redirect_uri = self.broker_redirect_uri(&ctx.realm.name, &p.settings.alias);
        let identity = self
            .upstream_identity(
                &up,
                &p,
                code,
                &AuthorizationParams {
                    redirect_uri: &redirect_uri,
                    state,
                    nonce: &pending.nonce,
                    pkce_verifier: &pending.verifier,
                    login_hint: None,
                },
            )
            .await?;
        self.check_provider_rules(&ctx, &p, &identity).await?;
        let upstream = UpstreamLogin {
            idp_id: p.id,
            subject: identity.subject.clone(),
            sid: identity.sid.clone(),
        };
        match self.upstream_user(&ctx, &p, &identity).await? {
            Resolved::User(user) => {
                self.signed_in(&ctx, &client, &req, b, &user, Some(upstream))
                    .await
            }
            Resolved::Link(existing) => Ok((
                self.link_step(&ctx, &client, req, &p, &identity, &existing, b)?,
                None,
            )),
        }
    }

    /// Required claims (XID-5) and an organization provider's domains, on every sign-in
    /// and every token accepted from the provider.
    pub(crate) async fn check_provider_rules(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        id: &UpstreamIdentity,
    ) -> Result<(), OAuthError> {
        for rc in &p.settings.required_claims {
            if id.id_claims.get(&rc.name).and_then(|v| v.as_str()) != Some(rc.value.as_str()) {
                tracing::warn!(
                    target: "tessera::security",
                    event = "upstream_claim_refused",
                    idp = %p.settings.alias,
                    claim = %rc.name,
                    "an upstream sign-in lacks a required claim"
                );
                return Err(OAuthError::Broker {
                    code: "access_denied",
                    status: 403,
                    desc: "your account at the identity provider may not sign in here".into(),
                });
            }
        }
        let Some(org) = p.settings.org_id else {
            return Ok(());
        };
        // A disabled organization's provider signs nobody in (its button is gone too).
        if !self.store.org_is_enabled(ctx.realm.id, org).await? {
            return Err(OAuthError::Broker {
                code: "access_denied",
                status: 403,
                desc: "this organization is disabled".into(),
            });
        }
        // Only verified domains vouch for addresses: a domain the organization merely
        // claims may be someone else's. The provider's own list (domains of the
        // organization) narrows them; when it names domains none of which is verified
        // (yet), nobody signs in through it.
        let verified = self.verified_domains(ctx.realm.id, org).await?;
        let allowed: Vec<DomainName> = if p.settings.domains.is_empty() {
            if verified.is_empty() {
                return Ok(());
            }
            verified
        } else {
            p.settings
                .domains
                .iter()
                .filter(|d| verified.contains(d))
                .cloned()
                .collect()
        };
        let domain = id.email.as_deref().and_then(DomainName::of_email);
        if !domain.is_some_and(|d| allowed.contains(&d)) {
            tracing::warn!(
                target: "tessera::security",
                event = "upstream_domain_refused",
                idp = %p.settings.alias,
                "an organization provider sent an address outside the organization's domains"
            );
            return Err(OAuthError::Broker {
                code: "access_denied",
                status: 403,
                desc: "this organization accepts only addresses under its own verified domains"
                    .into(),
            });
        }
        Ok(())
    }

    /// The local user of an upstream account: its link, or a new user, or (for a verified
    /// address of an existing account) the link step. An unverified address that is an
    /// existing account's is refused: it never links and never makes a second account.
    async fn upstream_user(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        id: &UpstreamIdentity,
    ) -> Result<Resolved, OAuthError> {
        let realm = ctx.realm.id;
        if let Some(user) = self.user_by_link(ctx, p, id).await? {
            return Ok(Resolved::User(user));
        }
        let email = match id.email.as_deref().map(Email::parse) {
            Some(Ok(e)) => Some(e),
            Some(Err(_)) if !p.settings.email_optional => {
                return Err(broker_failure(
                    "claim_missing",
                    "the identity provider sent an e-mail address that is not valid",
                ));
            }
            _ => None,
        };
        if let Some(e) = &email
            && let Some(existing) = self.store.find_user_by_email(realm, e).await?
        {
            if id.email_verified {
                return Ok(Resolved::Link(existing));
            }
            tracing::warn!(
                target: "tessera::security",
                event = "upstream_email_taken",
                idp = %p.settings.alias,
                user_id = %existing.id,
                "an unverified upstream address is a local account's; not linked"
            );
            return Err(broker_failure(
                "account_exists",
                "an account with this e-mail address exists already; sign in with it",
            ));
        }
        if !p.settings.create_users {
            return Err(OAuthError::Broker {
                code: "access_denied",
                status: 403,
                desc: "there is no account for you here; ask an administrator".into(),
            });
        }
        self.create_upstream_user(ctx, p, id, email)
            .await
            .map(Resolved::User)
    }

    /// The enabled user linked to the upstream account, its link refreshed and its
    /// membership of the provider's organization ensured; `None` when none is linked.
    pub(crate) async fn user_by_link(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        id: &UpstreamIdentity,
    ) -> Result<Option<User>, OAuthError> {
        let Some(link) = self.store.find_link(ctx.realm.id, p, &id.subject).await? else {
            return Ok(None);
        };
        let user = self.linked_user(ctx, p, &link).await?;
        let display = upstream_username(id);
        self.store
            .touch_link(
                &link,
                display.as_deref(),
                id.sid.as_deref(),
                self.clock.now(),
            )
            .await?;
        self.join_provider_org(ctx, p, &user).await?;
        Ok(Some(user))
    }

    /// A new local user for an upstream account, linked to it, and a managed member of
    /// the provider's organization. The address is verified only when the provider
    /// trusts the upstream's e-mails and the upstream vouched for this one.
    pub(crate) async fn create_upstream_user(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        id: &UpstreamIdentity,
        email: Option<Email>,
    ) -> Result<User, OAuthError> {
        let realm = ctx.realm.id;
        let now = self.clock.now();
        let display = upstream_username(id);
        let username = self.free_username(ctx, p, id).await?;
        let mut new = NewUser::new(username);
        new.email_verified = email.is_some() && p.settings.trust_email && id.email_verified;
        new.email = email;
        let text = |k: &str| {
            id.profile_claim(k)
                .map(|s| s.chars().take(100).collect::<String>())
        };
        new.given_name = text("given_name");
        new.family_name = text("family_name");
        let link = FederatedIdentity {
            realm_id: realm,
            idp_id: p.id,
            alias: p.settings.alias.clone(),
            user_id: UserId::new_v7(),
            subject: id.subject.clone(),
            username: display,
            upstream_sid: id.sid.clone(),
            created_at: now,
            last_login: now,
        };
        let roles = match p.settings.org_id {
            Some(_) => self.member_role(ctx).await?,
            None => Vec::new(),
        };
        let member = p.settings.org_id.map(|org_id| ManagedMembership {
            org_id,
            roles: &roles,
        });
        match self.store.insert_federated_user(&new, &link, member).await {
            Ok(user) => {
                tracing::info!(realm = %ctx.realm.name, idp = %p.settings.alias, user_id = %user.id, "user created by an upstream account");
                Ok(user)
            }
            // The same upstream account's other first sign-in won the race: use its user.
            Err(StoreError::Conflict) => match self.store.find_link(realm, p, &id.subject).await? {
                Some(l) => self.linked_user(ctx, p, &l).await,
                None => Err(broker_failure(
                    "account_exists",
                    "an account with this e-mail address exists already; sign in with it",
                )),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// The local user of a link; disabled users cannot sign in through a provider either
    /// (XID-8).
    pub(crate) async fn linked_user(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        link: &FederatedIdentity,
    ) -> Result<User, OAuthError> {
        let user = self.store.get_user(ctx.realm.id, link.user_id).await?;
        if user.enabled {
            return Ok(user);
        }
        tracing::warn!(
            target: "tessera::security",
            event = "login_failed",
            idp = %p.settings.alias,
            outcome = "disabled",
            user_id = %user.id,
            "a disabled user signed in upstream"
        );
        Err(OAuthError::Broker {
            code: "access_denied",
            status: 403,
            desc: "this account is disabled".into(),
        })
    }

    /// An organization's provider makes the people it signs in members (an existing user
    /// who linked their account joins as an unmanaged member).
    pub(crate) async fn join_provider_org(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        user: &User,
    ) -> Result<(), OAuthError> {
        let Some(org) = p.settings.org_id else {
            return Ok(());
        };
        if self
            .store
            .get_membership(ctx.realm.id, org, user.id, true)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let roles = self.member_role(ctx).await?;
        match self
            .store
            .add_member(ctx.realm.id, org, user.id, false, &roles, self.clock.now())
            .await
        {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The realm's `member` role template (none if an administrator deleted it): what an
    /// organization's provider gives the people it brings in.
    async fn member_role(&self, ctx: &RealmCtx) -> Result<Vec<OrgRoleId>, OAuthError> {
        Ok(self
            .store
            .find_org_roles(ctx.realm.id, &[OrgRoleName::parse(OrgRoleName::MEMBER)?])
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect())
    }

    /// `preferred_username` when it is a valid, free username; else one made from the
    /// provider and a digest of the upstream `sub` (stable for the same account).
    async fn free_username(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        id: &UpstreamIdentity,
    ) -> Result<Username, OAuthError> {
        if let Some(u) = id
            .profile_claim("preferred_username")
            .and_then(|s| Username::parse(s).ok())
            && self
                .store
                .find_user_by_username(ctx.realm.id, &u)
                .await?
                .is_none()
        {
            return Ok(u);
        }
        let digest: String = sha256(id.subject.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let alias: String = p.settings.alias.as_str().chars().take(40).collect();
        Ok(Username::parse(&format!("{alias}.{digest}"))?)
    }
}

/// How an upstream account maps to a local user.
enum Resolved {
    User(User),
    /// A local account with the upstream's verified address: prove it first.
    Link(User),
}

/// What the link list shows as the upstream user name.
fn upstream_username(id: &UpstreamIdentity) -> Option<String> {
    id.profile_claim("preferred_username")
        .map(str::to_owned)
        .or_else(|| id.email.clone())
        .map(|s| s.chars().take(255).collect())
}
