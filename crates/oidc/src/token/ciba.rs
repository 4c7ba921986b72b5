//! `urn:openid:params:grant-type:ciba` (CIBA Core §10.1, poll and ping modes): the client
//! takes the tokens of a backchannel authentication request once the person approved it.

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
    if client.is_public() {
        return Err(OAuthError::UnauthorizedClient(
            "CIBA is for confidential clients".into(),
        ));
    }
    let id = params.require("auth_req_id")?;
    let approved = p.poll_approval(ctx, client, ApprovalKind::Ciba, id).await?;
    issue_for_approval(p, ctx, client, approved).await
}
