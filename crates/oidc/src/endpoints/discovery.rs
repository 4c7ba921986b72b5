//! The OpenID Provider / RFC 8414 metadata document, rendered once per realm cache fill.
//! It advertises only what works today.

use crate::clients::ASSERTION_ALGS;
use crate::crypto::keys::KeyRing;
use serde::Serialize;
use tessera_domain::GrantType;

#[derive(Serialize)]
struct Metadata<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    end_session_endpoint: String,
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
    jwks_uri: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    /// RFC 7591 §3; who may register is the realm's setting (an initial token by default).
    registration_endpoint: String,
    /// RFC 8628 §4.
    device_authorization_endpoint: String,
    /// CIBA Core §4: poll and ping; no user codes of the person's own.
    backchannel_authentication_endpoint: String,
    backchannel_token_delivery_modes_supported: [&'static str; 2],
    backchannel_user_code_parameter_supported: bool,
    grant_types_supported: [&'static str; 7],
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 2],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: Vec<&'static str>,
    code_challenge_methods_supported: [&'static str; 1],
    authorization_response_iss_parameter_supported: bool,
    scopes_supported: [&'static str; 5],
    claims_supported: [&'static str; 18],
    prompt_values_supported: [&'static str; 3],
    token_endpoint_auth_methods_supported: [&'static str; 3],
    introspection_endpoint_auth_methods_supported: [&'static str; 3],
    revocation_endpoint_auth_methods_supported: [&'static str; 3],
    /// What `private_key_jwt` assertions may be signed with (`crate::clients::assertion`).
    token_endpoint_auth_signing_alg_values_supported: [&'static str; 4],
    introspection_endpoint_auth_signing_alg_values_supported: [&'static str; 4],
    revocation_endpoint_auth_signing_alg_values_supported: [&'static str; 4],
    /// A `client_id` may be the URL of the client's metadata document (`clients::document`).
    client_id_metadata_document_supported: bool,
    /// Algorithms this realm signs access tokens with; resource servers pin them (RFC 9068 §4).
    access_token_signing_alg_values_supported: Vec<&'static str>,
}

/// The URL of one of a realm's protocol endpoints, e.g. `endpoint(issuer, "token")`.
pub(crate) fn endpoint(issuer: &str, path: &str) -> String {
    format!("{issuer}/protocol/openid-connect/{path}")
}

pub fn document(issuer: &str, keys: &KeyRing) -> String {
    const AUTH: [&str; 3] = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    let e = |p: &str| endpoint(issuer, p);
    let algs: Vec<&'static str> = keys.algs().into_iter().map(|a| a.as_str()).collect();
    let m = Metadata {
        issuer,
        authorization_endpoint: e("auth"),
        token_endpoint: e("token"),
        userinfo_endpoint: e("userinfo"),
        end_session_endpoint: e("logout"),
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        jwks_uri: e("certs"),
        introspection_endpoint: e("token/introspect"),
        revocation_endpoint: e("revoke"),
        registration_endpoint: format!("{issuer}/clients-registrations/openid-connect"),
        device_authorization_endpoint: e("auth/device"),
        backchannel_authentication_endpoint: e("ext/ciba/auth"),
        backchannel_token_delivery_modes_supported: ["poll", "ping"],
        backchannel_user_code_parameter_supported: false,
        grant_types_supported: GrantType::ALL.map(GrantType::as_str),
        response_types_supported: ["code"],
        response_modes_supported: ["query", "form_post"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: algs.clone(),
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
        scopes_supported: [
            "openid",
            "profile",
            "email",
            "offline_access",
            "organization",
        ],
        claims_supported: [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "sid",
            "azp",
            "preferred_username",
            "name",
            "given_name",
            "family_name",
            "email",
            "email_verified",
            "organization",
            "org_id",
        ],
        prompt_values_supported: ["none", "login", "consent"],
        token_endpoint_auth_methods_supported: AUTH,
        introspection_endpoint_auth_methods_supported: AUTH,
        revocation_endpoint_auth_methods_supported: AUTH,
        token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
        introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
        revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
        client_id_metadata_document_supported: true,
        access_token_signing_alg_values_supported: algs,
    };
    serde_json::to_string(&m).expect("metadata serializes")
}
