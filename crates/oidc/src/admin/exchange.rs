//! Administration of token exchange: per-client policies, impersonation tokens, the dry
//! run, and the exchange log. Shared by the admin REST API and the CLI.

use super::{AdminPrincipal, not_found};
use crate::crypto::{random_token, sha256};
use crate::token::exchange::{
    ExchangeRequest, IMPERSONATION_MAX_SECS, MAX_REASON_CHARS, Mode, Plan,
};
use crate::{OAuthError, Params, Provider};
use serde::Serialize;
use tessera_domain::{
    Client, ClientId, ExchangePolicy, ExchangeRecord, ImpersonationToken, UnixTime, UserId,
};
pub use tessera_storage::ExchangeFilter;

/// The answer of the dry run: what the token endpoint would do, and why.
#[derive(Debug, Serialize)]
pub struct Evaluation {
    pub allowed: bool,
    /// On refusal: the RFC 6749/8693 error code the token endpoint would answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    pub reasons: Vec<String>,
    /// The claims that would be issued (nothing is signed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Plan>,
}

/// A minted impersonation token, shown once.
#[derive(Debug)]
pub struct MintedImpersonation {
    pub token: String,
    pub expires_at: UnixTime,
}

impl Provider {
    /// Sets (or with `None` removes) a client's exchange policy. Audiences must be client
    /// ids of this realm or absolute URIs; organizations must be of this realm; trusted
    /// identity providers must be providers of this realm (409 otherwise).
    pub async fn set_exchange_policy(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        client_id: &str,
        policy: Option<ExchangePolicy>,
    ) -> Result<Client, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        let realm_id = ctx.realm.id;
        let client = self.get_client(caller, realm, client_id).await?;
        if let Some(p) = &policy {
            p.validate()?;
            for a in &p.audiences {
                let is_client = match ClientId::parse(a) {
                    Ok(id) => self
                        .store()
                        .find_client_by_client_id(realm_id, &id)
                        .await?
                        .is_some(),
                    Err(_) => false,
                };
                if !is_client && url::Url::parse(a).is_err() {
                    return Err(crate::clients::metadata::unknown_audience(a));
                }
            }
            if let tessera_domain::ImpersonationScope::Organizations(orgs) = &p.impersonate {
                for o in orgs {
                    if self.store().get_org(realm_id, *o).await?.is_none() {
                        return Err(OAuthError::invalid_request(
                            "impersonate names an organization that is not of this realm",
                        ));
                    }
                }
            }
            if let Some(c) = &p.may_act {
                ClientId::parse(c)?;
            }
            // A misspelt alias would trust nothing, silently: refused like an unknown
            // organization of a provider. A provider deleted later simply matches nothing.
            for alias in &p.trusted_idps {
                let alias = tessera_domain::IdpAlias::parse(alias)?;
                if self.store().find_idp(realm_id, &alias).await?.is_none() {
                    return Err(OAuthError::Conflict(
                        format!("trusted_idps: the realm has no identity provider {alias}").into(),
                    ));
                }
            }
        }
        let updated = self
            .store()
            .set_client_exchange_policy(realm_id, client.id, policy.as_ref())
            .await
            .map_err(|_| not_found("client"))?;
        self.forget_client(realm_id, &updated.client_id).await;
        Ok(updated)
    }

    /// Mints a single-use impersonation token for `user`, redeemable only by `client_id`
    /// (whose policy must allow impersonating this user), for at most ten minutes.
    pub async fn mint_impersonation_token(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        user: UserId,
        client_id: &str,
        reason: &str,
        lifetime_secs: Option<i64>,
    ) -> Result<MintedImpersonation, OAuthError> {
        caller.require_realm_admin()?;
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > MAX_REASON_CHARS
            || reason.chars().any(char::is_control)
        {
            return Err(OAuthError::invalid_request(
                "reason must be 1 to 500 characters without control characters",
            ));
        }
        let secs = lifetime_secs.unwrap_or(IMPERSONATION_MAX_SECS);
        if !(10..=IMPERSONATION_MAX_SECS).contains(&secs) {
            return Err(OAuthError::invalid_request(
                "lifetime_secs must be within 10..=600",
            ));
        }
        let ctx = self.admin_realm(realm).await?;
        let target = self
            .store()
            .get_user(ctx.realm.id, user)
            .await
            .map_err(|_| not_found("user"))?;
        if !target.enabled {
            return Err(OAuthError::invalid_request("the user is disabled"));
        }
        let client = self
            .get_client(caller, realm, client_id)
            .await
            .map_err(|_| OAuthError::invalid_request("client_id is not a client of this realm"))?;
        let policy = client
            .exchange
            .as_ref()
            .filter(|_| client.enabled)
            .ok_or_else(|| {
                OAuthError::invalid_request("the client has no token exchange policy")
            })?;
        if let Err(why) = self.may_impersonate(&ctx, policy, user).await? {
            return Err(OAuthError::invalid_request(why));
        }
        let (admin_sub, admin_client_id) = caller.subject();
        let now = self.clock().now();
        let token = random_token();
        let t = ImpersonationToken {
            realm_id: ctx.realm.id,
            token_hash: sha256(token.as_bytes()),
            user_id: user,
            client: client.id,
            admin_sub,
            admin_client_id,
            reason: reason.to_owned(),
            created_at: now,
            expires_at: now.plus_secs(secs),
        };
        self.store().insert_impersonation_token(&t).await?;
        Ok(MintedImpersonation {
            token,
            expires_at: t.expires_at,
        })
    }

    /// The dry run of `POST /admin/realms/{realm}/token-exchange/evaluate`: the exchange
    /// rules for `client_id` with these parameters; nothing consumed, written or signed.
    pub async fn evaluate_exchange(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        client_id: &str,
        params: &Params,
    ) -> Result<Evaluation, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        let client = self.get_client(caller, realm, client_id).await?;
        let refused = |e: OAuthError| Evaluation {
            allowed: false,
            error: Some(e.code()),
            reasons: vec![e.description()],
            claims: None,
        };
        if !client.enabled || !client.allows_grant(tessera_domain::GrantType::TokenExchange) {
            return Ok(refused(OAuthError::UnauthorizedClient(
                "the client may not use the token-exchange grant".into(),
            )));
        }
        let req = match ExchangeRequest::parse(params) {
            Ok(r) => r,
            Err(e) => return Ok(refused(e)),
        };
        Ok(
            match self.plan_exchange(&ctx, &client, &req, Mode::DryRun).await {
                Ok(plan) => Evaluation {
                    allowed: true,
                    error: None,
                    reasons: plan.reasons.clone(),
                    claims: Some(plan),
                },
                Err(e @ OAuthError::ServerError(_)) => return Err(e),
                Err(e) => refused(e),
            },
        )
    }

    /// The newest exchanges of a realm, filtered by subject, client or actor.
    pub async fn list_exchanges(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        filter: ExchangeFilter,
        limit: Option<u64>,
    ) -> Result<Vec<ExchangeRecord>, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.flush_exchange_log().await?;
        Ok(self
            .store()
            .list_exchange_records(realm_id, &filter, limit.unwrap_or(100).clamp(1, 500))
            .await?)
    }
}
