//! The backchannel authentication endpoint (OpenID CIBA Core 1.0 §7, poll and ping
//! modes): a confidential client names a person by one hint; the person is told (e-mail,
//! and their account page) and decides on Tessera's page; a ping client hears of the
//! decision at its notification endpoint (§10.2) and then takes the tokens as a poll
//! would.

use super::requested_scope;
use crate::clients::auth::{BasicCredentials, Endpoint};
use crate::crypto::{jws, random_token, sha256};
use crate::federation::trust::{JtiUse, Presented};
use crate::interaction::brand::Brand;
use crate::mail::Mail;
use crate::outbound::OutboundError;
use crate::tokens::id_token::{self, IdClaims};
use crate::tokens::targets::{self, Targets};
use crate::{OAuthError, Params, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::{
    ApprovalKind, ApprovalRequest, ApprovalStatus, BindingMessage, CibaDelivery, Client, GrantType,
    User,
};
use tessera_storage::ApprovalSecrets;

const NOTIFY_PURPOSE: &str = "ciba-notification";
/// A person has at most this many requests waiting: no client floods their inbox.
const MAX_PENDING_PER_PERSON: usize = 10;
const MAX_HINT_BYTES: usize = 4096;
/// RFC 6750 §2.1's b64token, bounded.
const MAX_NOTIFICATION_TOKEN: usize = 1024;
/// How often a ping is tried before the client is left to poll.
pub const PING_ATTEMPTS: u64 = 3;

/// The authentication request's answer (§7.3).
#[derive(Debug, Serialize)]
pub struct CibaResponse {
    pub auth_req_id: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// What a ping needs later, sealed in the request's row: the client's bearer token and
/// the `auth_req_id` (only its hash is stored otherwise).
#[derive(Serialize, Deserialize)]
struct PingSecret {
    token: String,
    auth_req_id: String,
}

fn ping_aad(id: uuid::Uuid) -> Vec<u8> {
    [b"ciba-ping|".as_slice(), id.as_bytes()].concat()
}

fn b64token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NOTIFICATION_TOKEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

impl Provider {
    /// Handles `POST …/protocol/openid-connect/ext/ciba/auth`.
    pub async fn backchannel_authentication(
        self: &Arc<Self>,
        realm: &str,
        basic: Option<BasicCredentials>,
        params: &Params,
    ) -> Result<CibaResponse, OAuthError> {
        let ctx = self.realm(realm).await?;
        let client = self
            .authenticate_client(&ctx, basic, params, Endpoint::Token)
            .await?;
        if client.is_public() || !client.allows_grant(GrantType::Ciba) {
            return Err(OAuthError::UnauthorizedClient(
                "CIBA is for confidential clients allowed the grant".into(),
            ));
        }
        let scope = requested_scope(&client, params)?;
        if !scope.contains("openid") {
            return Err(OAuthError::invalid_request("scope must contain openid"));
        }
        let asked = targets::requested(params, &client)?;
        Targets::of_request(asked.clone(), &[], &client)?;
        let binding_message = params
            .get("binding_message")
            .map(|m| {
                BindingMessage::parse(m)
                    .map_err(|e| OAuthError::InvalidBindingMessage(e.to_string().into()))
            })
            .transpose()?;
        let acr_values = params
            .get("acr_values")
            .map(str::trim)
            .filter(|a| !a.is_empty());
        if acr_values.is_some_and(|a| a.len() > 256) {
            return Err(OAuthError::invalid_request("acr_values is too long"));
        }
        let lifetime = ctx.realm.approvals.ciba_lifetime_secs;
        let expires_in = match params.get("requested_expiry") {
            None => lifetime,
            Some(e) => match e.parse::<i64>() {
                Ok(secs) if secs > 0 => secs.min(lifetime),
                _ => {
                    return Err(OAuthError::invalid_request(
                        "requested_expiry must be a positive number of seconds",
                    ));
                }
            },
        };
        let ping = match &client.oidc.ciba_delivery {
            CibaDelivery::Poll => None,
            CibaDelivery::Ping { .. } => Some(
                params
                    .get("client_notification_token")
                    .filter(|t| b64token(t))
                    .ok_or_else(|| {
                        OAuthError::invalid_request(
                            "a ping client sends a client_notification_token",
                        )
                    })?,
            ),
        };
        let user = self.hinted_user(&ctx, &client, params).await?;
        let now = self.clock().now();
        let waiting = self
            .store()
            .list_pending_approvals(
                ctx.realm.id,
                Some(user.id),
                now,
                MAX_PENDING_PER_PERSON as u64,
            )
            .await?;
        if waiting.len() >= MAX_PENDING_PER_PERSON {
            return Err(OAuthError::Forbidden(
                "too many requests are waiting for this person".into(),
            ));
        }
        let request = ApprovalRequest {
            id: uuid::Uuid::now_v7(),
            realm_id: ctx.realm.id,
            kind: ApprovalKind::Ciba,
            client: client.id,
            scope,
            targets: asked,
            user_id: Some(user.id),
            binding_message: binding_message.map(|m| m.as_str().to_owned()),
            acr_values: acr_values.map(str::to_owned),
            status: ApprovalStatus::Pending,
            approval: None,
            interval_secs: ctx.realm.approvals.ciba_poll_interval_secs,
            created_at: now,
            expires_at: now.plus_secs(expires_in),
            decided_at: None,
        };
        let auth_req_id = random_token();
        let notification_token = ping.map(|token| {
            let secret = PingSecret {
                token: token.to_owned(),
                auth_req_id: auth_req_id.clone(),
            };
            let json = serde_json::to_vec(&secret).expect("a ping secret serializes");
            self.master
                .subkey(NOTIFY_PURPOSE)
                .seal(&json, &ping_aad(request.id))
        });
        self.store()
            .insert_approval_request(
                &request,
                ApprovalSecrets {
                    handle_hash: sha256(auth_req_id.as_bytes()),
                    user_code_hash: None,
                    notification_token,
                },
            )
            .await?;
        let interval = ctx.realm.approvals.ciba_poll_interval_secs;
        // The person hears of it after the client has its answer.
        let (p, name) = (self.clone(), client.name.clone());
        tokio::spawn(async move {
            if let Err(e) = p.mail_ciba_notice(&ctx, &user, &request, &name).await {
                tracing::warn!(error = %e, "a sign-in request notice was not sent");
            }
        });
        Ok(CibaResponse {
            auth_req_id,
            expires_in,
            interval,
        })
    }

    /// The person exactly one hint names (§7.1), enabled. Whatever fails, the answer says
    /// no more than that the hint names nobody here.
    async fn hinted_user(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        params: &Params,
    ) -> Result<User, OAuthError> {
        let hints = [
            params.get("login_hint"),
            params.get("id_token_hint"),
            params.get("login_hint_token"),
        ];
        if hints.iter().flatten().count() != 1 {
            return Err(OAuthError::invalid_request(
                "send exactly one of login_hint, id_token_hint and login_hint_token",
            ));
        }
        let unknown = || OAuthError::UnknownUserId("the hint names no person of this realm".into());
        if hints
            .iter()
            .flatten()
            .any(|h| h.is_empty() || h.len() > MAX_HINT_BYTES)
        {
            return Err(unknown());
        }
        let found = match hints {
            [Some(login), ..] => self.store().find_user_by_login(ctx.realm.id, login).await?,
            [_, Some(token), _] => {
                // One of our ID tokens, issued to this client; it may have expired (it
                // only names the person).
                let c: IdClaims = jws::verify(&ctx.keys, id_token::TYP, token).map_err(|_| {
                    OAuthError::invalid_request("id_token_hint is not an ID token of this realm")
                })?;
                if c.iss != ctx.issuer || !c.aud.contains(client.client_id.as_str()) {
                    return Err(OAuthError::invalid_request(
                        "id_token_hint was not issued to this client by this realm",
                    ));
                }
                match uuid::Uuid::parse_str(&c.sub) {
                    Ok(id) => self
                        .store()
                        .get_user(ctx.realm.id, tessera_domain::UserId(id))
                        .await
                        .ok(),
                    Err(_) => None,
                }
            }
            [_, _, Some(token)] => Some(self.login_hint_token_user(ctx, client, token).await?),
            _ => None,
        };
        found.filter(|u| u.enabled).ok_or_else(unknown)
    }

    /// A `login_hint_token`: a JWT of an identity provider the client's exchange policy
    /// trusts (`trusted_idps`), checked as a JWT bearer assertion (audience our issuer
    /// or token endpoint, short-lived, `jti` once) and mapped to the person as that
    /// provider's tokens are.
    async fn login_hint_token_user(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        token: &str,
    ) -> Result<User, OAuthError> {
        let trusted = client
            .exchange
            .as_ref()
            .map(|x| x.trusted_idps.as_slice())
            .unwrap_or_default();
        if trusted.is_empty() {
            return Err(OAuthError::invalid_request(
                "login_hint_token needs an identity provider the client trusts",
            ));
        }
        let refused = |_| OAuthError::invalid_request("login_hint_token is not acceptable");
        let idp = self
            .trusted_issuer(ctx, token, trusted)
            .await
            .map_err(refused)?;
        let ext = self
            .verify_external(ctx, idp, token, Presented::Assertion, JtiUse::Spend)
            .await
            .map_err(refused)?;
        self.external_user(ctx, &ext)
            .await
            .map_err(|_| OAuthError::UnknownUserId("the hint names no person of this realm".into()))
    }

    /// Mails the person a link to the request, when the realm sends mail and their
    /// address is verified (an unverified one may be someone else's).
    async fn mail_ciba_notice(
        &self,
        ctx: &RealmCtx,
        user: &User,
        r: &ApprovalRequest,
        client_name: &str,
    ) -> Result<(), OAuthError> {
        let Some(to) = user.email.as_ref().filter(|_| user.email_verified) else {
            return Ok(());
        };
        if !self.realm_sends_mail(ctx.realm.id).await? {
            return Ok(());
        }
        let brand = Brand::of(&ctx.realm, None);
        let link = format!("{}/device/requests/{}", ctx.issuer, r.id);
        let message = r
            .binding_message
            .as_deref()
            .map(|m| format!("It shows this message: {m}\n\n"))
            .unwrap_or_default();
        let mail = Mail {
            to,
            subject: format!("{client_name} asks for your approval at {}", brand.name),
            body: format!(
                "{client_name} asks to act for your account {} at {}.\n\n{message}\
                 Open this page to see what it asks for, and approve or deny it \
                 (you will be asked to sign in):\n{link}\n\n\
                 If you did not expect this, deny it.\n",
                user.username, brand.name
            ),
        };
        self.send_mail(ctx.realm.id, mail).await
    }

    /// Tells a ping client the person decided (§10.2): `{"auth_req_id"}` with its
    /// notification token as bearer, through the guarded outbound client, in the
    /// background with bounded retries. A ping that never arrives leaves the client
    /// its poll.
    pub(crate) async fn ping_client(&self, ctx: &RealmCtx, client: &Client, id: uuid::Uuid) {
        let Some(endpoint) = client.oidc.ciba_delivery.endpoint().cloned() else {
            return;
        };
        let sealed = match self
            .store()
            .approval_notification_token(ctx.realm.id, id)
            .await
        {
            Ok(Some(s)) => s,
            _ => return,
        };
        let Some(secret) = self
            .master
            .subkey(NOTIFY_PURPOSE)
            .open(&sealed, &ping_aad(id))
            .ok()
            .and_then(|json| serde_json::from_slice::<PingSecret>(&json).ok())
        else {
            return;
        };
        let outbound = self.outbound.clone();
        let peer = format!("ciba:{}/{}", ctx.realm.name, client.client_id);
        tokio::spawn(async move {
            let body = serde_json::json!({ "auth_req_id": secret.auth_req_id });
            for attempt in 1..=PING_ATTEMPTS {
                let sent = outbound
                    .post_json(&peer, endpoint.as_str(), &secret.token, &body)
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => return,
                    Err(OutboundError::Refused(_)) => return,
                    _ if attempt < PING_ATTEMPTS => {
                        tokio::time::sleep(Duration::from_millis(500 * attempt)).await
                    }
                    _ => {}
                }
            }
            tracing::warn!(
                peer,
                "a CIBA ping failed {PING_ATTEMPTS} times; the client may poll"
            );
        });
    }
}
