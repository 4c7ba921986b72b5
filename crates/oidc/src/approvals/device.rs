//! The device authorization endpoint (RFC 8628 §3.1–3.2): a device code for the client to
//! poll with, a user code for the person to type at the verification page.

use super::requested_scope;
use crate::clients::auth::{BasicCredentials, Endpoint};
use crate::crypto::{random_bytes, random_token, sha256};
use crate::interaction::passwords::{Account, LoginLimiter, millis};
use crate::tokens::targets::{self, Targets};
use crate::{OAuthError, Params, Provider};
use serde::Serialize;
use std::net::IpAddr;
use tessera_domain::{ApprovalKind, ApprovalRequest, ApprovalStatus, GrantType, UserCode};
use tessera_storage::{ApprovalSecrets, StoreError};

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

impl Provider {
    /// The verification page a person types the user code at.
    pub fn verification_uri(&self, issuer: &str) -> String {
        format!("{issuer}/device")
    }

    /// Handles `POST …/protocol/openid-connect/auth/device`.
    pub async fn device_authorization(
        &self,
        realm: &str,
        basic: Option<BasicCredentials>,
        params: &Params,
        client_ip: Option<IpAddr>,
    ) -> Result<DeviceAuthorization, OAuthError> {
        let ctx = self.realm(realm).await?;
        let client = self
            .authenticate_client(&ctx, basic, params, Endpoint::Token)
            .await?;
        if !client.allows_grant(GrantType::DeviceCode) {
            return Err(OAuthError::UnauthorizedClient(
                "the device grant is not enabled for this client".into(),
            ));
        }
        let scope = requested_scope(&client, params)?;
        let asked = targets::requested(params, &client)?;
        Targets::of_request(asked.clone(), &[], &client)?;
        // Anyone may use a public client's id: its requests are budgeted per address
        // (a confidential client answers for its own).
        if client.is_public() {
            let limiter = LoginLimiter::device_requests();
            let account = Account::of(None, client.client_id.as_str());
            let now = millis(self.clock().now());
            if let Some(wait) = limiter
                .blocked_for(self.store(), ctx.realm.id, client_ip, &account, now)
                .await?
            {
                return Err(OAuthError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
            limiter
                .record_failure(self.store(), ctx.realm.id, client_ip, &account, now)
                .await?;
        }
        let now = self.clock().now();
        let s = ctx.realm.approvals;
        let request = ApprovalRequest {
            id: uuid::Uuid::now_v7(),
            realm_id: ctx.realm.id,
            kind: ApprovalKind::Device,
            client: client.id,
            scope,
            targets: asked,
            user_id: None,
            binding_message: None,
            acr_values: None,
            status: ApprovalStatus::Pending,
            approval: None,
            interval_secs: s.device_poll_interval_secs,
            created_at: now,
            expires_at: now.plus_secs(s.device_code_lifetime_secs),
            decided_at: None,
        };
        let device_code = random_token();
        // A user code may collide with a live one (1 in 2.6·10^10 per pair): draw again.
        for _ in 0..4 {
            let user_code = UserCode::from_random(random_bytes());
            let secrets = ApprovalSecrets {
                handle_hash: sha256(device_code.as_bytes()),
                user_code_hash: Some(sha256(user_code.as_str().as_bytes())),
                notification_token: None,
            };
            match self
                .store()
                .insert_approval_request(&request, secrets)
                .await
            {
                Ok(()) => {
                    let verification_uri = self.verification_uri(&ctx.issuer);
                    return Ok(DeviceAuthorization {
                        device_code,
                        verification_uri_complete: format!(
                            "{verification_uri}?user_code={}",
                            user_code.display()
                        ),
                        user_code: user_code.display(),
                        verification_uri,
                        expires_in: s.device_code_lifetime_secs,
                        interval: s.device_poll_interval_secs,
                    });
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(OAuthError::TemporarilyUnavailable)
    }
}
