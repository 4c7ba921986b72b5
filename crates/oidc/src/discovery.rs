//! The OpenID Provider / RFC 8414 metadata document, rendered once per realm cache fill.
//! It advertises only what works today.

use crate::keys::KeyRing;
use serde::Serialize;

#[derive(Serialize)]
struct Metadata<'a> {
    issuer: &'a str,
    token_endpoint: String,
    jwks_uri: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    grant_types_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    /// Algorithms this realm signs access tokens with; resource servers pin them (RFC 9068 §4).
    access_token_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 8414 requires the member; no response type works until the authorization endpoint exists.
    response_types_supported: [&'static str; 0],
}

pub fn document(issuer: &str, keys: &KeyRing) -> String {
    const AUTH: [&str; 2] = ["client_secret_basic", "client_secret_post"];
    let e = |p: &str| format!("{issuer}/protocol/openid-connect/{p}");
    let m = Metadata {
        issuer,
        token_endpoint: e("token"),
        jwks_uri: e("certs"),
        introspection_endpoint: e("token/introspect"),
        revocation_endpoint: e("revoke"),
        grant_types_supported: ["client_credentials"],
        token_endpoint_auth_methods_supported: AUTH,
        introspection_endpoint_auth_methods_supported: AUTH,
        revocation_endpoint_auth_methods_supported: AUTH,
        access_token_signing_alg_values_supported: keys
            .algs()
            .into_iter()
            .map(|a| a.as_str())
            .collect(),
        response_types_supported: [],
    };
    serde_json::to_string(&m).expect("metadata serializes")
}
