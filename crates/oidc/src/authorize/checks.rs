//! One concern per check, in the order `validate` calls them.

use super::{Prompt, ResponseMode, pkce};
use crate::{OAuthError, Params};
use tessera_domain::{Client, GrantType, ScopeSet};

fn invalid(d: &'static str) -> OAuthError {
    OAuthError::invalid_request(d)
}

pub(super) fn client<'c>(
    params: &Params,
    client: Option<&'c Client>,
) -> Result<&'c Client, OAuthError> {
    params
        .get("client_id")
        .ok_or_else(|| invalid("client_id is missing"))?;
    let client = client
        .filter(|c| c.enabled)
        .ok_or_else(|| invalid("unknown client"))?;
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the authorization code flow".into(),
        ));
    }
    Ok(client)
}

/// Exact string match (RFC 9700 §2.1), except that a loopback `http` URI may differ in
/// its port only (RFC 8252 §7.3).
pub fn redirect_uri_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    match (loopback_parts(registered), loopback_parts(given)) {
        (Some(r), Some(g)) => r == g,
        _ => false,
    }
}

/// `(host, path-and-query)` of an `http` loopback URI with an optional port, a number
/// 1–65535 (anything else is not a port, so not the loopback exception).
fn loopback_parts(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let real_port =
        |p: &str| p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0);
    if port.is_some_and(|p| !real_port(p)) {
        return None;
    }
    matches!(host, "127.0.0.1" | "[::1]" | "localhost").then_some((host, tail))
}

pub(super) fn redirect_uri(params: &Params, client: &Client) -> Result<String, OAuthError> {
    match params.get("redirect_uri") {
        Some(given)
            if client
                .redirect_uris
                .iter()
                .any(|r| redirect_uri_matches(r.as_str(), given)) =>
        {
            Ok(given.to_owned())
        }
        Some(_) => Err(invalid("redirect_uri is not registered for this client")),
        // OIDC requires it; with OAuth alone a single registered URI may stand in.
        None if !is_openid(params) && client.redirect_uris.len() == 1 => {
            Ok(client.redirect_uris[0].as_str().to_owned())
        }
        None => Err(invalid("redirect_uri is missing")),
    }
}

fn is_openid(params: &Params) -> bool {
    params
        .get("scope")
        .is_some_and(|s| s.split(' ').any(|x| x == "openid"))
}

pub(super) fn response_mode(params: &Params) -> Result<ResponseMode, OAuthError> {
    match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(_) => Err(invalid("response_mode must be query or form_post")),
    }
}

pub(super) fn no_request_objects(params: &Params) -> Result<(), OAuthError> {
    if params.get("request").is_some() || params.get("request_uri").is_some() {
        return Err(OAuthError::RequestNotSupported);
    }
    Ok(())
}

pub(super) fn response_type(params: &Params) -> Result<(), OAuthError> {
    match params.get("response_type") {
        Some("code") => Ok(()),
        Some(_) => Err(OAuthError::UnsupportedResponseType(
            "only response_type=code is supported".into(),
        )),
        None => Err(invalid("response_type is missing")),
    }
}

pub(super) fn scope(params: &Params, client: &Client) -> Result<ScopeSet, OAuthError> {
    let want = ScopeSet::parse(params.get("scope").unwrap_or_default())
        .map_err(|_| OAuthError::InvalidScope("malformed scope".into()))?;
    if let Some(e) = OAuthError::scopes_refused(want.iter().filter(|s| !client.allows_scope(s))) {
        return Err(e);
    }
    crate::tokens::org_claims::requested_org_scope(&want)?;
    Ok(want)
}

/// `organization=<alias>`: the organization the login is for (shown on the login page,
/// pre-selected for the `organization` scope). Unknown aliases are ignored later.
pub(super) fn organization(params: &Params) -> Result<Option<String>, OAuthError> {
    match params.get("organization") {
        Some(a) if tessera_domain::OrgAlias::parse(a).is_err() => {
            Err(invalid("organization is not an organization alias"))
        }
        a => Ok(a.map(str::to_owned)),
    }
}

/// S256 only; required for public clients (RFC 9700 §2.1.1); a challenge without a
/// method would mean `plain` (RFC 7636 §4.3), which we refuse (PKCE-4).
pub(super) fn pkce(params: &Params, client: &Client) -> Result<Option<String>, OAuthError> {
    let challenge = params.get("code_challenge");
    match (challenge, params.get("code_challenge_method")) {
        (None, None) if client.is_public() => {
            Err(invalid("code_challenge is required for public clients"))
        }
        (None, None) => Ok(None),
        (None, Some(_)) => Err(invalid("code_challenge_method without code_challenge")),
        (Some(_), None) => Err(invalid(
            "code_challenge_method is required and must be S256",
        )),
        (Some(_), Some(m)) if m != "S256" => Err(invalid("code_challenge_method must be S256")),
        (Some(c), Some(_)) if !pkce::challenge_is_well_formed(c) => {
            Err(invalid("code_challenge must be 43 base64url characters"))
        }
        (Some(c), Some(_)) => Ok(Some(c.to_owned())),
    }
}

pub(super) fn prompt(params: &Params) -> Result<Prompt, OAuthError> {
    let mut p = Prompt::default();
    let Some(raw) = params.get("prompt") else {
        return Ok(p);
    };
    for v in raw.split(' ') {
        match v {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            "select_account" => {}
            _ => return Err(invalid("unsupported prompt value")),
        }
    }
    if p.none && (p.login || p.consent || raw.split(' ').count() > 1) {
        return Err(invalid("prompt=none cannot be combined with other values"));
    }
    Ok(p)
}

pub(super) fn max_age(params: &Params) -> Result<Option<i64>, OAuthError> {
    params
        .get("max_age")
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| invalid("max_age must be a non-negative integer"))
        })
        .transpose()
}

/// Free-text parameters we echo or store are bounded.
pub(super) fn bounded(params: &Params, name: &'static str) -> Result<Option<String>, OAuthError> {
    match params.get(name) {
        Some(v) if v.len() > 2048 => Err(OAuthError::InvalidRequest(
            format!("{name} is longer than 2048 bytes").into(),
        )),
        v => Ok(v.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_match_exactly_bcp_1() {
        let r = "https://app.example/cb";
        assert!(redirect_uri_matches(r, r));
        for bad in [
            "https://app.example/cb/x",
            "https://app.example/CB",
            "https://APP.example/cb",
            "https://app.example/cb?x=1",
            "https://app.example.evil.com/cb",
            "https://app.example/cb/..;/evil",
            "https://user@app.example@evil/cb",
            "https://app.example/%63b",
            "https://app.example/cb/",
            "https://app.example/cb#frag",
            "https://app.example:443/cb",
        ] {
            assert!(!redirect_uri_matches(r, bad), "{bad}");
        }
    }

    #[test]
    fn loopback_redirect_uris_may_differ_in_port_only() {
        let r = "http://127.0.0.1:9999/cb";
        assert!(redirect_uri_matches(r, "http://127.0.0.1:51234/cb"));
        assert!(redirect_uri_matches(r, "http://127.0.0.1/cb"));
        assert!(redirect_uri_matches(r, "http://127.0.0.1:65535/cb"));
        assert!(redirect_uri_matches(r, "http://127.0.0.1:1/cb"));
        assert!(redirect_uri_matches(
            "http://[::1]/cb",
            "http://[::1]:8080/cb"
        ));
        for bad in [
            "http://127.0.0.1:1/cb2",
            "http://127.0.0.2:9999/cb",
            "https://127.0.0.1:9999/cb",
            "http://localhost:9999/cb",
            "http://127.0.0.1:99x/cb",
            // Not ports: zero, above 65535, overflowing, empty.
            "http://127.0.0.1:0/cb",
            "http://127.0.0.1:65536/cb",
            "http://127.0.0.1:99999999999999999999/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:+80/cb",
        ] {
            assert!(!redirect_uri_matches(r, bad), "{bad}");
        }
        // Non-loopback http never gets the port exception.
        assert!(!redirect_uri_matches(
            "http://example.com:1/cb",
            "http://example.com:2/cb"
        ));
    }
}
