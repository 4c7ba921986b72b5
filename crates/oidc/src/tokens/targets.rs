//! Who an access token is for (RFC 8707): the client's declared audiences, narrowed by a
//! request's `resource` and `audience` values, plus this realm's issuer while the token is
//! meant for userinfo.

use crate::{OAuthError, Params, RealmCtx};
use tessera_domain::{Client, ResourceUri, ScopeSet};

/// More targets than this in one request is never legitimate.
const MAX_TARGETS: usize = 20;

/// `invalid_target` naming the value (cut to 64 characters) and why.
pub(crate) fn invalid_target(what: &str, value: &str, why: &str) -> OAuthError {
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

/// What an access token is for.
#[derive(Debug, PartialEq, Eq)]
pub enum Targets {
    /// Nothing was asked for: the client's audiences.
    Default(Vec<String>),
    /// The authorization or token request named these (RFC 8707 §2: the token is for them).
    Requested(Vec<String>),
}

impl Targets {
    /// The targets of a token request (`asked`) on a grant whose authorization request
    /// named `granted` (empty: none): a later request may only narrow them.
    pub fn of_request(
        asked: Vec<String>,
        granted: &[String],
        client: &Client,
    ) -> Result<Self, OAuthError> {
        if granted.is_empty() && asked.is_empty() {
            return Ok(Self::Default(client.apis.audiences.clone()));
        }
        let within = if granted.is_empty() {
            &client.apis.audiences
        } else {
            granted
        };
        if let Some(r) = asked.iter().find(|r| !within.contains(r)) {
            return Err(invalid_target(
                "resource",
                r,
                "was not part of the original grant",
            ));
        }
        Ok(Self::Requested(if asked.is_empty() {
            granted.to_vec()
        } else {
            asked
        }))
    }

    /// The `aud` of the access token: exactly what was requested (RES-5); otherwise the
    /// client's audiences, and this realm's issuer while the token may call userinfo
    /// (`openid` granted) or names nothing else.
    pub fn audience(self, ctx: &RealmCtx, scope: &ScopeSet) -> Vec<String> {
        match self {
            Self::Requested(list) => list,
            Self::Default(list) => {
                let mut aud = Vec::with_capacity(list.len() + 1);
                if scope.contains("openid") || list.is_empty() {
                    aud.push(ctx.issuer.clone());
                }
                aud.extend(list.into_iter().filter(|t| *t != ctx.issuer));
                aud
            }
        }
    }

    /// For the consent page: every API the grant would reach.
    pub fn list(&self) -> &[String] {
        match self {
            Self::Default(l) | Self::Requested(l) => l,
        }
    }
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
        let c = client(&["a:1", "a:2", "a:3"]);
        let granted = vec!["a:1".to_string(), "a:2".to_string()];
        let of = |asked: &[&str], granted: &[String]| {
            Targets::of_request(asked.iter().map(|s| s.to_string()).collect(), granted, &c)
        };
        assert_eq!(
            of(&[], &granted).unwrap(),
            Targets::Requested(granted.clone())
        );
        assert_eq!(
            of(&["a:2"], &granted).unwrap(),
            Targets::Requested(vec!["a:2".into()])
        );
        assert_eq!(of(&["a:3"], &granted).unwrap_err().code(), "invalid_target");
        // Nothing granted or asked: the client's audiences, by default.
        assert_eq!(
            of(&[], &[]).unwrap(),
            Targets::Default(c.apis.audiences.clone())
        );
        assert_eq!(
            of(&["a:3"], &[]).unwrap(),
            Targets::Requested(vec!["a:3".into()])
        );
    }
}
