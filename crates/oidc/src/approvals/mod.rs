//! Requests approved elsewhere: the device authorization grant (`device.rs`, RFC 8628)
//! and client-initiated backchannel authentication (`ciba.rs`, CIBA Core 1.0) start a
//! pending request; the person decides on a page (`interaction/approve.rs`); the client
//! polls at the token endpoint (`token/device_code.rs`, `token/ciba.rs`) through
//! [`Provider::poll_approval`] here. A request is one row: polling reads it (one indexed
//! SELECT, no write), deciding and redeeming are one conditional UPDATE each.
//!
//! How fast a client polls is kept in this process's memory, so a poll costs no write;
//! with several instances a client alternating between them could poll up to that many
//! times as often. A request read as pending is answered from memory until a decision is
//! heard of (`poll_clock.rs`), so a device waiting at its interval costs no read either.

pub mod ciba;
pub mod device;
pub mod poll_clock;

use crate::crypto::sha256;
use crate::tokens::org_claims::requested_org_scope;
use crate::{OAuthError, Params, Provider, RealmCtx};
use poll_clock::Handle;
use tessera_domain::{
    ApprovalKind, ApprovalRequest, ApprovalStatus, CibaDelivery, Client, ScopeSet, UnixTime,
};

/// The longest device code or `auth_req_id` we would ever have issued.
const MAX_HANDLE_LEN: usize = 128;

/// The scope a device or CIBA request asks for, checked against the client: every scope
/// allowed, the organization forms well-formed.
pub(crate) fn requested_scope(client: &Client, params: &Params) -> Result<ScopeSet, OAuthError> {
    let scope = match params.get("scope") {
        Some(s) => {
            ScopeSet::parse(s).map_err(|e| OAuthError::InvalidScope(e.to_string().into()))?
        }
        None => ScopeSet::default(),
    };
    if let Some(e) = OAuthError::scopes_refused(client.first_disallowed(&scope).into_iter()) {
        return Err(e);
    }
    requested_org_scope(&scope)?;
    Ok(scope)
}

impl Provider {
    /// The token endpoint's half of both grants: the request `handle` (a device code or
    /// an `auth_req_id`) names, redeemed once it is approved. Until then the RFC 8628
    /// §3.5 errors, which CIBA §11 shares.
    pub(crate) async fn poll_approval(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        kind: ApprovalKind,
        handle: &str,
    ) -> Result<ApprovalRequest, OAuthError> {
        let what = match kind {
            ApprovalKind::Device => "device_code",
            ApprovalKind::Ciba => "auth_req_id",
        };
        let unknown = || OAuthError::InvalidGrant(format!("the {what} is invalid").into());
        if handle.is_empty() || handle.len() > MAX_HANDLE_LEN {
            return Err(unknown());
        }
        let now_ms = self.clock().now_millis();
        let handle = Handle::new(ctx.realm.id, kind, sha256(handle.as_bytes()));
        // Still waiting when last read, and nothing decided since: answered from memory. Not
        // for a ping client: it polls right after the ping, perhaps at a server that has not
        // heard of the decision yet, and it does not poll at an interval anyway.
        let pinged = kind == ApprovalKind::Ciba
            && matches!(client.oidc.ciba_delivery, CibaDelivery::Ping { .. });
        if let Some(w) = self.polls.waiting(&handle, now_ms).filter(|_| !pinged) {
            if w.client != client.id {
                return Err(unknown());
            }
            return Err(if self.polls.poll(w.id, now_ms) {
                OAuthError::AuthorizationPending
            } else {
                OAuthError::SlowDown
            });
        }
        let epoch = self.polls.epoch();
        let r = self
            .store()
            .find_approval_by_handle(ctx.realm.id, kind, handle.hash())
            .await?
            .ok_or_else(unknown)?;
        self.polls.remember(handle, &r, epoch, now_ms);
        // Another client's request: no answer about it, and its poll clock stays untouched.
        if r.client != client.id {
            return Err(unknown());
        }
        // One reading of the clock for both the poll clock and the expiry.
        let now = UnixTime(now_ms.div_euclid(1000));
        if !self.polls.poll(r.id, now_ms) {
            return Err(OAuthError::SlowDown);
        }
        if !r.is_live(now) {
            return Err(OAuthError::ExpiredToken);
        }
        match r.status {
            ApprovalStatus::Pending => Err(OAuthError::AuthorizationPending),
            ApprovalStatus::Denied => Err(OAuthError::AccessDenied(
                "the person denied the request".into(),
            )),
            ApprovalStatus::Redeemed => Err(OAuthError::InvalidGrant(
                format!("the {what} was already used").into(),
            )),
            ApprovalStatus::Approved => self
                .store()
                .redeem_request(ctx.realm.id, r.id, client.id, now)
                .await?
                .ok_or_else(|| {
                    OAuthError::InvalidGrant(format!("the {what} was already used").into())
                }),
        }
    }
}
