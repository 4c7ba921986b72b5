//! Who an access token is for (RFC 8707): the client's declared audiences, narrowed by a
//! request's `resource` and `audience` values, plus this realm's issuer while the token is
//! meant for userinfo.

use crate::{OAuthError, Params, RealmCtx};
use tessera_domain::{Client, ResourceUri, ScopeSet};

/// More targets than this in one request is never legitimate.
const MAX_TARGETS: usize = 20;

fn invalid_target(what: &str, value: &str, why: &str) -> OAuthError {
    let shown: String = value.chars().take(64).collect();
    OAuthError::InvalidTarget(format!("{what} {shown} {why}").into())
}

/// The `resource` (absolute URIs without fragment) and `audience` values of a request, in
/// order and without repeats; each must be one of the client's audiences. Empty: the
/// request did not narrow.
pub fn requested(params: &Params, client: &Client) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for (what, v) in params
        .get_all("resource")
        .map(|v| ("resource", v))
        .chain(params.get_all("audience").map(|v| ("audience", v)))
    {
        if what == "resource" && ResourceUri::parse(v).is_err() {
            return Err(invalid_target(
                what,
                v,
                "is not an absolute URI without fragment",
            ));
        }
        if !client.apis.audiences.iter().any(|a| a == v) {
            return Err(invalid_target(
                what,
                v,
                "is not one of this client's audiences",
            ));
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
        if out.len() > MAX_TARGETS {
            return Err(OAuthError::invalid_request(
                "at most 20 resource and audience values",
            ));
        }
    }
    Ok(out)
}

/// What a grant covers: the targets its authorization request named, or else all of the
/// client's audiences.
pub fn of_grant(granted: &[String], client: &Client) -> Vec<String> {
    if granted.is_empty() {
        client.apis.audiences.clone()
    } else {
        granted.to_vec()
    }
}

/// A later request (code redemption, refresh) may only narrow what was granted.
pub fn within(requested: Vec<String>, granted: &[String]) -> Result<Vec<String>, OAuthError> {
    if let Some(r) = requested.iter().find(|r| !granted.contains(r)) {
        return Err(invalid_target(
            "resource",
            r,
            "was not part of the original grant",
        ));
    }
    Ok(if requested.is_empty() {
        granted.to_vec()
    } else {
        requested
    })
}

/// The `aud` of an access token: its targets, and this realm's issuer when the token may
/// call userinfo (`openid` granted) or names nothing else.
pub fn access_audience(ctx: &RealmCtx, targets: Vec<String>, scope: &ScopeSet) -> Vec<String> {
    let mut aud = Vec::with_capacity(targets.len() + 1);
    if scope.contains("openid") || targets.is_empty() {
        aud.push(ctx.issuer.clone());
    }
    for t in targets {
        if !aud.contains(&t) {
            aud.push(t);
        }
    }
    aud
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(audiences: &[&str]) -> Client {
        let mut c = crate::test_support::client("app");
        c.apis.audiences = audiences.iter().map(|s| s.to_string()).collect();
        c
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn resources_and_audiences_must_be_among_the_clients_audiences() {
        let c = client(&["https://api.example/orders", "billing"]);
        let got = requested(
            &params(&[
                ("resource", "https://api.example/orders"),
                ("audience", "billing"),
                ("resource", "https://api.example/orders"),
            ]),
            &c,
        )
        .unwrap();
        assert_eq!(got, ["https://api.example/orders", "billing"]);
        for bad in [
            ("resource", "https://api.example/other"),
            ("resource", "https://api.example/orders#x"),
            ("resource", "billing"),
            ("audience", "someone-else"),
        ] {
            let e = requested(&params(&[bad]), &c).unwrap_err();
            assert_eq!(e.code(), "invalid_target", "{bad:?}");
        }
        assert!(requested(&params(&[]), &c).unwrap().is_empty());
    }

    #[test]
    fn later_requests_only_narrow_the_grant() {
        let granted = vec!["a:1".to_string(), "a:2".to_string()];
        assert_eq!(within(vec![], &granted).unwrap(), granted);
        assert_eq!(within(vec!["a:2".into()], &granted).unwrap(), ["a:2"]);
        assert_eq!(
            within(vec!["a:3".into()], &granted).unwrap_err().code(),
            "invalid_target"
        );
    }
}
