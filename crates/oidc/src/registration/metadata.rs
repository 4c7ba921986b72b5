//! RFC 7591 §2 client metadata as JSON, in and out: the request mapped onto the one
//! client builder's [`ClientMetadata`], and a stored client described back.

use crate::OAuthError;
use crate::clients::metadata::ClientMetadata;
use serde::{Deserialize, Serialize};
use tessera_domain::{AuthMethod, Client, ClientKeys, GrantType};

/// A registration or update request (RFC 7591 §2, OpenID Connect Registration §2).
/// Metadata we do not know is ignored, as RFC 7591 §2 requires.
#[derive(Debug, Default, Deserialize)]
pub struct RegistrationRequest {
    /// Only in an RFC 7592 update, where it must name the client being updated.
    pub client_id: Option<String>,
    /// Only in an RFC 7592 update; when present it must be the current secret.
    pub client_secret: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    #[serde(default)]
    pub contacts: Vec<String>,
    /// Space-separated.
    pub scope: Option<String>,
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub software_statement: Option<serde_json::Value>,
    pub application_type: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    /// CIBA Core §4: poll or ping, and a ping's notification endpoint.
    pub backchannel_token_delivery_mode: Option<String>,
    pub backchannel_client_notification_endpoint: Option<String>,
}

impl RegistrationRequest {
    /// Parses a JSON body: anything but an object of the right member types is
    /// `invalid_client_metadata` (RFC 7591 §3.2.2).
    pub fn from_json(body: &[u8]) -> Result<Self, OAuthError> {
        let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
            OAuthError::InvalidClientMetadata("the body is not a JSON object".into())
        })?;
        if !v.is_object() {
            return Err(OAuthError::InvalidClientMetadata(
                "the body is not a JSON object".into(),
            ));
        }
        serde_json::from_value(v).map_err(|e| {
            // serde's text names the member and the type it wanted; nothing of ours.
            OAuthError::InvalidClientMetadata(format!("{e}").into())
        })
    }

    /// The metadata for the builder. RFC 7591 §2 defaults: `grant_types`
    /// [authorization_code], `response_types` [code], `token_endpoint_auth_method`
    /// client_secret_basic; OpenID Connect Registration: `application_type` web.
    /// Everything the request cannot set (roles, exchange policy, APIs, the admin
    /// console flag, the organization) stays as in `base`.
    pub fn into_metadata(self, base: ClientMetadata) -> Result<ClientMetadata, OAuthError> {
        if self.software_statement.is_some() {
            return Err(OAuthError::InvalidSoftwareStatement(
                "software statements are not supported".into(),
            ));
        }
        let grant_types = self
            .grant_types
            .unwrap_or_else(|| vec![GrantType::AuthorizationCode.as_str().to_owned()]);
        let code_flow = grant_types
            .iter()
            .any(|g| g == GrantType::AuthorizationCode.as_str());
        let response_types = self.response_types.unwrap_or_else(|| {
            if code_flow {
                vec!["code".into()]
            } else {
                vec![]
            }
        });
        if let Some(bad) = response_types.iter().find(|r| *r != "code") {
            return Err(OAuthError::InvalidClientMetadata(
                format!("response type {bad:?} is not supported; use code").into(),
            ));
        }
        // RFC 7591 §2.1: the code response type goes with the authorization_code grant.
        if code_flow == response_types.is_empty() {
            return Err(OAuthError::InvalidClientMetadata(
                "response_types [code] and grant type authorization_code go together".into(),
            ));
        }
        let scopes = self.scope.map(|s| {
            s.split(' ')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        });
        Ok(ClientMetadata {
            name: self.client_name,
            public: false,
            redirect_uris: self.redirect_uris,
            grant_types: Some(grant_types),
            scopes,
            id_token_alg: self.id_token_signed_response_alg,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            backchannel_logout_uri: self.backchannel_logout_uri,
            backchannel_token_delivery_mode: self.backchannel_token_delivery_mode,
            backchannel_client_notification_endpoint: self.backchannel_client_notification_endpoint,
            token_endpoint_auth_method: Some(
                self.token_endpoint_auth_method
                    .unwrap_or_else(|| AuthMethod::ClientSecretBasic.as_str().to_owned()),
            ),
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            application_type: Some(self.application_type.unwrap_or_else(|| "web".into())),
            client_uri: self.client_uri,
            logo_uri: self.logo_uri,
            tos_uri: self.tos_uri,
            policy_uri: self.policy_uri,
            contacts: self.contacts,
            software_id: self.software_id,
            software_version: self.software_version,
            ..base
        })
    }
}

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): the registered
/// metadata, and the credentials when they were just issued.
#[derive(Debug, Serialize)]
pub struct ClientInformation {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub client_id_issued_at: i64,
    /// Present for a client with a secret: 0, it does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// Shown when issued (registration and update), never on read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<String>,
    pub registration_client_uri: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<&'static str>,
    pub response_types: Vec<&'static str>,
    pub token_endpoint_auth_method: &'static str,
    pub application_type: &'static str,
    pub scope: String,
    pub id_token_signed_response_alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_token_delivery_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_client_notification_endpoint: Option<String>,
}

impl ClientInformation {
    pub fn of(c: &Client, registration_client_uri: String) -> Self {
        let uris = |v: &[tessera_domain::RedirectUri]| {
            v.iter().map(|u| u.as_str().to_owned()).collect::<Vec<_>>()
        };
        let code_flow = c.allows_grant(GrantType::AuthorizationCode);
        Self {
            client_id: c.client_id.to_string(),
            client_secret: None,
            client_id_issued_at: c.created_at.0,
            client_secret_expires_at: c.auth_method.uses_secret().then_some(0),
            registration_access_token: None,
            registration_client_uri,
            client_name: c.name.clone(),
            redirect_uris: uris(&c.redirect_uris),
            post_logout_redirect_uris: uris(&c.oidc.post_logout_redirect_uris),
            grant_types: c.grant_types.iter().map(|g| g.as_str()).collect(),
            response_types: if code_flow { vec!["code"] } else { vec![] },
            token_endpoint_auth_method: c.auth_method.as_str(),
            application_type: c.profile.application_type.as_str(),
            scope: c.scopes.to_string(),
            id_token_signed_response_alg: c.oidc.id_token_alg.as_str(),
            client_uri: c.profile.client_uri.clone(),
            logo_uri: c.profile.logo_uri.clone(),
            tos_uri: c.profile.tos_uri.clone(),
            policy_uri: c.profile.policy_uri.clone(),
            contacts: c.profile.contacts.clone(),
            jwks: c.keys.as_ref().and_then(ClientKeys::jwks),
            jwks_uri: c.keys.as_ref().and_then(ClientKeys::jwks_uri),
            software_id: c.profile.software_id.clone(),
            software_version: c.profile.software_version.clone(),
            backchannel_logout_uri: c
                .oidc
                .backchannel_logout_uri
                .as_ref()
                .map(|u| u.as_str().to_owned()),
            backchannel_token_delivery_mode: c
                .allows_grant(GrantType::Ciba)
                .then(|| c.oidc.ciba_delivery.mode()),
            backchannel_client_notification_endpoint: c
                .oidc
                .ciba_delivery
                .endpoint()
                .map(|u| u.as_str().to_owned()),
        }
    }
}
