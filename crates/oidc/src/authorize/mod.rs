//! The authorization endpoint's request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636),
//! validated by an ordered list of small checks. Until `client_id` and `redirect_uri` are
//! proven, errors go to an error page; afterwards they go back to the client (§4.1.2.1).

mod checks;
pub mod pkce;

pub use checks::redirect_uri_matches;

use crate::{OAuthError, Params};
use serde::{Deserialize, Serialize};
use tessera_domain::{Client, ScopeSet};

/// How the response travels back to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// `prompt` values we honour (OIDC Core §3.1.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A validated authorization request. It travels sealed between the pages, and the
/// client's settings are re-read from the server on every step (never trusted from it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// The request named `redirect_uri` (rather than relying on the single registered one).
    #[serde(default = "yes")]
    pub redirect_uri_given: bool,
    pub response_mode: ResponseMode,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// `organization=<alias>`: the organization this login is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The organization picked on the chooser page (re-checked against memberships).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_choice: Option<String>,
    /// Set only in the chooser page's sealed copy: the `sid` of the session that passed
    /// the login checks (`prompt`, `max_age`), so choosing cannot skip them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chooser_sid: Option<String>,
    /// `kc_idp_hint=<alias>`: sign in through this upstream provider without the login page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_hint: Option<String>,
    /// RFC 8707 `resource` and `audience` values: the grant covers only these of the
    /// client's audiences. Empty: all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

impl AuthorizeRequest {
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse(&self.scope).unwrap_or_default()
    }
    pub fn is_openid(&self) -> bool {
        self.scopes().contains("openid")
    }
}

fn yes() -> bool {
    true
}

/// Where an authorization error goes.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI is not proven: show a page, never redirect.
    Page(OAuthError),
    /// Send `error` back to the validated redirect URI.
    Redirect {
        redirect_uri: String,
        response_mode: ResponseMode,
        state: Option<String>,
        error: OAuthError,
    },
}

/// Validates an authorization request for `client` (`None`: unknown or disabled client).
pub fn validate(
    params: &Params,
    client: Option<&Client>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let client = checks::client(params, client).map_err(AuthorizeError::Page)?;
    let redirect_uri = checks::redirect_uri(params, client).map_err(AuthorizeError::Page)?;
    // From here on the redirect URI is proven; only `response_mode` decides how to use it.
    let state = params.get("state").map(str::to_owned);
    let response_mode = checks::response_mode(params).unwrap_or(ResponseMode::Query);
    let redirect = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        response_mode,
        state: state.clone(),
        error,
    };
    checks::response_mode(params).map_err(redirect)?;
    checks::no_request_objects(params).map_err(redirect)?;
    checks::response_type(params).map_err(redirect)?;
    let scope = checks::scope(params, client).map_err(redirect)?;
    let code_challenge = checks::pkce(params, client).map_err(redirect)?;
    let prompt = checks::prompt(params).map_err(redirect)?;
    let max_age = checks::max_age(params).map_err(redirect)?;
    let nonce = checks::bounded(params, "nonce").map_err(redirect)?;
    let login_hint = checks::bounded(params, "login_hint").map_err(redirect)?;
    checks::bounded(params, "state").map_err(redirect)?;
    let organization = checks::organization(params).map_err(redirect)?;
    let idp_hint = checks::bounded(params, "kc_idp_hint").map_err(redirect)?;
    let targets = crate::tokens::targets::requested(params, client).map_err(redirect)?;
    Ok(AuthorizeRequest {
        client_id: client.client_id.to_string(),
        redirect_uri_given: params.get("redirect_uri").is_some(),
        redirect_uri,
        response_mode,
        scope: scope.to_string(),
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        organization,
        org_choice: None,
        chooser_sid: None,
        idp_hint,
        targets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::AuthMethod;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client(public: bool) -> Client {
        let mut c = crate::test_support::client("app");
        if public {
            c.auth_method = AuthMethod::None;
            c.secret_hash = None;
        }
        c
    }

    fn params(extra: &[(&str, &str)]) -> Params {
        let mut p = vec![
            ("client_id", "app"),
            ("redirect_uri", "https://app.example/cb"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            p.retain(|(n, _)| n != k);
            if !v.is_empty() {
                p.push((k, v));
            }
        }
        Params::from_pairs(
            p.into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
        )
    }

    fn redirect_error(r: Result<AuthorizeRequest, AuthorizeError>) -> String {
        match r {
            Err(AuthorizeError::Redirect { error, state, .. }) => {
                assert_eq!(state.as_deref(), Some("s1"), "state is echoed");
                error.code().to_owned()
            }
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    fn page_error(r: Result<AuthorizeRequest, AuthorizeError>) {
        assert!(matches!(r, Err(AuthorizeError::Page(_))), "{r:?}");
    }

    #[test]
    fn a_valid_request_passes_with_its_values() {
        let r = validate(
            &params(&[("nonce", "n"), ("max_age", "60")]),
            Some(&client(true)),
        )
        .unwrap();
        assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
        assert_eq!((r.nonce.as_deref(), r.max_age), (Some("n"), Some(60)));
        assert!(r.is_openid());
    }

    #[test]
    fn unknown_client_or_unregistered_redirect_uri_shows_a_page_bcp_2() {
        page_error(validate(&params(&[]), None));
        page_error(validate(
            &params(&[("redirect_uri", "https://evil.example/cb")]),
            Some(&client(false)),
        ));
        page_error(validate(
            &params(&[("redirect_uri", "")]),
            Some(&client(false)),
        ));
        let mut disabled = client(false);
        disabled.enabled = false;
        page_error(validate(&params(&[]), Some(&disabled)));
    }

    #[test]
    fn pkce_rules_redirect_with_invalid_request_pkce_2_to_5_bcp_6() {
        let c = client(true);
        for extra in [
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            vec![("code_challenge_method", "plain")],
            vec![("code_challenge_method", "S512")],
            vec![("code_challenge_method", "")],
            vec![("code_challenge", "short")],
        ] {
            assert_eq!(
                redirect_error(validate(&params(&extra), Some(&c))),
                "invalid_request",
                "{extra:?}"
            );
        }
        // A confidential client may omit PKCE.
        let r = validate(
            &params(&[("code_challenge", ""), ("code_challenge_method", "")]),
            Some(&client(false)),
        );
        assert!(r.unwrap().code_challenge.is_none());
    }

    #[test]
    fn response_type_scope_prompt_and_request_objects_redirect_with_their_codes() {
        let c = client(false);
        let code = |extra: &[(&str, &str)]| redirect_error(validate(&params(extra), Some(&c)));
        assert_eq!(
            code(&[("response_type", "token")]),
            "unsupported_response_type"
        );
        assert_eq!(code(&[("scope", "openid admin")]), "invalid_scope");
        assert_eq!(code(&[("prompt", "none login")]), "invalid_request");
        assert_eq!(code(&[("max_age", "-1")]), "invalid_request");
        assert_eq!(code(&[("request", "eyJ")]), "request_not_supported");
        assert_eq!(code(&[("response_mode", "fragment")]), "invalid_request");
    }
}
