//! `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): the device polls
//! with its device code until the person decides at the verification page.

use super::TokenResponse;
use super::user_tokens::issue_for_approval;
use crate::{OAuthError, Params, Provider, RealmCtx};
use tessera_domain::{ApprovalKind, Client};

pub(super) async fn exchange(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("device_code")?;
    let approved = p
        .poll_approval(ctx, client, ApprovalKind::Device, code)
        .await?;
    issue_for_approval(p, ctx, client, approved).await
}
