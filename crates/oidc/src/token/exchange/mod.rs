//! Token exchange (RFC 8693): one typed resolver per subject token type, one policy check
//! per client, and a plan that is either issued (the grant) or only shown (the admin dry
//! run). The subject token's type decides how it is verified, never which other
//! parameters happen to be present (TE-14).

use crate::tokens::access_token::{AccessClaims, Actor, MAX_LINEAGE, TokenGrant};
use crate::admin::MASTER_REALM;
use crate::crypto::sha256;
use crate::tokens::org_claims::{OrgContext, requested_org_scope, without_org_scopes};
use crate::{OAuthError, Params, Provider, RealmCtx};
use serde::Serialize;
use std::sync::Mutex;
use tessera_domain::{
    Client, ClientId, ExchangePolicy, ExchangeRecord, GrantId, ImpersonationScope, OrgId,
    OrgRoleName, OrgScope, OrgSelection, ScopeSet, TokenType, UnixTime, UserId,
};

/// Longest `reason` kept in the exchange log.
pub const MAX_REASON_CHARS: usize = 500;
/// Impersonation tokens live at most ten minutes.
pub const IMPERSONATION_MAX_SECS: i64 = 600;

fn bad(d: &'static str) -> OAuthError {
    OAuthError::invalid_request(d)
}

/// A token-exchange request, parsed at the edge (RFC 8693 §2.1).
#[derive(Debug, Clone)]
pub struct ExchangeRequest {
    pub subject_token: String,
    pub subject_token_type: TokenType,
    pub actor: Option<(String, TokenType)>,
    pub requested: TokenType,
    pub audiences: Vec<String>,
    pub resources: Vec<String>,
    pub scope: Option<ScopeSet>,
    pub organization: Option<String>,
}

impl ExchangeRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        let subject_token = p
            .get("subject_token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("subject_token is missing"))?;
        let kind = |name: &'static str, v: &str| {
            TokenType::parse(v).map_err(|_| {
                OAuthError::InvalidRequest(format!("{name} is not a supported token type").into())
            })
        };
        let subject_token_type = kind(
            "subject_token_type",
            p.get("subject_token_type")
                .ok_or_else(|| bad("subject_token_type is missing"))?,
        )?;
        // actor_token_type is required with actor_token and forbidden without (§2.1).
        let actor = match (p.get("actor_token"), p.get("actor_token_type")) {
            (Some(t), Some(k)) if !t.is_empty() => {
                Some((t.to_owned(), kind("actor_token_type", k)?))
            }
            (None, None) => None,
            (Some(_), None) => return Err(bad("actor_token_type is required with actor_token")),
            _ => return Err(bad("actor_token_type without actor_token")),
        };
        let requested = match p.get("requested_token_type") {
            None => TokenType::AccessToken,
            Some(v) => match kind("requested_token_type", v)? {
                t @ (TokenType::AccessToken | TokenType::Jwt | TokenType::RefreshToken) => t,
                _ => {
                    return Err(bad(
                        "requested_token_type must be access_token, jwt or refresh_token",
                    ));
                }
            },
        };
        let audiences: Vec<String> = p.get_all("audience").map(str::to_owned).collect();
        let resources: Vec<String> = p.get_all("resource").map(str::to_owned).collect();
        if audiences.len() + resources.len() > 20 {
            return Err(bad("at most 20 audience and resource values"));
        }
        if let Some(r) = resources
            .iter()
            .find(|r| url::Url::parse(r).is_err() || r.contains('#'))
        {
            let shown: String = r.chars().take(64).collect();
            return Err(OAuthError::InvalidTarget(
                format!("resource {shown} is not an absolute URI without fragment").into(),
            ));
        }
        let scope = p
            .get("scope")
            .map(|s| {
                ScopeSet::parse(s).map_err(|_| OAuthError::InvalidScope("malformed scope".into()))
            })
            .transpose()?;
        Ok(Self {
            subject_token: subject_token.to_owned(),
            subject_token_type,
            actor,
            requested,
            audiences,
            resources,
            scope,
            organization: p.get("organization").map(str::to_owned),
        })
    }
}

/// Whether an exchange issues, or only says what it would issue (nothing consumed,
/// nothing written, nothing signed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Issue,
    DryRun,
}

/// The subject, as its resolver proved it.
#[derive(Debug, Clone)]
struct Subject {
    sub: String,
    user: Option<UserId>,
    scope: ScopeSet,
    exp: UnixTime,
    grant: Option<(GrantId, String)>,
    act: Option<Actor>,
    may_act: Option<Actor>,
    org_id: Option<OrgId>,
    /// Ancestors' jtis, then this token's id: the issued token's lineage.
    lineage: Vec<String>,
    /// Why an administrator impersonates (goes to the exchange log).
    reason: Option<String>,
}

/// What an exchange will issue, and why it is allowed.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub sub: String,
    pub aud: Vec<String>,
    #[serde(serialize_with = "as_text")]
    pub scope: ScopeSet,
    pub exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// `organization` and `org_id`, as the token will carry them.
    #[serde(flatten)]
    pub org: OrgContext,
    #[serde(rename = "issued_token_type")]
    pub requested: TokenType,
    /// The checks that passed, in order.
    pub reasons: Vec<String>,
    #[serde(skip)]
    user: Option<UserId>,
    #[serde(skip)]
    grant: Option<(GrantId, String)>,
    #[serde(skip)]
    lineage: Vec<String>,
    /// The impersonation's stated reason, for the log.
    pub reason: Option<String>,
}

fn as_text<S: serde::Serializer>(scope: &ScopeSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(scope)
}

/// The exchange log, written in batches: an exchange only appends to memory; the writer
/// task (src/startup.rs) stores a batch when it is full, every second, and before the log
/// is read. A request never waits for that write, unless the writer has fallen
/// [`LOG_MAX`] records behind (back-pressure instead of unbounded memory). Revocation does
/// not depend on the log: exchanged tokens carry their lineage.
#[derive(Default)]
pub struct ExchangeLog {
    pending: Mutex<Vec<ExchangeRecord>>,
    full: tokio::sync::Notify,
}

/// Records per INSERT (10 bound values each: far below SQLite's 32,766).
pub const LOG_BATCH: usize = 256;
/// Records held in memory at most.
pub const LOG_MAX: usize = 64 * LOG_BATCH;

impl ExchangeLog {
    /// Appends; returns the records the caller must write itself when the writer lags.
    fn push(&self, r: ExchangeRecord) -> Option<Vec<ExchangeRecord>> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.push(r);
        if p.len() >= LOG_MAX {
            return Some(std::mem::take(&mut *p));
        }
        if p.len() == LOG_BATCH {
            self.full.notify_one();
        }
        None
    }
    fn take(&self) -> Vec<ExchangeRecord> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn token_type_of(issued: TokenType) -> &'static str {
    match issued {
        TokenType::AccessToken => "Bearer",
        // §2.2.1: not an access token (or not one usable as a bearer access token).
        _ => "N_A",
    }
}

impl Provider {
    /// Writes the pending exchange log, [`LOG_BATCH`] records per INSERT.
    pub async fn flush_exchange_log(&self) -> Result<(), OAuthError> {
        self.write_exchange_records(self.exchange_log.take()).await
    }

    async fn write_exchange_records(&self, all: Vec<ExchangeRecord>) -> Result<(), OAuthError> {
        for batch in all.chunks(LOG_BATCH) {
            self.store().insert_exchange_records(batch).await?;
        }
        Ok(())
    }

    /// Resolves when a batch of the exchange log is full (the writer task waits on it).
    pub async fn exchange_log_full(&self) {
        self.exchange_log.full.notified().await
    }

    /// A user is an administrator when they are a principal of the master realm or hold
    /// the `admin` role of an organization: never impersonated (CVE-2026-17526).
    pub(crate) async fn is_admin_user(
        &self,
        ctx: &RealmCtx,
        user: UserId,
    ) -> Result<bool, OAuthError> {
        if ctx.realm.name.as_str() == MASTER_REALM {
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

    async fn resolve_subject(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        policy: &ExchangePolicy,
        req: &ExchangeRequest,
        mode: Mode,
        reasons: &mut Vec<String>,
    ) -> Result<Subject, OAuthError> {
        let now = self.clock().now();
        let invalid = || bad("the subject_token is invalid, expired or not acceptable");
        if !policy.subject_token_types.contains(&req.subject_token_type) {
            return Err(bad("this subject_token_type is not allowed for the client"));
        }
        match req.subject_token_type {
            TokenType::AccessToken => {
                // Only our own access tokens: typ at+jwt, this realm's keys and issuer,
                // unexpired, unrevoked (ancestors included); or an opaque one by hash.
                let c = self
                    .resolve_access_token(ctx, &req.subject_token)
                    .await?
                    .ok_or_else(invalid)?;
                // TE-7: the client must hold the token: issued to it, or meant for it.
                if c.client_id != client.client_id.as_str()
                    && !c.aud.contains(client.client_id.as_str())
                {
                    return Err(bad(
                        "the subject_token was not issued to or for this client",
                    ));
                }
                reasons.push(format!(
                    "subject: access token {} of client {}",
                    c.jti, c.client_id
                ));
                Ok(subject_of(c))
            }
            TokenType::RefreshToken => {
                let t = self
                    .store()
                    .find_live_refresh_token(
                        ctx.realm.id,
                        &sha256(req.subject_token.as_bytes()),
                        now,
                    )
                    .await?
                    .ok_or_else(invalid)?;
                let (grant, user) = self
                    .store()
                    .get_grant_with_user(ctx.realm.id, t.grant_id)
                    .await?
                    .filter(|(_, u)| u.enabled)
                    .ok_or_else(invalid)?;
                if grant.client != client.id {
                    return Err(bad("the subject_token was not issued to this client"));
                }
                reasons.push(format!("subject: refresh token of grant {}", grant.id));
                Ok(Subject {
                    sub: user.id.to_string(),
                    user: Some(user.id),
                    scope: t.scope,
                    exp: t.expires_at,
                    grant: Some((grant.id, grant.sid.clone())),
                    act: None,
                    may_act: None,
                    org_id: t.org.and_then(OrgSelection::single),
                    lineage: vec![format!("grant:{}", grant.id)],
                    reason: None,
                })
            }
            TokenType::Impersonation => {
                let hash = sha256(req.subject_token.as_bytes());
                let t = match mode {
                    Mode::Issue => {
                        self.store()
                            .consume_impersonation_token(ctx.realm.id, &hash, client.id, now)
                            .await?
                    }
                    Mode::DryRun => {
                        self.store()
                            .find_impersonation_token(ctx.realm.id, &hash, client.id, now)
                            .await?
                    }
                }
                .ok_or_else(invalid)?;
                let user = self
                    .store()
                    .get_user(ctx.realm.id, t.user_id)
                    .await
                    .ok()
                    .filter(|u| u.enabled)
                    .ok_or_else(invalid)?;
                if let Err(why) = self.may_impersonate(ctx, policy, user.id).await? {
                    return Err(OAuthError::invalid_request(why));
                }
                reasons.push(format!(
                    "subject: impersonation of user {} by {}",
                    user.id, t.admin_sub
                ));
                Ok(Subject {
                    sub: user.id.to_string(),
                    user: Some(user.id),
                    // The impersonating client's scopes bound what the token may carry.
                    scope: client.scopes.clone(),
                    // The token's own expiry only bounds when it may be redeemed; what
                    // it yields lives as long as the realm and policy allow.
                    exp: now.plus_secs(ctx.realm.access_token_lifetime_secs),
                    grant: None,
                    act: Some(Actor {
                        sub: t.admin_sub,
                        client_id: Some(t.admin_client_id),
                        act: None,
                    }),
                    may_act: None,
                    org_id: None,
                    lineage: vec![format!("impersonation:{}", hex(&hash[..8]))],
                    reason: Some(t.reason),
                })
            }
            TokenType::Jwt | TokenType::IdToken => {
                Err(bad("this subject_token_type is not supported"))
            }
        }
    }

    /// Plans an exchange for an authenticated client: every rule, in order; the first
    /// that fails is the error (RFC 8693 §2.2.2 codes).
    pub async fn plan_exchange(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        req: &ExchangeRequest,
        mode: Mode,
    ) -> Result<Plan, OAuthError> {
        let now = self.clock().now();
        if client.is_public() {
            return Err(OAuthError::UnauthorizedClient(
                "public clients cannot exchange tokens".into(),
            ));
        }
        let policy = client.exchange.as_ref().ok_or_else(|| {
            OAuthError::UnauthorizedClient("the client has no token exchange policy".into())
        })?;
        let mut reasons = vec![format!(
            "client {} has an exchange policy",
            client.client_id
        )];
        let subject = self
            .resolve_subject(ctx, client, policy, req, mode, &mut reasons)
            .await?;

        // Delegation: the actor's own access token, checked like any access token.
        let act = match &req.actor {
            None => subject.act.clone(),
            Some((token, kind)) => {
                if !policy.delegate {
                    return Err(bad("the client may not act as a delegate"));
                }
                if *kind != TokenType::AccessToken {
                    return Err(bad("actor_token_type must be an access token"));
                }
                let a = self
                    .resolve_access_token(ctx, token)
                    .await?
                    .ok_or_else(|| bad("the actor_token is invalid, expired or not acceptable"))?;
                if let Some(may) = &subject.may_act
                    && !(may.sub == a.sub || may.client_id.as_deref() == Some(a.client_id.as_str()))
                {
                    return Err(bad(
                        "the actor is not allowed to act for the subject (may_act)",
                    ));
                }
                let act = Actor {
                    sub: a.sub.clone(),
                    client_id: Some(a.client_id.clone()),
                    act: subject.act.clone().map(Box::new),
                };
                let depth = act.depth() as i64;
                if depth > ctx.realm.max_delegation_depth {
                    return Err(bad("the delegation chain is longer than the realm allows"));
                }
                reasons.push(format!(
                    "actor: {} via client {} (depth {depth})",
                    a.sub, a.client_id
                ));
                Some(act)
            }
        };
        if subject.lineage.len() > MAX_LINEAGE {
            return Err(bad("the subject_token descends from too many exchanges"));
        }

        // Audience: this client, or targets the policy names (existing clients of the realm).
        let mut aud = Vec::new();
        let mut targets: Vec<std::sync::Arc<Client>> = Vec::new();
        for a in &req.audiences {
            let allowed = a == client.client_id.as_str() || policy.audiences.iter().any(|x| x == a);
            let target = match ClientId::parse(a) {
                Ok(id) if allowed => self.client(ctx, &id).await?.filter(|c| c.enabled),
                _ => None,
            };
            let Some(target) = target else {
                let shown: String = a.chars().take(64).collect();
                return Err(OAuthError::InvalidTarget(
                    format!("audience {shown} is unknown or not allowed for this client").into(),
                ));
            };
            aud.push(target.client_id.to_string());
            targets.push(target);
        }
        for r in &req.resources {
            if !policy.audiences.iter().any(|x| x == r) {
                let shown: String = r.chars().take(64).collect();
                return Err(OAuthError::InvalidTarget(
                    format!("resource {shown} is not allowed for this client").into(),
                ));
            }
            aud.push(r.clone());
        }
        if aud.is_empty() {
            aud.push(client.client_id.to_string());
        }
        aud.dedup();
        reasons.push(format!("audience: {}", aud.join(" ")));

        // Scope: never broader than the subject's, the targets' and the policy's ceiling.
        let mut allowed = subject.scope.clone();
        for t in &targets {
            allowed = ScopeSet::from_scopes(allowed.iter().filter(|s| t.allows_scope(s)).cloned());
        }
        if let Some(ceiling) = &policy.scope_ceiling {
            allowed = ScopeSet::from_scopes(
                allowed
                    .iter()
                    .filter(|s| ceiling.iter().any(|c| c == s.as_str()))
                    .cloned(),
            );
        }
        let scope = match &req.scope {
            Some(want) => {
                if let Some(extra) = want.not_in(&allowed).next() {
                    let shown: String = extra.as_str().chars().take(64).collect();
                    return Err(OAuthError::InvalidScope(
                        format!("scope {shown} is broader than the subject token allows").into(),
                    ));
                }
                want.clone()
            }
            None => allowed,
        };

        // Organization context: only organizations the subject is a member of (ORG-9).
        let selection = match (&req.organization, requested_org_scope(&scope)?) {
            (Some(alias), _) => {
                let denied = || {
                    OAuthError::AccessDenied(
                        "the subject is not a member of the organization".into(),
                    )
                };
                let user = subject.user.ok_or_else(denied)?;
                let org = self.enabled_org(ctx, alias).await?.ok_or_else(denied)?;
                self.store()
                    .get_membership(ctx.realm.id, org.id, user, false)
                    .await?
                    .ok_or_else(denied)?;
                Some(OrgSelection::Required(org.id))
            }
            (None, Some(OrgScope::All)) => Some(OrgSelection::All),
            (None, Some(OrgScope::One(alias))) => {
                let org = self.enabled_org(ctx, alias.as_str()).await?;
                Some(OrgSelection::Required(org.map(|o| o.id).ok_or_else(
                    || {
                        OAuthError::AccessDenied(
                            "the subject is not a member of the organization".into(),
                        )
                    },
                )?))
            }
            (None, Some(OrgScope::Any)) | (None, None) => subject.org_id.map(OrgSelection::Chosen),
        };
        let org = match (subject.user, selection) {
            (Some(user), sel) => self
                .user_org_context(ctx, client, user, sel)
                .await
                .map_err(|e| match e {
                    OAuthError::InvalidGrant(_) => OAuthError::AccessDenied(
                        "the subject is not a member of the organization".into(),
                    ),
                    e => e,
                })?,
            (None, _) => OrgContext::default(),
        };
        let scope = if org.claim.is_some() {
            scope
        } else {
            without_org_scopes(&scope)
        };

        // Lifetime: never past the subject's, the policy's or the realm's.
        let mut not_after = subject
            .exp
            .min(now.plus_secs(ctx.realm.access_token_lifetime_secs));
        if let Some(max) = policy.max_lifetime_secs {
            not_after = not_after.min(now.plus_secs(max));
        }
        if not_after <= now {
            return Err(bad("the subject_token is about to expire"));
        }
        if req.requested == TokenType::RefreshToken {
            if !policy.refresh_tokens {
                return Err(bad("the client may not obtain refresh tokens by exchange"));
            }
            if subject.user.is_none() || act.is_some() {
                return Err(bad(
                    "refresh tokens are issued only for a user acting for themselves",
                ));
            }
        }
        reasons.push(format!("scope: {scope}"));
        Ok(Plan {
            sub: subject.sub,
            aud,
            scope,
            exp: not_after.0,
            act,
            org,
            requested: req.requested,
            reasons,
            user: subject.user,
            grant: subject.grant,
            lineage: subject.lineage,
            reason: subject.reason,
        })
    }

    /// `requested_token_type=…:refresh_token`: a grant of its own for this client and the
    /// user (revocable like any grant) and its first refresh token.
    async fn exchange_refresh_grant(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        user: UserId,
        plan: &Plan,
    ) -> Result<(GrantId, String), OAuthError> {
        let now = self.clock().now();
        let grant = tessera_domain::Grant {
            id: GrantId::new_v7(),
            realm_id: ctx.realm.id,
            client: client.id,
            user_id: user,
            session_id: None,
            sid: crate::crypto::random_id(),
            scope: plan.scope.clone(),
            auth_time: now,
            offline: false,
            org: plan.org.org_id.map(OrgSelection::Chosen),
            created_at: now,
            expires_at: now.plus_secs(ctx.realm.lifetimes.refresh_max_secs),
            revoked_at: None,
        };
        self.store().insert_grant(&grant).await?;
        let token = crate::crypto::random_token();
        self.store()
            .insert_refresh_token(&tessera_domain::RefreshToken {
                realm_id: ctx.realm.id,
                token_hash: sha256(token.as_bytes()),
                grant_id: grant.id,
                scope: plan.scope.clone(),
                org: grant.org,
                issued_at: now,
                expires_at: now
                    .plus_secs(ctx.realm.lifetimes.refresh_idle_secs)
                    .min(grant.expires_at),
            })
            .await?;
        Ok((grant.id, token))
    }

    /// Issues what a plan allows and logs the exchange.
    pub async fn issue_exchange(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        plan: Plan,
    ) -> Result<crate::token::TokenResponse, OAuthError> {
        let now = self.clock().now();
        let parent = plan.lineage.last().cloned().unwrap_or_default();
        let actors = actor_subs(plan.act.as_ref());
        let (token, child, expires_in) = if plan.requested == TokenType::RefreshToken {
            let user = plan.user.ok_or_else(|| bad("no user"))?;
            let (grant, rt) = self
                .exchange_refresh_grant(ctx, client, user, &plan)
                .await?;
            (rt, format!("grant:{grant}"), plan.exp - now.0)
        } else {
            let mut g = TokenGrant::new(
                client,
                plan.sub.clone(),
                plan.scope.clone(),
                plan.aud.clone(),
            );
            g.grant = plan.grant.clone();
            g.org = plan.org.clone();
            g.act = plan.act.clone();
            g.lineage = plan.lineage.clone();
            g.not_after = Some(UnixTime(plan.exp));
            g.force_jwt = plan.requested == TokenType::Jwt;
            let issued = self.issue_access_token(ctx, g).await?;
            (issued.access_token, issued.jti, issued.expires_in)
        };
        let record = ExchangeRecord {
            realm_id: ctx.realm.id,
            parent_jti: parent,
            child_jti: child,
            subject: plan.sub.clone(),
            actors,
            client_id: client.client_id.to_string(),
            reason: plan.reason.clone(),
            created_at: now,
            expires_at: UnixTime(plan.exp),
        };
        if let Some(backlog) = self.exchange_log.push(record) {
            self.write_exchange_records(backlog).await?;
        }
        Ok(crate::token::TokenResponse {
            access_token: token,
            token_type: token_type_of(plan.requested),
            expires_in,
            scope: (!plan.scope.is_empty()).then(|| plan.scope.to_string()),
            refresh_token: None,
            id_token: None,
            issued_token_type: Some(plan.requested.as_str()),
        })
    }
}

/// The chain's subjects, outermost first.
fn actor_subs(act: Option<&Actor>) -> Vec<String> {
    let mut out = vec![];
    let mut cur = act;
    while let Some(a) = cur {
        out.push(a.sub.clone());
        cur = a.act.as_deref();
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn subject_of(c: AccessClaims) -> Subject {
    let user = c
        .grant_id
        .as_ref()
        .and_then(|_| uuid::Uuid::parse_str(&c.sub).ok())
        .map(UserId);
    let grant = match (&c.grant_id, &c.sid) {
        (Some(g), Some(sid)) => uuid::Uuid::parse_str(g)
            .ok()
            .map(|g| (GrantId(g), sid.clone())),
        _ => None,
    };
    let mut lineage = c.lineage;
    lineage.push(c.jti);
    Subject {
        sub: c.sub,
        user,
        scope: ScopeSet::parse(c.scope.as_deref().unwrap_or_default()).unwrap_or_default(),
        exp: UnixTime(c.exp),
        grant,
        act: c.act,
        may_act: c.may_act,
        org_id: c
            .org_id
            .and_then(|o| uuid::Uuid::parse_str(&o).ok())
            .map(OrgId),
        lineage,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        )
    }

    const AT: &str = "urn:ietf:params:oauth:token-type:access_token";

    #[test]
    fn subject_token_and_type_are_required_and_actor_parameters_come_in_pairs() {
        let code = |p: &[(&str, &str)]| ExchangeRequest::parse(&params(p)).unwrap_err().code();
        assert_eq!(code(&[("subject_token_type", AT)]), "invalid_request");
        assert_eq!(code(&[("subject_token", "t")]), "invalid_request");
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("actor_token", "a")
            ]),
            "invalid_request"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("actor_token_type", AT)
            ]),
            "invalid_request"
        );
        assert_eq!(
            code(&[("subject_token", "t"), ("subject_token_type", "urn:x")]),
            "invalid_request"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:id_token"
                ),
            ]),
            "invalid_request"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("resource", "relative/path")
            ]),
            "invalid_target"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("scope", "a  b")
            ]),
            "invalid_scope"
        );
    }

    #[test]
    fn audiences_and_resources_repeat_and_the_default_is_an_access_token() {
        let r = ExchangeRequest::parse(&params(&[
            ("subject_token", "t"),
            ("subject_token_type", AT),
            ("audience", "a"),
            ("audience", "b"),
            ("resource", "https://r.example/"),
        ]))
        .unwrap();
        assert_eq!(r.audiences, ["a", "b"]);
        assert_eq!(r.resources, ["https://r.example/"]);
        assert_eq!(r.requested, TokenType::AccessToken);
        assert!(r.actor.is_none());
    }

    #[test]
    fn actor_chains_count_their_depth_and_list_outermost_first() {
        let inner = Actor {
            sub: "svc".into(),
            client_id: Some("svc".into()),
            act: None,
        };
        let outer = Actor {
            sub: "svc2".into(),
            client_id: None,
            act: Some(Box::new(inner)),
        };
        assert_eq!(outer.depth(), 2);
        assert_eq!(actor_subs(Some(&outer)), ["svc2", "svc"]);
        assert_eq!(token_type_of(TokenType::AccessToken), "Bearer");
        assert_eq!(token_type_of(TokenType::Jwt), "N_A");
    }

    #[test]
    fn the_log_never_makes_a_request_write_until_the_writer_falls_far_behind() {
        let log = ExchangeLog::default();
        let rec = || ExchangeRecord {
            realm_id: tessera_domain::RealmId::new_v7(),
            parent_jti: "p".into(),
            child_jti: "c".into(),
            subject: "s".into(),
            actors: vec![],
            client_id: "app".into(),
            reason: None,
            created_at: UnixTime(0),
            expires_at: UnixTime(1),
        };
        for _ in 0..LOG_MAX - 1 {
            assert!(log.push(rec()).is_none());
        }
        assert_eq!(log.push(rec()).map(|b| b.len()), Some(LOG_MAX));
        assert!(log.take().is_empty());
    }
}
