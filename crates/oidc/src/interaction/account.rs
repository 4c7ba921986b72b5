//! The account page: a person's own profile, password, e-mail address, sessions, linked
//! providers and organizations. The person is whoever the realm's browser session (the
//! authorization endpoint's) names; a browser without one signs in through the built-in
//! client [`ACCOUNT_CLIENT_ID`] and comes back. Forms carry a token bound to that
//! session; every change is the person's own and only theirs.

use super::brand::Brand;
use super::builtin_client::PersonPages;
use super::passwords::LoginError;
use crate::accounts::validate_password;
use crate::crypto::ct_eq;
use crate::{OAuthError, Provider, RealmCtx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::net::IpAddr;
use std::sync::Arc;
use tessera_domain::{
    ACCOUNT_CLIENT_ID, CONSOLE_CLIENT_ID, ClientUuid, DEVICE_CLIENT_ID, Email, FederatedIdentity,
    GrantId, IdpAlias, Membership, NewUser, OrgRoleName, Session, SessionId, User,
};

const CSRF_PURPOSE: &str = "account-csrf";

/// The signed-in person of an account page request.
pub struct Person {
    pub ctx: Arc<RealmCtx>,
    pub session: Session,
    pub user: User,
}

/// One of the person's browser sessions.
pub struct SessionRow {
    pub id: String,
    pub started: i64,
    pub last_seen: i64,
    pub current: bool,
    /// Signed in through an upstream provider.
    pub upstream: bool,
}

/// An application that may act for the person (a live grant).
pub struct GrantRow {
    pub id: String,
    pub client: String,
    pub since: i64,
    /// It outlives the sessions (`offline_access`).
    pub offline: bool,
}

/// A CIBA request waiting for the person's decision.
pub struct RequestRow {
    pub id: String,
    pub client: String,
    pub binding_message: Option<String>,
    pub expires: i64,
}

/// What the account page shows.
pub struct AccountView {
    pub brand: Brand,
    pub user: User,
    pub has_password: bool,
    pub sessions: Vec<SessionRow>,
    pub grants: Vec<GrantRow>,
    pub links: Vec<FederatedIdentity>,
    pub orgs: Vec<Membership>,
    pub sends_mail: bool,
    /// Requests from applications waiting for the person (CIBA).
    pub requests: Vec<RequestRow>,
}

impl Provider {
    /// The realm's logout page for the account page's client, back to the account page.
    pub fn account_logout_url(&self, realm: &str) -> String {
        let back = format!("{}{}", self.public_url, PersonPages::Account.home(realm));
        format!(
            "/realms/{realm}/protocol/openid-connect/logout?client_id={ACCOUNT_CLIENT_ID}\
             &post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
        )
    }

    /// The person the browser's session token names in this realm, if live and enabled.
    pub async fn account_person(
        &self,
        realm: &str,
        session_token: Option<&str>,
    ) -> Result<Option<Person>, OAuthError> {
        let ctx = self.realm(realm).await?;
        let Some(session) = self.live_session(&ctx, session_token).await? else {
            return Ok(None);
        };
        let user = match self.store().get_user(ctx.realm.id, session.user_id).await {
            Ok(u) if u.enabled => u,
            _ => return Ok(None),
        };
        Ok(Some(Person { ctx, session, user }))
    }

    /// The token the account page's forms carry: bound to the session, so it is known
    /// only to pages this session was shown.
    pub fn account_csrf(&self, p: &Person) -> String {
        URL_SAFE_NO_PAD.encode(
            self.master
                .subkey(CSRF_PURPOSE)
                .tag(p.session.id.0.as_bytes()),
        )
    }

    pub fn account_csrf_ok(&self, p: &Person, sent: Option<&str>) -> bool {
        sent.is_some_and(|t| ct_eq(t.as_bytes(), self.account_csrf(p).as_bytes()))
    }

    async fn has_password(&self, p: &Person) -> Result<bool, OAuthError> {
        Ok(self
            .store()
            .find_user_credentials(p.ctx.realm.id, p.user.username.as_str())
            .await?
            .is_some_and(|(u, h)| u.id == p.user.id && h.is_some()))
    }

    pub async fn account_view(&self, p: &Person) -> Result<AccountView, OAuthError> {
        let realm = p.ctx.realm.id;
        let sessions = self
            .store()
            .list_user_sessions(realm, p.user.id, self.clock().now(), 50)
            .await?
            .into_iter()
            .map(|s| SessionRow {
                id: s.id.0.to_string(),
                started: s.auth_time.0,
                last_seen: s.last_seen.0,
                current: s.id == p.session.id,
                upstream: s.upstream.is_some(),
            })
            .collect();
        Ok(AccountView {
            brand: Brand::of(&p.ctx.realm, None),
            user: p.user.clone(),
            has_password: self.has_password(p).await?,
            sessions,
            grants: self.grant_rows(p).await?,
            links: self.store().list_user_links(realm, p.user.id).await?,
            orgs: self
                .store()
                .list_user_memberships(realm, p.user.id, false)
                .await?,
            sends_mail: self.realm_sends_mail(realm).await?,
            requests: self.request_rows(p).await?,
        })
    }

    /// The person's waiting CIBA requests, newest first (at most ten wait at once).
    async fn request_rows(&self, p: &Person) -> Result<Vec<RequestRow>, OAuthError> {
        let waiting = self
            .store()
            .list_pending_approvals_named(p.ctx.realm.id, Some(p.user.id), self.clock().now(), 20)
            .await?;
        Ok(waiting
            .into_iter()
            .map(|w| RequestRow {
                id: w.request.id.to_string(),
                client: w.client_name,
                binding_message: w.request.binding_message,
                expires: w.request.expires_at.0,
            })
            .collect())
    }

    /// The person's live grants by application, without the built-in clients' (the
    /// pages' own sign-ins). One statement, and one per distinct application (at most 50).
    async fn grant_rows(&self, p: &Person) -> Result<Vec<GrantRow>, OAuthError> {
        let realm = p.ctx.realm.id;
        let grants = self
            .store()
            .list_user_grants(realm, p.user.id, self.clock().now(), 50)
            .await?;
        let mut names: Vec<(ClientUuid, Option<String>)> = Vec::new();
        let mut rows = Vec::new();
        for g in grants {
            let name = match names.iter().find(|(c, _)| *c == g.client) {
                Some((_, n)) => n.clone(),
                None => {
                    let n = match self.store().get_client(realm, g.client).await {
                        Ok(c)
                            if ![ACCOUNT_CLIENT_ID, CONSOLE_CLIENT_ID, DEVICE_CLIENT_ID]
                                .contains(&c.client_id.as_str()) =>
                        {
                            Some(c.name)
                        }
                        _ => None,
                    };
                    names.push((g.client, n.clone()));
                    n
                }
            };
            if let Some(client) = name {
                rows.push(GrantRow {
                    id: g.id.0.to_string(),
                    client,
                    since: g.created_at.0,
                    offline: g.offline,
                });
            }
        }
        Ok(rows)
    }

    /// Revokes one of the person's grants: that application's tokens stop working.
    pub async fn account_revoke_grant(&self, p: &Person, id: &str) -> Result<(), OAuthError> {
        let gone = || OAuthError::NotFound("that application has no access already".into());
        let id = uuid::Uuid::parse_str(id).map_err(|_| gone())?;
        let realm = p.ctx.realm.id;
        match self.store().get_grant(realm, GrantId(id)).await? {
            Some(g) if g.user_id == p.user.id => Ok(self
                .store()
                .revoke_grant(realm, g.id, self.clock().now())
                .await?),
            _ => Err(gone()),
        }
    }

    /// Changes the person's given and family names (empty: none).
    pub async fn account_profile(
        &self,
        p: &Person,
        given: &str,
        family: &str,
    ) -> Result<(), OAuthError> {
        let name = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut u = NewUser::from(&p.user);
        u.given_name = name(given);
        u.family_name = name(family);
        crate::accounts::validate_user(&u)?;
        self.store()
            .update_user(p.ctx.realm.id, p.user.id, &u)
            .await?;
        Ok(())
    }

    /// Changes the password: the current one is checked as a sign-in is (its failures
    /// count against the same limits), the new one hashed on the bounded pool; every
    /// other session of the person ends.
    pub async fn account_password(
        &self,
        p: &Person,
        current: &str,
        new: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        validate_password(new)?;
        self.check_current_password(p, current, client_ip).await?;
        let phc = self
            .passwords
            .hash(new, p.ctx.realm.password_params.unwrap_or_default())
            .await?;
        self.store()
            .set_user_password_hash(p.ctx.realm.id, p.user.id, Some(phc))
            .await?;
        // Whoever knew the old password keeps nothing: every other session, every grant
        // (offline ones too) and every console session end; this browser stays signed in.
        self.end_user_sessions(&p.ctx, p.user.id, Some(p.session.id), true)
            .await?;
        self.security_event(
            p.ctx.realm.id,
            "password_changed",
            p.user.id.to_string(),
            "password changed on the account page".into(),
            client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        )
        .await;
        Ok(())
    }

    /// The person's current password, checked as a sign-in is: its failures count
    /// against the same limits, so the page is no way around them.
    async fn check_current_password(
        &self,
        p: &Person,
        current: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        let checked = self
            .authenticate_user(&p.ctx, p.user.username.as_str(), current, client_ip)
            .await;
        match checked {
            Ok(u) if u.id == p.user.id => Ok(()),
            Ok(_) | Err(LoginError::InvalidCredentials | LoginError::Disabled) => Err(
                OAuthError::invalid_request("the current password is not right"),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Mails a link to a new address; it becomes the person's when the link is opened.
    /// A person with a password confirms it first: an address is the way to a new
    /// password, so a borrowed session must not be enough to move it.
    pub async fn account_email(
        &self,
        p: &Person,
        new: &str,
        current_password: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        let new = Email::parse(new.trim())
            .map_err(|_| OAuthError::invalid_request("that is not an e-mail address"))?;
        if self.has_password(p).await? {
            self.check_current_password(p, current_password, client_ip)
                .await?;
        }
        self.request_email_change(&p.ctx, &p.user, &new).await
    }

    /// Mails a link that verifies the person's current address.
    pub async fn account_verify_email(&self, p: &Person) -> Result<(), OAuthError> {
        self.send_verification(&p.ctx, &p.user).await
    }

    /// Ends one of the person's sessions (this one too, if named).
    pub async fn account_end_session(&self, p: &Person, id: &str) -> Result<(), OAuthError> {
        let gone = || OAuthError::NotFound("that session has ended already".into());
        let id = uuid::Uuid::parse_str(id).map_err(|_| gone())?;
        let sessions = self
            .store()
            .list_user_sessions(p.ctx.realm.id, p.user.id, self.clock().now(), 1000)
            .await?;
        let s = sessions
            .iter()
            .find(|s| s.id == SessionId(id))
            .ok_or_else(gone)?;
        self.end_session(p.ctx.realm.name.as_str(), s).await
    }

    /// Ends every session of the person, this one included, and revokes every grant.
    pub async fn account_sign_out_everywhere(&self, p: &Person) -> Result<usize, OAuthError> {
        self.end_user_sessions(&p.ctx, p.user.id, None, true).await
    }

    /// Unlinks the person from their account at a provider, unless it is their last way
    /// to sign in (no password, no other link).
    pub async fn account_unlink(
        &self,
        p: &Person,
        alias: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        let gone = || OAuthError::NotFound("no such linked provider".into());
        let alias = IdpAlias::parse(alias).map_err(|_| gone())?;
        let realm = p.ctx.realm.id;
        let links = self.store().list_user_links(realm, p.user.id).await?;
        let link = links.iter().find(|l| l.alias == alias).ok_or_else(gone)?;
        if links.len() < 2 && !self.has_password(p).await? {
            return Err(OAuthError::Conflict(
                "this provider is your only way to sign in; it stays linked".into(),
            ));
        }
        self.store()
            .delete_link(realm, p.user.id, link.idp_id)
            .await
            .map_err(|_| gone())?;
        self.security_event(
            realm,
            "idp_unlinked",
            p.user.id.to_string(),
            format!("unlinked from provider {alias} on the account page"),
            client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        )
        .await;
        Ok(())
    }

    /// Leaves an organization, unless the person is its last administrator.
    pub async fn account_leave_org(
        &self,
        p: &Person,
        alias: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        let realm = p.ctx.realm.id;
        let m = self
            .store()
            .list_user_memberships(realm, p.user.id, false)
            .await?
            .into_iter()
            .find(|m| m.alias.as_str() == alias)
            .ok_or_else(|| OAuthError::NotFound("you are not a member of it".into()))?;
        // An account the organization manages (its own provider made it) is the
        // organization's: leaving would take it out of the organization's hands.
        if m.managed {
            return Err(OAuthError::Conflict(
                "your account belongs to this organization; its administrators can remove it"
                    .into(),
            ));
        }
        let admin = m.roles.iter().any(|r| r.as_str() == OrgRoleName::ADMIN);
        self.store()
            .remove_member(
                realm,
                m.org_id,
                p.user.id,
                admin.then_some(&crate::accounts::org_admin_role()),
            )
            .await
            .map_err(crate::accounts::keeping_an_admin)?;
        self.security_event(
            realm,
            "org_left",
            p.user.id.to_string(),
            format!("left organization {} on the account page", m.alias.as_str()),
            client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        )
        .await;
        Ok(())
    }
}
