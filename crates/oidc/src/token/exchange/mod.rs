//! Token exchange (RFC 8693): the request parsed at the edge ([`request`]), one typed
//! resolver per subject token type ([`subject`]), the client's policy as an ordered list of
//! named checks ([`plan`]), and issuing with a batched log ([`issue`], `crate::batch_log`). A plan is
//! either issued (the grant) or only shown (the admin dry run).

pub mod impersonation;
mod issue;
mod plan;
pub mod request;
mod subject;

pub use impersonation::IMPERSONATION_MAX_SECS;
pub use request::ExchangeRequest;

use crate::OAuthError;
use crate::token::response::TokenResponse;
use crate::tokens::access_token::Actor;
use crate::tokens::org_claims::OrgContext;
use crate::{Params, Provider, RealmCtx};
use serde::Serialize;
use tessera_domain::{Client, GrantId, OrgId, ScopeSet, TokenType, UnixTime, UserId};

/// Longest `reason` kept in the exchange log.
pub const MAX_REASON_CHARS: usize = 500;

pub(crate) fn bad(d: &'static str) -> OAuthError {
    OAuthError::invalid_request(d)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`: parse, plan, issue.
pub(crate) async fn grant(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let req = ExchangeRequest::parse(params)?;
    let plan = match p.plan_exchange(ctx, client, &req, Mode::Issue).await {
        Ok(plan) => plan,
        Err(e) => {
            // Server failures are logged where they are answered; refusals are decided here.
            if !matches!(e, OAuthError::ServerError(_)) {
                tracing::warn!(
                    target: "tessera::security",
                    event = "token_exchange_refused",
                    realm = %ctx.realm.name,
                    client_id = %client.client_id,
                    error = e.code(),
                    reason = %e.description(),
                    "token exchange refused"
                );
                p.security_event(
                    ctx.realm.id,
                    "token_exchange_refused",
                    format!("client {}", client.client_id),
                    format!("{}: {}", e.code(), e.description()),
                    String::new(),
                )
                .await;
            }
            return Err(e);
        }
    };
    // An impersonation is worth an administrator's look whenever it happens.
    let impersonation = plan.reason.clone().map(|why| {
        (
            plan.sub.clone(),
            plan.act.as_ref().map(|a| a.sub.clone()),
            why,
        )
    });
    let issued = p.issue_exchange(ctx, client, plan).await?;
    if let Some((sub, admin, why)) = impersonation {
        p.security_event(
            ctx.realm.id,
            "impersonation",
            admin.unwrap_or_default(),
            format!("user {sub} through client {}: {why}", client.client_id),
            String::new(),
        )
        .await;
    }
    Ok(issued)
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
pub(crate) struct Subject {
    pub(crate) sub: String,
    pub(crate) user: Option<UserId>,
    pub(crate) scope: ScopeSet,
    pub(crate) exp: UnixTime,
    pub(crate) grant: Option<(GrantId, String)>,
    pub(crate) act: Option<Actor>,
    pub(crate) may_act: Option<Actor>,
    pub(crate) org_id: Option<OrgId>,
    /// Ancestors' jtis, then this token's id: the issued token's lineage.
    pub(crate) lineage: Vec<String>,
    /// Why an administrator impersonates (goes to the exchange log).
    pub(crate) reason: Option<String>,
    /// The issuer of an external subject token.
    pub(crate) external_issuer: Option<String>,
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
    pub(crate) user: Option<UserId>,
    #[serde(skip)]
    pub(crate) grant: Option<(GrantId, String)>,
    #[serde(skip)]
    pub(crate) lineage: Vec<String>,
    /// The impersonation's stated reason, for the log.
    pub reason: Option<String>,
    /// The subject token's issuer, when another issuer's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_issuer: Option<String>,
}

fn as_text<S: serde::Serializer>(scope: &ScopeSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(scope)
}
