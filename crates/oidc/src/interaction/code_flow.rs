//! The browser side of the authorization code flow: authorization request → session or
//! login page → consent when the client needs it → a single-use code back to the client.
//! Every step re-reads the client from the server; nothing is trusted from the browser
//! except the sealed request, which only this realm can open.

use crate::authorize::{self, AuthorizeError, AuthorizeRequest, ResponseMode};
use crate::crypto::{random_id, random_token, sha256};
use crate::interaction::brand::Brand;
use crate::interaction::passwords::LoginError;
use crate::interaction::sealed_request as state;
use crate::tokens::org_claims::OrgDecision;
use crate::{OAuthError, Params, Provider, RealmCtx};
use std::net::IpAddr;
use std::sync::Arc;
use tessera_domain::ADMIN_SCOPE;
use tessera_domain::{
    AuthorizationCode, Client, ClientId, Grant, GrantId, OrgScope, OrgSelection, Organization,
    ScopeSet, Session, SessionId, UpstreamLogin, User,
};

/// Authorization codes live one minute (RFC 6749 §4.1.2 recommends at most ten).
pub const CODE_LIFETIME_SECS: i64 = 60;

/// What the browser brings: its session cookie, its CSRF cookie value and its address.
pub struct Browser<'a> {
    pub session_token: Option<&'a str>,
    pub csrf: &'a str,
    pub ip: Option<IpAddr>,
}

/// The response to the client: a redirect (query) or an auto-submitted form (form_post).
#[derive(Debug)]
pub struct ClientResponse {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub params: Vec<(&'static str, String)>,
}

/// What the web layer shows or does next.
#[derive(Debug)]
pub enum Step {
    Login {
        client_name: String,
        /// Where the flow ends: the page's forms may lead there (CSP `form-action`).
        redirect_uri: String,
        sealed: String,
        login_hint: Option<String>,
        /// The realm, and the organization the login is for (`organization=`, or the
        /// hint's domain).
        brand: Brand,
        /// The realm's enabled upstream providers (a button for each visible one).
        providers: Vec<LoginOption>,
        error: Option<&'static str>,
    },
    /// Sign in at an upstream provider: the browser goes to this URL.
    Upstream {
        location: String,
    },
    /// The upstream account's verified e-mail is a local account's: its password proves
    /// the person owns it before the two are linked.
    LinkAccount {
        client_name: String,
        redirect_uri: String,
        pending: String,
        email: String,
        provider: String,
        brand: Brand,
        error: Option<&'static str>,
    },
    /// The user belongs to several organizations and the client asked for one.
    ChooseOrg {
        client_name: String,
        redirect_uri: String,
        sealed: String,
        /// `(alias, name)`, by alias.
        orgs: Vec<(String, String)>,
        brand: Brand,
    },
    Consent {
        client_name: String,
        /// The host of a client ID metadata document client's URL: who vouches for the name.
        client_host: Option<String>,
        redirect_uri: String,
        sealed: String,
        scopes: Vec<String>,
        /// `(name, identifier)` of each API the tokens will be for (RFC 8707 targets).
        apis: Vec<(String, String)>,
        /// Which organization the `organization` scope would tell the client about: its
        /// name, or `None` when no organization context is granted.
        organization: Option<OrgShown>,
        brand: Brand,
    },
    Respond(ClientResponse),
}

/// The organization context a consent page names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgShown {
    One(String),
    /// `organization:*`: every organization the user belongs to.
    All,
}

/// An upstream provider on the login page.
#[derive(Debug, Clone)]
pub struct LoginOption {
    pub alias: String,
    pub label: String,
    /// The organization whose provider it is.
    pub org_name: Option<String>,
    /// Shown as a button (hidden ones are reached by hint or domain only).
    pub visible: bool,
    /// The issuer's origin: the page's forms may lead there (CSP `form-action`).
    pub origin: String,
}

/// A session created by this request: the web layer sets it as a cookie.
pub struct NewSession {
    pub token: String,
    pub max_age_secs: i64,
}

fn respond_error(
    ctx: &RealmCtx,
    redirect_uri: String,
    response_mode: ResponseMode,
    state: Option<String>,
    e: &OAuthError,
) -> Step {
    let mut params = vec![
        ("error", e.code().to_owned()),
        ("error_description", e.description()),
    ];
    if let Some(s) = state {
        params.push(("state", s));
    }
    // RFC 9207: every authorization response names its issuer.
    params.push(("iss", ctx.issuer.clone()));
    Step::Respond(ClientResponse {
        redirect_uri,
        response_mode,
        params,
    })
}

pub(crate) fn error_for(ctx: &RealmCtx, req: &AuthorizeRequest, e: OAuthError) -> Step {
    respond_error(
        ctx,
        req.redirect_uri.clone(),
        req.response_mode,
        req.state.clone(),
        &e,
    )
}

impl Provider {
    pub(crate) fn state_key(&self) -> crate::crypto::MasterKey {
        self.master.subkey(state::PURPOSE)
    }

    /// Handles `GET|POST …/auth`. `Err` means: show an error page, do not redirect.
    pub async fn authorize(
        &self,
        realm: &str,
        params: &Params,
        b: &Browser<'_>,
    ) -> Result<Step, OAuthError> {
        let ctx = self.realm(realm).await?;
        let client = match params.get("client_id").map(ClientId::parse) {
            Some(Ok(id)) => self.client(&ctx, &id).await?,
            _ => None,
        };
        let req = match authorize::validate(params, client.as_deref()) {
            Ok(r) => r,
            Err(AuthorizeError::Page(e)) => return Err(e),
            Err(AuthorizeError::Redirect {
                redirect_uri,
                response_mode,
                state,
                error,
            }) => {
                return Ok(respond_error(
                    &ctx,
                    redirect_uri,
                    response_mode,
                    state,
                    &error,
                ));
            }
        };
        let client = client.expect("validate proved the client");
        let session = self.live_session(&ctx, b.session_token).await?;
        self.decide(&ctx, &client, &req, b, session, false).await
    }

    /// Handles the login form. Bad credentials show the login page again.
    pub async fn login(
        &self,
        realm: &str,
        sealed: &str,
        username: &str,
        password: &str,
        b: &Browser<'_>,
    ) -> Result<(Step, Option<NewSession>), OAuthError> {
        let (ctx, req, client) = self.resume(realm, sealed, b).await?;
        // An address under a domain whose organization signs in elsewhere goes there; the
        // password typed here is not checked (it was never ours to see).
        if let Some(p) = self.idp_for_login_hint(&ctx, Some(username)).await? {
            return Ok((
                self.broker_redirect(&ctx, &req, &p, b, Some(username))
                    .await?,
                None,
            ));
        }
        let brand = Brand::of(&ctx.realm, self.request_org(&ctx, &req).await?.as_ref());
        let providers = self.login_options(&ctx).await?;
        let again = |error: &'static str| Step::Login {
            client_name: client.name.clone(),
            redirect_uri: req.redirect_uri.clone(),
            sealed: sealed.to_owned(),
            login_hint: Some(username.to_owned()),
            brand: brand.clone(),
            providers: providers.clone(),
            error: Some(error),
        };
        let user = match self.authenticate_user(&ctx, username, password, b.ip).await {
            Ok(u) => u,
            Err(LoginError::InvalidCredentials | LoginError::Disabled) => {
                return Ok((again("Invalid username or password."), None));
            }
            Err(LoginError::RateLimited { .. }) => {
                return Ok((
                    again("Too many failed attempts. Wait a minute and try again."),
                    None,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        self.signed_in(&ctx, &client, &req, b, &user, None).await
    }

    /// A person proved who they are (password or upstream provider): a new session, then
    /// the rest of the flow (consent, organization, code).
    pub(crate) async fn signed_in(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        req: &AuthorizeRequest,
        b: &Browser<'_>,
        user: &User,
        upstream: Option<UpstreamLogin>,
    ) -> Result<(Step, Option<NewSession>), OAuthError> {
        let (session, token) = self.start_session(ctx, user, upstream).await?;
        let step = self
            .decide(ctx, client, req, b, Some(session), true)
            .await?;
        let max_age_secs = ctx.realm.lifetimes.session_max_secs;
        Ok((
            step,
            Some(NewSession {
                token,
                max_age_secs,
            }),
        ))
    }

    /// Handles the consent form.
    pub async fn consent(
        &self,
        realm: &str,
        sealed: &str,
        approve: bool,
        b: &Browser<'_>,
    ) -> Result<Step, OAuthError> {
        let (ctx, req, client) = self.resume(realm, sealed, b).await?;
        let Some(session) = self.live_session(&ctx, b.session_token).await? else {
            return self.decide(&ctx, &client, &req, b, None, false).await;
        };
        if !approve {
            return Ok(error_for(
                &ctx,
                &req,
                OAuthError::AccessDenied("the user denied the request".into()),
            ));
        }
        self.store()
            .save_consent(
                ctx.realm.id,
                session.user_id,
                client.id,
                &req.scopes(),
                self.clock().now(),
            )
            .await?;
        let user = self.store().get_user(ctx.realm.id, session.user_id).await?;
        let org = match self
            .resolve_org(&ctx, &client, &req, &user, &session, b)
            .await?
        {
            Ok(org) => org,
            Err(step) => return Ok(step),
        };
        self.issue_code(&ctx, &client, &req, &user, &session, org)
            .await
    }

    /// The client, re-read: still enabled, still owning the redirect URI and the scopes.
    /// A page's answer resumes the flow: the sealed request, opened for this realm and
    /// this browser, and its client as it is now.
    pub(crate) async fn resume(
        &self,
        realm: &str,
        sealed: &str,
        b: &Browser<'_>,
    ) -> Result<(Arc<RealmCtx>, AuthorizeRequest, Arc<Client>), OAuthError> {
        let ctx = self.realm(realm).await?;
        let req = state::open(
            &self.state_key(),
            ctx.realm.id,
            sealed,
            Some(b.csrf),
            self.clock().now(),
        )?;
        let client = self.recheck_client(&ctx, &req).await?;
        Ok((ctx, req, client))
    }

    pub(crate) async fn recheck_client(
        &self,
        ctx: &RealmCtx,
        req: &AuthorizeRequest,
    ) -> Result<Arc<Client>, OAuthError> {
        let gone = || OAuthError::invalid_request("the client is no longer available");
        let id = ClientId::parse(&req.client_id).map_err(|_| gone())?;
        let client = self
            .client(ctx, &id)
            .await?
            .filter(|c| c.enabled)
            .ok_or_else(gone)?;
        let redirect_ok = client
            .redirect_uris
            .iter()
            .any(|r| authorize::redirect_uri_matches(r.as_str(), &req.redirect_uri));
        if !redirect_ok || client.first_disallowed(&req.scopes()).is_some() {
            return Err(gone());
        }
        Ok(client)
    }

    /// The browser's session, if live: not ended, within the absolute and idle limits.
    pub async fn live_session(
        &self,
        ctx: &RealmCtx,
        token: Option<&str>,
    ) -> Result<Option<Session>, OAuthError> {
        let Some(token) = token.filter(|t| t.len() <= 64) else {
            return Ok(None);
        };
        let now = self.clock().now();
        let session = self
            .store()
            .find_session_by_token(ctx.realm.id, &sha256(token.as_bytes()))
            .await?;
        Ok(session.filter(|s| {
            s.expires_at > now && s.last_seen.plus_secs(ctx.realm.lifetimes.session_idle_secs) > now
        }))
    }

    async fn start_session(
        &self,
        ctx: &RealmCtx,
        user: &User,
        upstream: Option<UpstreamLogin>,
    ) -> Result<(Session, String), OAuthError> {
        let now = self.clock().now();
        let token = random_token();
        let session = Session {
            id: SessionId::new_v7(),
            realm_id: ctx.realm.id,
            sid: random_id(),
            user_id: user.id,
            auth_time: now,
            last_seen: now,
            expires_at: now.plus_secs(ctx.realm.lifetimes.session_max_secs),
            ended_at: None,
            upstream,
        };
        self.store()
            .insert_session(&session, &sha256(token.as_bytes()))
            .await?;
        Ok((session, token))
    }

    /// Login, consent or code, by `prompt`, `max_age`, the session and remembered consent.
    pub(crate) async fn decide(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        req: &AuthorizeRequest,
        b: &Browser<'_>,
        session: Option<Session>,
        fresh_login: bool,
    ) -> Result<Step, OAuthError> {
        let now = self.clock().now();
        // max_age=0 means prompt=login (OIDC Core §3.1.2.1).
        let too_old = |s: &Session| {
            req.max_age
                .is_some_and(|m| m == 0 || s.auth_time.plus_secs(m) < now)
        };
        let session = session.filter(|s| fresh_login || !(req.prompt.login || too_old(s)));
        let user = match &session {
            Some(s) => self
                .store()
                .get_user(ctx.realm.id, s.user_id)
                .await
                .ok()
                .filter(|u| u.enabled),
            None => None,
        };
        let (Some(session), Some(user)) = (session, user) else {
            if req.prompt.none {
                return Ok(error_for(ctx, req, OAuthError::LoginRequired));
            }
            // `kc_idp_hint`, or a hint under an organization's redirecting domain, skips the page.
            if let Some(p) = self.hinted_idp(ctx, req).await? {
                return self
                    .broker_redirect(ctx, req, &p, b, req.login_hint.as_deref())
                    .await;
            }
            let sealed = state::seal(&self.state_key(), ctx.realm.id, req, b.csrf, now);
            return Ok(Step::Login {
                client_name: client.name.clone(),
                redirect_uri: req.redirect_uri.clone(),
                sealed,
                login_hint: req.login_hint.clone(),
                brand: Brand::of(&ctx.realm, self.request_org(ctx, req).await?.as_ref()),
                providers: self.login_options(ctx).await?,
                error: None,
            });
        };
        // Organization context before consent, so the consent covers what the code carries.
        let org = match self
            .resolve_org(ctx, client, req, &user, &session, b)
            .await?
        {
            Ok(org) => org,
            Err(step) => return Ok(step),
        };
        // Administering organizations is never granted silently, even by a first-party
        // console: the person says yes to it once (remembered like any consent).
        if client.oidc.consent_required || req.scopes().contains(ADMIN_SCOPE) {
            let remembered = self
                .store()
                .find_consent(ctx.realm.id, user.id, client.id)
                .await?;
            let covered = remembered.is_some_and(|r| req.scopes().is_subset(&r));
            if req.prompt.consent || !covered {
                if req.prompt.none {
                    return Ok(error_for(ctx, req, OAuthError::ConsentRequired));
                }
                let (organization, shown) = match org {
                    Some(OrgSelection::All) => (Some(OrgShown::All), None),
                    Some(OrgSelection::Chosen(id) | OrgSelection::Required(id)) => {
                        let o = self.store().get_org(ctx.realm.id, id).await?;
                        (o.as_ref().map(|o| OrgShown::One(o.name.clone())), o)
                    }
                    None => (None, None),
                };
                return Ok(Step::Consent {
                    client_name: client.name.clone(),
                    client_host: client
                        .client_id
                        .metadata_url()
                        .and_then(|u| u.host_str().map(str::to_owned)),
                    redirect_uri: req.redirect_uri.clone(),
                    sealed: state::seal(&self.state_key(), ctx.realm.id, req, b.csrf, now),
                    scopes: req.scopes().iter().map(|s| s.as_str().to_owned()).collect(),
                    apis: self.api_names(ctx, client, &req.targets).await?,
                    organization,
                    brand: Brand::of(&ctx.realm, shown.as_ref()),
                });
            }
        }
        if !fresh_login {
            self.store()
                .touch_session(ctx.realm.id, session.id, now)
                .await?;
        }
        self.issue_code(ctx, client, req, &user, &session, org)
            .await
    }

    /// The APIs a grant would reach, by the name of the client that serves each (a client
    /// id, or one of its resource URIs), else by identifier.
    pub(crate) async fn api_names(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        requested: &[String],
    ) -> Result<Vec<(String, String)>, OAuthError> {
        let mut out = Vec::new();
        let targets = crate::tokens::targets::Targets::of_request(vec![], requested, client)?;
        for t in targets.list().iter().cloned() {
            let by_id = match tessera_domain::ClientId::parse(&t) {
                Ok(id) => self.client(ctx, &id).await?.map(|c| c.name.clone()),
                Err(_) => None,
            };
            let name = match (by_id, tessera_domain::ResourceUri::parse(&t)) {
                (Some(n), _) => Some(n),
                (None, Ok(r)) => self
                    .store()
                    .find_client_by_resource_uri(ctx.realm.id, &r)
                    .await?
                    .map(|c| c.name),
                (None, Err(_)) => None,
            };
            out.push((name.unwrap_or_else(|| t.clone()), t));
        }
        Ok(out)
    }

    /// The organization a request is for: `organization=<alias>`, else the verified
    /// domain of an e-mail `login_hint`.
    async fn request_org(
        &self,
        ctx: &RealmCtx,
        req: &AuthorizeRequest,
    ) -> Result<Option<Organization>, OAuthError> {
        self.login_org(ctx, req.organization.as_deref(), req.login_hint.as_deref())
            .await
    }

    /// The organization context to grant, or the step to show instead: the chooser, or
    /// `access_denied` for an organization the user is not a member of (ORG-1).
    async fn resolve_org(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        req: &AuthorizeRequest,
        user: &User,
        session: &Session,
        b: &Browser<'_>,
    ) -> Result<Result<Option<OrgSelection>, Step>, OAuthError> {
        let scopes = req.scopes();
        let preselected = match (
            &req.org_choice,
            crate::tokens::org_claims::requested_org_scope(&scopes),
        ) {
            (Some(c), _) => Some(c.clone()),
            (None, Ok(Some(OrgScope::Any))) => self
                .request_org(ctx, req)
                .await?
                .map(|o| o.alias.to_string()),
            _ => None,
        };
        match self
            .decide_org(ctx, &scopes, user.id, preselected.as_deref())
            .await
        {
            Ok(OrgDecision::Grant(org)) => Ok(Ok(org)),
            Ok(OrgDecision::Choose(all)) => {
                if req.prompt.none {
                    return Ok(Err(error_for(ctx, req, OAuthError::InteractionRequired)));
                }
                let mut chooser = req.clone();
                chooser.chooser_sid = Some(session.sid.clone());
                let now = self.clock().now();
                Ok(Err(Step::ChooseOrg {
                    client_name: client.name.clone(),
                    redirect_uri: req.redirect_uri.clone(),
                    sealed: state::seal(&self.state_key(), ctx.realm.id, &chooser, b.csrf, now),
                    orgs: all
                        .into_iter()
                        .map(|m| (m.alias.to_string(), m.org_name))
                        .collect(),
                    brand: Brand::of(&ctx.realm, None),
                }))
            }
            Err(e @ (OAuthError::AccessDenied(_) | OAuthError::InvalidScope(_))) => {
                Ok(Err(error_for(ctx, req, e)))
            }
            Err(e) => Err(e),
        }
    }

    /// Handles the organization chooser: the pick is re-checked against the user's
    /// memberships, then the flow goes on (consent or code).
    pub async fn choose_org(
        &self,
        realm: &str,
        sealed: &str,
        alias: &str,
        b: &Browser<'_>,
    ) -> Result<Step, OAuthError> {
        let (ctx, mut req, client) = self.resume(realm, sealed, b).await?;
        let session = self.live_session(&ctx, b.session_token).await?;
        // Only the session that passed the login checks may answer the chooser.
        let Some(session) = session.filter(|s| req.chooser_sid.as_deref() == Some(&s.sid)) else {
            req.chooser_sid = None;
            return self.decide(&ctx, &client, &req, b, None, false).await;
        };
        req.chooser_sid = None;
        req.org_choice = Some(alias.to_owned());
        self.decide(&ctx, &client, &req, b, Some(session), true)
            .await
    }

    async fn issue_code(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        req: &AuthorizeRequest,
        user: &User,
        session: &Session,
        org: Option<OrgSelection>,
    ) -> Result<Step, OAuthError> {
        let now = self.clock().now();
        // Without organization context the organization scope is not granted.
        let scope: ScopeSet = match org {
            Some(_) => req.scopes(),
            None => crate::tokens::org_claims::without_org_scopes(&req.scopes()),
        };
        let grant = Grant {
            id: GrantId::new_v7(),
            realm_id: ctx.realm.id,
            client: client.id,
            user_id: user.id,
            session_id: Some(session.id),
            sid: session.sid.clone(),
            offline: scope.contains("offline_access"),
            org,
            scope,
            targets: req.targets.clone(),
            auth_time: session.auth_time,
            created_at: now,
            expires_at: now.plus_secs(ctx.realm.lifetimes.refresh_max_secs),
            revoked_at: None,
        };
        self.store().insert_grant(&grant).await?;
        let code = random_token();
        self.store()
            .insert_code(&AuthorizationCode {
                realm_id: ctx.realm.id,
                code_hash: sha256(code.as_bytes()),
                grant_id: grant.id,
                // Empty when the request relied on the single registered URI: then the token
                // request need not repeat it (RFC 6749 §4.1.3).
                redirect_uri: if req.redirect_uri_given {
                    req.redirect_uri.clone()
                } else {
                    String::new()
                },
                code_challenge: req.code_challenge.clone(),
                nonce: req.nonce.clone(),
                expires_at: now.plus_secs(CODE_LIFETIME_SECS),
            })
            .await?;
        let mut params = vec![("code", code)];
        if let Some(s) = &req.state {
            params.push(("state", s.clone()));
        }
        params.push(("iss", ctx.issuer.clone()));
        Ok(Step::Respond(ClientResponse {
            redirect_uri: req.redirect_uri.clone(),
            response_mode: req.response_mode,
            params,
        }))
    }
}
