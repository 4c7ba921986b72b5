//! `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693): the request is parsed at
//! the edge, planned by the exchange rules (see `crate::token::exchange`), then issued.

use super::TokenResponse;
use crate::token::exchange::{ExchangeRequest, Mode};
use crate::{OAuthError, Params, Provider, RealmCtx};
use tessera_domain::Client;

pub(super) async fn exchange(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let req = ExchangeRequest::parse(params)?;
    let plan = p.plan_exchange(ctx, client, &req, Mode::Issue).await?;
    p.issue_exchange(ctx, client, plan).await
}
