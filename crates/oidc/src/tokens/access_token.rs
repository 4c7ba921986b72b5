//! Access tokens: RFC 9068 JWTs (nothing stored) or opaque handles (stored hashed), and
//! their resolution for introspection, revocation and resource servers such as the admin API.

use crate::crypto::jws::{self, looks_like_jws};
use crate::crypto::{random_id, random_token, sha256};
use crate::tokens::org_claims::{OrgClaim, OrgContext};
use crate::{OAuthError, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use tessera_domain::{AccessTokenFormat, Client, GrantId, OpaqueToken, OrgId, ScopeSet, UnixTime};

pub const TYP: &str = "at+jwt";
/// Longest exchange chain a token may descend from.
pub const MAX_LINEAGE: usize = 16;

/// `aud` is a string when single and an array otherwise (RFC 7519 §4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn from_vec(mut v: Vec<String>) -> Self {
        if v.len() == 1 {
            Self::One(v.remove(0))
        } else {
            Self::Many(v)
        }
    }
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Self::One(a) => a == aud,
            Self::Many(v) => v.iter().any(|a| a == aud),
        }
    }
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(a) => vec![a.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// RFC 9068 §2.2 claims, plus the roles of the subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub client_id: String,
    /// The issuing client's server-assigned id: a `client_id` can be deleted and
    /// registered again, and a token must not pass for the newcomer's.
    pub client_uuid: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The browser session (as in ID tokens), for user tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The grant this token belongs to: revoking the grant deactivates the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Organization context (`organization` scope, or an organization's service client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgClaim>,
    /// The one active organization: disabling or deleting it deactivates the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// RFC 8693 §4.1: who acts for `sub` (delegation, impersonation), prior actors nested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// RFC 8693 §4.4: who may act for `sub` when this token is exchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub may_act: Option<Actor>,
    /// jtis of the tokens this one was exchanged from, oldest first: revoking any of
    /// them deactivates this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<String>,
}

/// An actor (`act`, `may_act`): a subject and the client it used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// How many actors the chain holds, this one included.
    pub fn depth(&self) -> usize {
        1 + self.act.as_ref().map_or(0, |a| a.depth())
    }
}

/// What a grant decided to issue.
pub struct TokenGrant<'a> {
    pub client: &'a Client,
    pub subject: String,
    pub scope: ScopeSet,
    pub audience: Vec<String>,
    pub roles: Vec<String>,
    /// The user's grant and session id, for user tokens.
    pub grant: Option<(GrantId, String)>,
    pub org: OrgContext,
    /// Exchanged tokens: the actor chain, the ancestors' jtis, and an upper bound on `exp`.
    pub act: Option<Actor>,
    pub lineage: Vec<String>,
    pub not_after: Option<UnixTime>,
    /// Force a JWT whatever the client's format (`requested_token_type=…:jwt`).
    pub force_jwt: bool,
}

impl<'a> TokenGrant<'a> {
    /// A token of `client` for `subject` with no exchange history.
    pub fn new(
        client: &'a Client,
        subject: String,
        scope: ScopeSet,
        audience: Vec<String>,
    ) -> Self {
        Self {
            client,
            subject,
            scope,
            audience,
            roles: vec![],
            grant: None,
            org: OrgContext::default(),
            act: None,
            lineage: vec![],
            not_after: None,
            force_jwt: false,
        }
    }
}

pub struct IssuedToken {
    pub access_token: String,
    pub jti: String,
    pub expires_in: i64,
    pub scope: ScopeSet,
}

impl Provider {
    /// Mints an access token in the client's format. A JWT costs one signature and no write.
    pub async fn issue_access_token(
        &self,
        ctx: &RealmCtx,
        g: TokenGrant<'_>,
    ) -> Result<IssuedToken, OAuthError> {
        let now = self.clock().now();
        let mut exp = now.plus_secs(ctx.realm.access_token_lifetime_secs);
        if let Some(limit) = g.not_after {
            exp = exp.min(limit);
        }
        let lifetime = exp.0 - now.0;
        let jti = random_id();
        let jti_out = jti.clone();
        let may_act = g.client.exchange.as_ref().and_then(|p| {
            p.may_act.as_ref().map(|c| Actor {
                sub: c.clone(),
                client_id: Some(c.clone()),
                act: None,
            })
        });
        let format = if g.force_jwt {
            AccessTokenFormat::Jwt
        } else {
            g.client.access_token_format
        };
        let access_token = match format {
            AccessTokenFormat::Jwt => {
                let key = ctx.keys.signer(ctx.realm.access_token_alg).ok_or_else(|| {
                    OAuthError::ServerError(format!(
                        "realm {} has no active {} key",
                        ctx.realm.name, ctx.realm.access_token_alg
                    ))
                })?;
                let claims = AccessClaims {
                    iss: ctx.issuer.clone(),
                    sub: g.subject,
                    aud: Audience::from_vec(g.audience),
                    client_id: g.client.client_id.to_string(),
                    client_uuid: g.client.id.to_string(),
                    iat: now.0,
                    exp: exp.0,
                    jti,
                    scope: (!g.scope.is_empty()).then(|| g.scope.to_string()),
                    roles: g.roles,
                    sid: g.grant.as_ref().map(|(_, sid)| sid.clone()),
                    grant_id: g.grant.as_ref().map(|(id, _)| id.to_string()),
                    organization: g.org.claim,
                    org_id: g.org.org_id.map(|o| o.to_string()),
                    act: g.act,
                    may_act,
                    lineage: g.lineage,
                };
                jws::sign(key, TYP, &claims)
            }
            AccessTokenFormat::Opaque => {
                let token = random_token();
                self.store()
                    .insert_opaque_token(&OpaqueToken {
                        realm_id: ctx.realm.id,
                        token_hash: sha256(token.as_bytes()),
                        jti,
                        client: g.client.id,
                        client_id: g.client.client_id.clone(),
                        subject: g.subject,
                        scope: g.scope.clone(),
                        audience: g.audience,
                        roles: g.roles,
                        grant_id: g.grant.as_ref().map(|(id, _)| *id),
                        sid: g.grant.map(|(_, sid)| sid),
                        org_claim: g
                            .org
                            .claim
                            .as_ref()
                            .and_then(|c| serde_json::to_string(c).ok()),
                        org_id: g.org.org_id,
                        act: g.act.as_ref().and_then(|a| serde_json::to_string(a).ok()),
                        lineage: g.lineage,
                        issued_at: now,
                        expires_at: exp,
                    })
                    .await?;
                token
            }
        };
        Ok(IssuedToken {
            access_token,
            jti: jti_out,
            expires_in: lifetime,
            scope: g.scope,
        })
    }

    /// Resolves an access token of this realm to its claims: signature (by this realm's
    /// keys only), `typ`, `iss`, `exp`, revocation and the issuing client still being
    /// enabled. `None` for anything else: foreign, expired, revoked, malformed.
    pub async fn resolve_access_token(
        &self,
        ctx: &RealmCtx,
        token: &str,
    ) -> Result<Option<AccessClaims>, OAuthError> {
        let now = self.clock().now();
        let claims = if looks_like_jws(token) {
            let Ok(c) = jws::verify::<AccessClaims>(&ctx.keys, TYP, token) else {
                return Ok(None);
            };
            let mut jtis: Vec<&str> = c.lineage.iter().map(String::as_str).collect();
            jtis.push(&c.jti);
            if c.iss != ctx.issuer
                || c.exp <= now.0
                || jtis.len() > MAX_LINEAGE + 1
                || self.store().any_jti_revoked(ctx.realm.id, &jtis).await?
            {
                return Ok(None);
            }
            c
        } else {
            if token.len() > 512 {
                return Ok(None);
            }
            let Some(t) = self
                .store()
                .find_opaque_token(ctx.realm.id, &sha256(token.as_bytes()))
                .await?
            else {
                return Ok(None);
            };
            let lineage: Vec<&str> = t.lineage.iter().map(String::as_str).collect();
            if t.expires_at <= now
                || (!lineage.is_empty()
                    && self.store().any_jti_revoked(ctx.realm.id, &lineage).await?)
            {
                return Ok(None);
            }
            AccessClaims {
                iss: ctx.issuer.clone(),
                sub: t.subject,
                aud: Audience::from_vec(t.audience),
                client_id: t.client_id.to_string(),
                client_uuid: t.client.to_string(),
                iat: t.issued_at.0,
                exp: t.expires_at.0,
                jti: t.jti,
                scope: (!t.scope.is_empty()).then(|| t.scope.to_string()),
                roles: t.roles,
                sid: t.sid,
                grant_id: t.grant_id.map(|g| g.to_string()),
                organization: t
                    .org_claim
                    .as_deref()
                    .and_then(|c| serde_json::from_str(c).ok()),
                org_id: t.org_id.map(|o| o.to_string()),
                act: t.act.as_deref().and_then(|a| serde_json::from_str(a).ok()),
                may_act: None,
                lineage: t.lineage,
            }
        };
        if !self.issuing_client_is_active(ctx, &claims).await?
            || !self.grant_is_live(ctx, &claims).await?
            || !self.org_is_live(ctx, &claims).await?
        {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// A token acting in one organization dies with it: disabled or deleted (ORG-8).
    async fn org_is_live(&self, ctx: &RealmCtx, claims: &AccessClaims) -> Result<bool, OAuthError> {
        let Some(id) = &claims.org_id else {
            return Ok(true);
        };
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(false);
        };
        Ok(self.store().org_is_enabled(ctx.realm.id, OrgId(id)).await?)
    }

    /// User tokens die with their grant (code replay, refresh-token replay, logout) and
    /// with their user (deleted or disabled). One query: the grant joined to its user.
    async fn grant_is_live(
        &self,
        ctx: &RealmCtx,
        claims: &AccessClaims,
    ) -> Result<bool, OAuthError> {
        let Some(id) = &claims.grant_id else {
            return Ok(true);
        };
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(false);
        };
        let row = self
            .store()
            .get_grant_with_user(ctx.realm.id, GrantId(id))
            .await?;
        Ok(row.is_some_and(|(g, u)| g.revoked_at.is_none() && u.enabled))
    }

    /// The client the token was issued to still exists, under the same id, and is enabled.
    async fn issuing_client_is_active(
        &self,
        ctx: &RealmCtx,
        claims: &AccessClaims,
    ) -> Result<bool, OAuthError> {
        let Ok(id) = tessera_domain::ClientId::parse(&claims.client_id) else {
            return Ok(false);
        };
        Ok(self
            .client(ctx, &id)
            .await?
            .is_some_and(|c| c.enabled && c.id.to_string() == claims.client_uuid))
    }

    /// Marks a JWT's `jti` revoked until its expiry, or deletes an opaque token.
    pub(crate) async fn revoke_access_token(
        &self,
        ctx: &RealmCtx,
        token: &str,
        claims: &AccessClaims,
    ) -> Result<(), OAuthError> {
        // The jti is listed for opaque tokens too: tokens exchanged from this one name it
        // in their lineage and die with it.
        self.store()
            .revoke_jti(ctx.realm.id, &claims.jti, UnixTime(claims.exp))
            .await?;
        if !looks_like_jws(token) {
            self.store()
                .delete_opaque_token(ctx.realm.id, &sha256(token.as_bytes()))
                .await?;
        }
        Ok(())
    }
}
