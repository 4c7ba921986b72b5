//! Issuing what a plan allows, and logging the exchange.

use super::{Plan, bad};
use crate::batch_log::LOG_BATCH;
use crate::crypto::sha256;
use crate::token::response::TokenResponse;
use crate::tokens::access_token::{Actor, TokenGrant};
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{Client, ExchangeRecord, GrantId, OrgSelection, TokenType, UnixTime, UserId};

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
            targets: vec![],
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
    ) -> Result<TokenResponse, OAuthError> {
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
            external_issuer: plan.external_issuer.clone(),
            created_at: now,
            expires_at: UnixTime(plan.exp),
        };
        if let Some(backlog) = self.exchange_log.push(record) {
            self.write_exchange_records(backlog).await?;
        }
        Ok(TokenResponse {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
