//! The exchange plan: the client's policy as an ordered list of named checks, like
//! `authorize/checks.rs`. The first that fails is the error (RFC 8693 §2.2.2); together
//! they guarantee an issued token is never broader than its subject.

use super::{ExchangeRequest, Mode, Plan, Subject, bad};
use crate::tokens::access_token::{Actor, MAX_LINEAGE};
use crate::tokens::org_claims::{OrgContext, requested_org_scope, without_org_scopes};
use crate::tokens::targets::invalid_target;
use crate::{OAuthError, Provider, RealmCtx};
use std::sync::Arc;
use tessera_domain::{
    Client, ClientId, ExchangePolicy, OrgScope, OrgSelection, ScopeSet, TokenType, UnixTime,
};

impl Provider {
    /// Plans an exchange for an authenticated client: every rule, in order.
    pub async fn plan_exchange(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        req: &ExchangeRequest,
        mode: Mode,
    ) -> Result<Plan, OAuthError> {
        let policy = client_may_exchange(client)?;
        let mut reasons = vec![format!(
            "client {} has an exchange policy",
            client.client_id
        )];
        let subject = self
            .resolve_subject(ctx, client, policy, req, mode, &mut reasons)
            .await?;
        let act = self
            .delegation(ctx, client, policy, &subject, req, &mut reasons)
            .await?;
        lineage_is_bounded(&subject)?;
        let (aud, targets) = self.audiences(ctx, client, policy, req).await?;
        reasons.push(format!("audience: {}", aud.join(" ")));
        let scope = scope_within(&subject, &targets, policy, req)?;
        let (org, scope) = self.organization(ctx, client, &subject, req, scope).await?;
        let exp = lifetime(self.clock().now(), ctx, policy, &subject)?;
        refresh_token_allowed(policy, req, &subject, act.as_ref())?;
        reasons.push(format!("scope: {scope}"));
        Ok(Plan {
            sub: subject.sub,
            aud,
            scope,
            exp: exp.0,
            act,
            org,
            requested: req.requested,
            reasons,
            user: subject.user,
            grant: subject.grant,
            lineage: subject.lineage,
            reason: subject.reason,
            external_issuer: subject.external_issuer,
        })
    }

    /// Delegation: the actor's own access token, checked like any access token. The actor
    /// is the caller: its token was issued to the calling client or names it in `aud`, or
    /// the subject's `may_act` names both that actor and the calling client; a token of a
    /// bystander never becomes `act`. The subject's `may_act` and the realm's depth limit
    /// apply.
    async fn delegation(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        policy: &ExchangePolicy,
        subject: &Subject,
        req: &ExchangeRequest,
        reasons: &mut Vec<String>,
    ) -> Result<Option<Actor>, OAuthError> {
        let Some((token, kind)) = &req.actor else {
            return Ok(subject.act.clone());
        };
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
        // The actor acts as itself: a token that already acts for someone (delegated or
        // impersonated) would name its subject and drop who really acts.
        if a.act.is_some() {
            return Err(bad("the actor_token acts for someone else"));
        }
        let caller = client.client_id.as_str();
        let held_by_caller = a.client_id == caller || a.aud.contains(caller);
        let named_by_may_act = subject.may_act.as_ref().is_some_and(|may| {
            may.client_id.as_deref() == Some(caller)
                && (may.sub == a.sub || may.client_id.as_deref() == Some(a.client_id.as_str()))
        });
        if !(held_by_caller || named_by_may_act) {
            return Err(bad(
                "the actor_token was not issued to or for the calling client",
            ));
        }
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
        Ok(Some(act))
    }

    /// Audience: this client, or targets the policy names (enabled clients of the realm,
    /// or resource URIs).
    async fn audiences(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        policy: &ExchangePolicy,
        req: &ExchangeRequest,
    ) -> Result<(Vec<String>, Vec<Arc<Client>>), OAuthError> {
        let mut aud = Vec::new();
        let mut targets = Vec::new();
        for a in &req.audiences {
            let allowed = a == client.client_id.as_str() || policy.audiences.iter().any(|x| x == a);
            let target = match ClientId::parse(a) {
                Ok(id) if allowed => self.client(ctx, &id).await?.filter(|c| c.enabled),
                _ => None,
            };
            let Some(target) = target else {
                return Err(invalid_target(
                    "audience",
                    a,
                    "is unknown or not allowed for this client",
                ));
            };
            aud.push(target.client_id.to_string());
            targets.push(target);
        }
        for r in &req.resources {
            if !policy.audiences.iter().any(|x| x == r) {
                return Err(invalid_target(
                    "resource",
                    r,
                    "is not allowed for this client",
                ));
            }
            aud.push(r.clone());
        }
        if aud.is_empty() {
            aud.push(client.client_id.to_string());
        }
        aud.dedup();
        Ok((aud, targets))
    }

    /// Organization context: only organizations the subject is a member of (ORG-9).
    async fn organization(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        subject: &Subject,
        req: &ExchangeRequest,
        scope: ScopeSet,
    ) -> Result<(OrgContext, ScopeSet), OAuthError> {
        let denied =
            || OAuthError::AccessDenied("the subject is not a member of the organization".into());
        let selection = match (&req.organization, requested_org_scope(&scope)?) {
            (Some(alias), _) => {
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
                Some(OrgSelection::Required(
                    org.map(|o| o.id).ok_or_else(denied)?,
                ))
            }
            (None, Some(OrgScope::Any)) | (None, None) => subject.org_id.map(OrgSelection::Chosen),
        };
        let org = match (subject.user, selection) {
            (Some(user), sel) => self
                .user_org_context(ctx, client, user, sel)
                .await
                .map_err(|e| match e {
                    OAuthError::InvalidGrant(_) => denied(),
                    e => e,
                })?,
            (None, _) => OrgContext::default(),
        };
        let scope = if org.claim.is_some() {
            scope
        } else {
            without_org_scopes(&scope)
        };
        Ok((org, scope))
    }
}

/// Only confidential clients with a policy exchange tokens.
fn client_may_exchange(client: &Client) -> Result<&ExchangePolicy, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::UnauthorizedClient(
            "public clients cannot exchange tokens".into(),
        ));
    }
    client.exchange.as_ref().ok_or_else(|| {
        OAuthError::UnauthorizedClient("the client has no token exchange policy".into())
    })
}

/// Lineage travels in every token, so its length is bounded.
fn lineage_is_bounded(subject: &Subject) -> Result<(), OAuthError> {
    if subject.lineage.len() > MAX_LINEAGE {
        return Err(bad("the subject_token descends from too many exchanges"));
    }
    Ok(())
}

/// Scope: never broader than the subject's, the targets' and the policy's ceiling.
fn scope_within(
    subject: &Subject,
    targets: &[Arc<Client>],
    policy: &ExchangePolicy,
    req: &ExchangeRequest,
) -> Result<ScopeSet, OAuthError> {
    let mut allowed = subject.scope.clone();
    for t in targets {
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
    match &req.scope {
        Some(want) => {
            if let Some(extra) = want.not_in(&allowed).next() {
                let shown: String = extra.as_str().chars().take(64).collect();
                return Err(OAuthError::InvalidScope(
                    format!("scope {shown} is broader than the subject token allows").into(),
                ));
            }
            Ok(want.clone())
        }
        None => Ok(allowed),
    }
}

/// Lifetime: never past the subject's, the policy's or the realm's.
fn lifetime(
    now: UnixTime,
    ctx: &RealmCtx,
    policy: &ExchangePolicy,
    subject: &Subject,
) -> Result<UnixTime, OAuthError> {
    let mut not_after = subject
        .exp
        .min(now.plus_secs(ctx.realm.access_token_lifetime_secs));
    if let Some(max) = policy.max_lifetime_secs {
        not_after = not_after.min(now.plus_secs(max));
    }
    if not_after <= now {
        return Err(bad("the subject_token is about to expire"));
    }
    Ok(not_after)
}

/// Refresh tokens by exchange: only when the policy allows, and only for a user acting
/// for themselves, to keep actor chains out of long-lived grants.
fn refresh_token_allowed(
    policy: &ExchangePolicy,
    req: &ExchangeRequest,
    subject: &Subject,
    act: Option<&Actor>,
) -> Result<(), OAuthError> {
    if req.requested != TokenType::RefreshToken {
        return Ok(());
    }
    if !policy.refresh_tokens {
        return Err(bad("the client may not obtain refresh tokens by exchange"));
    }
    if subject.user.is_none() || act.is_some() {
        return Err(bad(
            "refresh tokens are issued only for a user acting for themselves",
        ));
    }
    Ok(())
}
