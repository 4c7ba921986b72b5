//! The token-exchange request, parsed at the edge (RFC 8693 §2.1).

use super::bad;
use crate::{OAuthError, Params};
use tessera_domain::{ScopeSet, TokenType};

/// A token-exchange request, parsed at the edge (RFC 8693 §2.1).
#[derive(Debug, Clone)]
pub struct ExchangeRequest {
    pub subject_token: String,
    pub subject_token_type: TokenType,
    pub actor: Option<(String, TokenType)>,
    pub requested: TokenType,
    pub audiences: Vec<String>,
    pub resources: Vec<String>,
    pub scope: Option<ScopeSet>,
    pub organization: Option<String>,
}

impl ExchangeRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        let subject_token = p
            .get("subject_token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("subject_token is missing"))?;
        let kind = |name: &'static str, v: &str| {
            TokenType::parse(v).map_err(|_| {
                OAuthError::InvalidRequest(format!("{name} is not a supported token type").into())
            })
        };
        let subject_token_type = kind(
            "subject_token_type",
            p.get("subject_token_type")
                .ok_or_else(|| bad("subject_token_type is missing"))?,
        )?;
        // actor_token_type is required with actor_token and forbidden without (§2.1).
        let actor = match (p.get("actor_token"), p.get("actor_token_type")) {
            (Some(t), Some(k)) if !t.is_empty() => {
                Some((t.to_owned(), kind("actor_token_type", k)?))
            }
            (None, None) => None,
            (Some(_), None) => return Err(bad("actor_token_type is required with actor_token")),
            _ => return Err(bad("actor_token_type without actor_token")),
        };
        let requested = match p.get("requested_token_type") {
            None => TokenType::AccessToken,
            Some(v) => match kind("requested_token_type", v)? {
                t @ (TokenType::AccessToken | TokenType::Jwt | TokenType::RefreshToken) => t,
                _ => {
                    return Err(bad(
                        "requested_token_type must be access_token, jwt or refresh_token",
                    ));
                }
            },
        };
        let audiences: Vec<String> = p.get_all("audience").map(str::to_owned).collect();
        let resources: Vec<String> = p.get_all("resource").map(str::to_owned).collect();
        if audiences.len() + resources.len() > 20 {
            return Err(bad("at most 20 audience and resource values"));
        }
        if let Some(r) = resources
            .iter()
            .find(|r| tessera_domain::ResourceUri::parse(r).is_err())
        {
            return Err(crate::tokens::targets::invalid_target(
                "resource",
                r,
                "is not an absolute URI without fragment",
            ));
        }
        let scope = p
            .get("scope")
            .map(|s| {
                ScopeSet::parse(s).map_err(|_| OAuthError::InvalidScope("malformed scope".into()))
            })
            .transpose()?;
        Ok(Self {
            subject_token: subject_token.to_owned(),
            subject_token_type,
            actor,
            requested,
            audiences,
            resources,
            scope,
            organization: p.get("organization").map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        )
    }

    const AT: &str = "urn:ietf:params:oauth:token-type:access_token";

    #[test]
    fn subject_token_and_type_are_required_and_actor_parameters_come_in_pairs() {
        let code = |p: &[(&str, &str)]| ExchangeRequest::parse(&params(p)).unwrap_err().code();
        assert_eq!(code(&[("subject_token_type", AT)]), "invalid_request");
        assert_eq!(code(&[("subject_token", "t")]), "invalid_request");
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("actor_token", "a")
            ]),
            "invalid_request"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("actor_token_type", AT)
            ]),
            "invalid_request"
        );
        assert_eq!(
            code(&[("subject_token", "t"), ("subject_token_type", "urn:x")]),
            "invalid_request"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:id_token"
                ),
            ]),
            "invalid_request"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("resource", "relative/path")
            ]),
            "invalid_target"
        );
        assert_eq!(
            code(&[
                ("subject_token", "t"),
                ("subject_token_type", AT),
                ("scope", "a  b")
            ]),
            "invalid_scope"
        );
    }

    #[test]
    fn audiences_and_resources_repeat_and_the_default_is_an_access_token() {
        let r = ExchangeRequest::parse(&params(&[
            ("subject_token", "t"),
            ("subject_token_type", AT),
            ("audience", "a"),
            ("audience", "b"),
            ("resource", "https://r.example/"),
        ]))
        .unwrap();
        assert_eq!(r.audiences, ["a", "b"]);
        assert_eq!(r.resources, ["https://r.example/"]);
        assert_eq!(r.requested, TokenType::AccessToken);
        assert!(r.actor.is_none());
    }
}
