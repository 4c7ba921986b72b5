//! Token exchange administration (RFC 8693): a client's exchange policy, single-use
//! impersonation tokens, the dry run of an exchange, and the exchange log. Realm
//! administrators only.

use super::{Caller, page_limit, schema};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use crate::extract::user_id;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use tessera_domain::{ExchangePolicy, ExchangeRecord, ImpersonationScope, OrgId, TokenType};
use tessera_oidc::admin::exchange::ExchangeFilter;
use tessera_oidc::{OAuthError, Params};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the handlers; each one's route and OpenAPI path come from its own attributes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_policy)
        .service(put_policy)
        .service(delete_policy)
        .service(mint_impersonation_token)
        .service(evaluate)
        .service(list_exchanges);
}

/// Whom a client may impersonate: `"nobody"` (default), `"all_users"`, or
/// `{"organizations": [organization ids]}` (members of these organizations only).
/// Realm administrators and organization admins are never impersonated.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImpersonateRep {
    #[default]
    Nobody,
    AllUsers,
    Organizations(Vec<Uuid>),
}

/// What a client may do at the token endpoint with the token-exchange grant. A client
/// without a policy may not exchange at all (it also needs the grant type
/// `urn:ietf:params:oauth:grant-type:token-exchange`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangePolicyBody {
    /// Subject token types it may present, as RFC 8693 URNs:
    /// `urn:ietf:params:oauth:token-type:access_token` (the default),
    /// `urn:ietf:params:oauth:token-type:refresh_token`,
    /// `urn:tessera:params:oauth:token-type:impersonation_token`, and with `trusted_idps`
    /// only `urn:ietf:params:oauth:token-type:jwt` and `…:id_token`.
    #[serde(default = "default_subject_types")]
    #[schema(schema_with = schema::subject_token_types)]
    pub subject_token_types: Vec<String>,
    /// Audiences it may ask for: client ids of this realm or absolute URIs (at most
    /// 100). Its own client id is always allowed.
    #[serde(default)]
    #[schema(schema_with = schema::exchange_audiences)]
    pub audiences: Vec<String>,
    /// May present an `actor_token` (delegation).
    #[serde(default)]
    pub delegate: bool,
    #[serde(default)]
    #[schema(schema_with = schema::impersonate)]
    pub impersonate: ImpersonateRep,
    /// Scopes an exchanged token may carry at most; null: no ceiling beyond the
    /// subject token's.
    #[serde(default)]
    pub scope_ceiling: Option<Vec<String>>,
    /// Longest lifetime of an exchanged token in seconds, 10 to 86400; null: the realm's.
    #[serde(default)]
    #[schema(minimum = 10, maximum = 86400)]
    pub max_lifetime_secs: Option<i64>,
    /// May ask for `requested_token_type=urn:ietf:params:oauth:token-type:refresh_token`.
    #[serde(default)]
    pub refresh_tokens: bool,
    /// Access tokens issued to this client name this client id in `may_act`: only it may
    /// then act for their subject in a delegation.
    #[serde(default)]
    #[schema(schema_with = schema::optional_client_id)]
    pub may_act: Option<String>,
    /// Identity providers of the realm, by alias, whose tokens the client may present:
    /// as subject tokens (`…:jwt`, `…:id_token`, or an access token of another issuer)
    /// and as `jwt-bearer` assertions. At most 20.
    #[serde(default)]
    #[schema(schema_with = schema::idp_aliases)]
    pub trusted_idps: Vec<String>,
}

/// A policy as sent: an [`ExchangePolicyBody`], documented in the shapes it may take.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct ExchangePolicyRequest(ExchangePolicyBody);

impl utoipa::PartialSchema for ExchangePolicyRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{RefOr, schema::Schema};
        match <ExchangePolicyBody as utoipa::PartialSchema>::schema() {
            RefOr::T(Schema::Object(o)) => schema::exchange_policy_shapes(o),
            other => other,
        }
    }
}

impl ToSchema for ExchangePolicyRequest {}

fn default_subject_types() -> Vec<String> {
    vec![TokenType::AccessToken.as_str().to_owned()]
}

impl From<ExchangePolicy> for ExchangePolicyBody {
    fn from(p: ExchangePolicy) -> Self {
        Self {
            subject_token_types: p
                .subject_token_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            audiences: p.audiences,
            delegate: p.delegate,
            impersonate: match p.impersonate {
                ImpersonationScope::Nobody => ImpersonateRep::Nobody,
                ImpersonationScope::AllUsers => ImpersonateRep::AllUsers,
                ImpersonationScope::Organizations(orgs) => {
                    ImpersonateRep::Organizations(orgs.into_iter().map(|o| o.0).collect())
                }
            },
            scope_ceiling: p.scope_ceiling,
            max_lifetime_secs: p.max_lifetime_secs,
            refresh_tokens: p.refresh_tokens,
            may_act: p.may_act,
            trusted_idps: p.trusted_idps,
        }
    }
}

impl ExchangePolicyBody {
    fn parse(self) -> Result<ExchangePolicy, ApiError> {
        Ok(ExchangePolicy {
            subject_token_types: self
                .subject_token_types
                .iter()
                .map(|t| {
                    TokenType::parse(t).map_err(|_| {
                        let shown: String = t.chars().take(64).collect();
                        ApiError(OAuthError::InvalidRequest(
                            format!("subject_token_types: {shown:?} is not a token type URN")
                                .into(),
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            audiences: self.audiences,
            delegate: self.delegate,
            impersonate: match self.impersonate {
                ImpersonateRep::Nobody => ImpersonationScope::Nobody,
                ImpersonateRep::AllUsers => ImpersonationScope::AllUsers,
                ImpersonateRep::Organizations(orgs) => {
                    ImpersonationScope::Organizations(orgs.into_iter().map(OrgId).collect())
                }
            },
            scope_ceiling: self.scope_ceiling,
            max_lifetime_secs: self.max_lifetime_secs,
            refresh_tokens: self.refresh_tokens,
            may_act: self.may_act,
            trusted_idps: self.trusted_idps,
        })
    }
}

#[utoipa::path(tag = "token-exchange", params(("realm" = String, Path), ("id" = String, Path, description = "The client's id or its client_id")),
    responses((status = 200, body = ExchangePolicyBody),
        (status = 404, description = "no such client, or it has no exchange policy", body = super::ErrorBody)))]
#[get("/{realm}/clients/{id}/exchange-policy")]
pub async fn get_policy(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let client = state.provider.get_client(&caller, &realm, &id).await?;
    let policy = client.exchange.ok_or_else(|| {
        ApiError(OAuthError::NotFound(
            "the client has no exchange policy".into(),
        ))
    })?;
    Ok(HttpResponse::Ok().json(ExchangePolicyBody::from(policy)))
}

#[utoipa::path(tag = "token-exchange", params(("realm" = String, Path), ("id" = String, Path, description = "The client's id or its client_id")),
    request_body = ExchangePolicyRequest,
    responses((status = 200, body = ExchangePolicyBody), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody),
        (status = 409, description = "trusted_idps names a provider the realm does not have, or an audience is neither a client of the realm nor an absolute URI", body = super::ErrorBody)))]
#[put("/{realm}/clients/{id}/exchange-policy")]
pub async fn put_policy(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<ExchangePolicyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let policy = body.into_inner().0.parse()?;
    let client = state.provider.get_client(&caller, &realm, &id).await?;
    let client = state
        .provider
        .set_exchange_policy(&caller, &realm, client.client_id.as_str(), Some(policy))
        .await?;
    let policy = client
        .exchange
        .ok_or_else(|| ApiError(OAuthError::ServerError("exchange policy not stored".into())))?;
    Ok(HttpResponse::Ok().json(ExchangePolicyBody::from(policy)))
}

#[utoipa::path(tag = "token-exchange", params(("realm" = String, Path), ("id" = String, Path, description = "The client's id or its client_id")),
    responses((status = 204, description = "the client may no longer exchange tokens"),
        (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/clients/{id}/exchange-policy")]
pub async fn delete_policy(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let client = state.provider.get_client(&caller, &realm, &id).await?;
    state
        .provider
        .set_exchange_policy(&caller, &realm, client.client_id.as_str(), None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpersonationBody {
    /// The one client (its OAuth client_id) that may redeem the token; its exchange
    /// policy must allow impersonating this user.
    pub client_id: String,
    /// Why: 1 to 500 characters, recorded with the token and in the exchange log.
    #[schema(schema_with = schema::reason)]
    pub reason: String,
    /// 10 to 600 seconds (default 600).
    #[schema(minimum = 10, maximum = 600)]
    pub lifetime_secs: Option<i64>,
}

/// A single-use impersonation token, shown once. The client redeems it at the token
/// endpoint as `subject_token` with this `subject_token_type`.
#[derive(Serialize, ToSchema)]
pub struct ImpersonationTokenRep {
    pub token: String,
    /// `urn:tessera:params:oauth:token-type:impersonation_token`.
    pub token_type: &'static str,
    /// Unix time.
    pub expires_at: i64,
}

#[utoipa::path(tag = "token-exchange",
    request_body = ImpersonationBody,
    responses((status = 201, body = ImpersonationTokenRep), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/users/{id}/impersonation-tokens")]
pub async fn mint_impersonation_token(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<ImpersonationBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let user = user_id(&id)?;
    let b = body.into_inner();
    let minted = state
        .provider
        .mint_impersonation_token(
            &caller,
            &realm,
            user,
            &b.client_id,
            &b.reason,
            b.lifetime_secs,
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(ImpersonationTokenRep {
            token: minted.token,
            token_type: TokenType::Impersonation.as_str(),
            expires_at: minted.expires_at.0,
        }))
}

/// One value or several (sent as repeated parameters).
#[derive(Deserialize, ToSchema)]
#[serde(untagged, expecting = "a string or an array of strings")]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The parameters of a token-exchange request (RFC 8693 §2.1) as JSON, and the client
/// that would send it (not authenticated: this is a dry run).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateBody {
    /// The OAuth client_id of the requesting client.
    pub client_id: String,
    pub subject_token: String,
    pub subject_token_type: String,
    pub actor_token: Option<String>,
    pub actor_token_type: Option<String>,
    pub requested_token_type: Option<String>,
    pub audience: Option<OneOrMany>,
    pub resource: Option<OneOrMany>,
    /// Space-separated.
    pub scope: Option<String>,
    /// Organization alias or id to act in.
    pub organization: Option<String>,
}

impl EvaluateBody {
    fn params(self) -> (String, Params) {
        let mut pairs = vec![
            ("grant_type".to_owned(), GRANT_TYPE.to_owned()),
            ("subject_token".to_owned(), self.subject_token),
            ("subject_token_type".to_owned(), self.subject_token_type),
        ];
        let single = [
            ("actor_token", self.actor_token),
            ("actor_token_type", self.actor_token_type),
            ("requested_token_type", self.requested_token_type),
            ("scope", self.scope),
            ("organization", self.organization),
        ];
        for (k, v) in single {
            if let Some(v) = v {
                pairs.push((k.to_owned(), v));
            }
        }
        for (k, v) in [("audience", self.audience), ("resource", self.resource)] {
            match v {
                None => {}
                Some(OneOrMany::One(v)) => pairs.push((k.to_owned(), v)),
                Some(OneOrMany::Many(vs)) => {
                    pairs.extend(vs.into_iter().map(|v| (k.to_owned(), v)))
                }
            }
        }
        (self.client_id, Params::from_pairs(pairs))
    }
}

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The claims the exchanged token would carry (nothing is signed).
#[derive(Serialize, ToSchema)]
pub struct PlannedClaims {
    pub sub: String,
    pub aud: Vec<String>,
    pub scope: String,
    pub exp: i64,
    /// RFC 8693 `act`: `{sub, client_id?, act?}`, prior actors nested.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub act: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub organization: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    pub issued_token_type: String,
    pub reasons: Vec<String>,
    /// The subject token's issuer, when another issuer's (a trusted identity provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_issuer: Option<String>,
}

/// What the token endpoint would answer, and why.
#[derive(Serialize, ToSchema)]
pub struct EvaluationRep {
    pub allowed: bool,
    /// On refusal: the RFC 6749/8693 error code the token endpoint would answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// On success the checks that passed, in order; on refusal why.
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<PlannedClaims>,
}

#[utoipa::path(tag = "token-exchange",
    request_body = EvaluateBody,
    responses((status = 200, description = "the dry run: nothing is consumed, written or signed", body = EvaluationRep),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/token-exchange/evaluate")]
pub async fn evaluate(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<EvaluateBody>,
) -> Result<HttpResponse, ApiError> {
    let (client_id, params) = body.into_inner().params();
    let evaluation = state
        .provider
        .evaluate_exchange(&caller, &realm, &client_id, &params)
        .await?;
    Ok(HttpResponse::Ok().json(evaluation))
}

/// Filters of the exchange log; newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExchangeQuery {
    /// The `sub` of the exchanged tokens.
    pub subject: Option<String>,
    /// The client that exchanged.
    pub client_id: Option<String>,
    /// Any actor (`sub`) in the chain.
    pub actor: Option<String>,
    /// 1 to 500 (default 100).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ExchangeRecordRep {
    /// The `jti` (or token id) of the subject token.
    pub parent_jti: String,
    /// The `jti` of the issued token.
    pub child_jti: String,
    pub subject: String,
    /// The actors' `sub`, outermost first; empty without actors.
    pub actors: Vec<String>,
    pub client_id: String,
    /// The impersonation reason, if any.
    pub reason: Option<String>,
    /// The issuer of an external subject token (then `parent_jti` is its `jti`, or
    /// `sha256:` and a digest of the token when it had none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_issuer: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl From<ExchangeRecord> for ExchangeRecordRep {
    fn from(r: ExchangeRecord) -> Self {
        Self {
            parent_jti: r.parent_jti,
            child_jti: r.child_jti,
            subject: r.subject,
            actors: r.actors,
            client_id: r.client_id,
            reason: r.reason,
            external_issuer: r.external_issuer,
            created_at: r.created_at.0,
            expires_at: r.expires_at.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExchangeList {
    pub items: Vec<ExchangeRecordRep>,
}

#[utoipa::path(tag = "token-exchange", params(ExchangeQuery),
    responses((status = 200, body = ExchangeList), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/token-exchanges")]
pub async fn list_exchanges(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    q: web::Query<ExchangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let filter = ExchangeFilter {
        subject: q.subject,
        client_id: q.client_id,
        actor: q.actor,
    };
    let records = state
        .provider
        .list_exchanges(&caller, &realm, filter, q.limit)
        .await?;
    Ok(HttpResponse::Ok().json(ExchangeList {
        items: records.into_iter().map(Into::into).collect(),
    }))
}
