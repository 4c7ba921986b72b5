//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, as MCP
//! clients use them): a `client_id` that is an http(s) URL names a JSON document describing
//! the client. Unknown to the realm, it is fetched through the outbound client (small, fast,
//! cached), checked, and kept as a client row (grants and refresh tokens refer to one),
//! rewritten when the document is fetched again. Such a client is always third-party: no
//! secret, consent asked, PKCE for a public one, `private_key_jwt` with a `jwks_uri` else.

use super::metadata::ClientMetadata;
use crate::{OAuthError, Provider, RealmCtx};
use serde::Deserialize;
use tessera_domain::{Client, ClientId};

/// Client metadata is small; a bigger document is refused.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;

/// The members we read (RFC 7591 §2 names). Unknown members are ignored, as §2 asks.
#[derive(Deserialize)]
struct Document {
    client_id: String,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    jwks: Option<serde_json::Value>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    application_type: Option<String>,
    #[serde(default)]
    client_uri: Option<String>,
    #[serde(default)]
    logo_uri: Option<String>,
    #[serde(default)]
    tos_uri: Option<String>,
    #[serde(default)]
    policy_uri: Option<String>,
    #[serde(default)]
    client_secret: Option<serde_json::Value>,
}

/// Why a document was refused (logged with the URL's host; the person sees "unknown client").
fn refuse(why: &'static str) -> OAuthError {
    OAuthError::invalid_request(why)
}

/// The document as client metadata, or why it does not describe this client acceptably.
fn to_metadata(url: &str, d: Document) -> Result<ClientMetadata, OAuthError> {
    // The draft: the document names itself, byte for byte.
    if d.client_id != url {
        return Err(refuse("the document's client_id is not its URL"));
    }
    if d.client_secret.is_some() {
        return Err(refuse("a metadata document cannot carry a secret"));
    }
    let method = d.token_endpoint_auth_method.as_deref().unwrap_or("none");
    match method {
        "none" => {}
        "private_key_jwt" if d.jwks_uri.is_some() && d.jwks.is_none() => {}
        "private_key_jwt" => return Err(refuse("private_key_jwt needs a jwks_uri")),
        _ => {
            return Err(refuse(
                "token_endpoint_auth_method must be none or private_key_jwt",
            ));
        }
    }
    if d.redirect_uris.is_empty() {
        return Err(refuse("the document lists no redirect_uris"));
    }
    let grant_types = d
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    if grant_types
        .iter()
        .any(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
    {
        return Err(refuse("only authorization_code and refresh_token"));
    }
    let mut m = ClientMetadata::new(url);
    m.name = d
        .client_name
        .filter(|n| !n.trim().is_empty())
        .map(|n| n.chars().take(100).collect());
    m.public = method == "none";
    m.token_endpoint_auth_method = Some(method.to_owned());
    m.jwks_uri = d.jwks_uri;
    m.redirect_uris = d.redirect_uris;
    m.grant_types = Some(grant_types);
    m.scopes = d
        .scope
        .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect());
    // Third-party by nature: whoever controls the URL wrote it.
    m.consent_required = true;
    m.application_type = d.application_type;
    m.client_uri = d.client_uri;
    m.logo_uri = d.logo_uri;
    m.tos_uri = d.tos_uri;
    m.policy_uri = d.policy_uri;
    Ok(m)
}

impl Provider {
    /// The client a metadata document URL names: the stored row while its document is
    /// fresh, else the document fetched (once however many requests wait), checked and
    /// stored. `None` when the id is no such URL, an administrator's client has that id
    /// already (`stored` is returned as it is), or the document cannot be had.
    pub(crate) async fn document_client(
        &self,
        ctx: &RealmCtx,
        client_id: &ClientId,
        stored: Option<Client>,
    ) -> Result<Option<Client>, OAuthError> {
        let Some(url) = client_id.metadata_url() else {
            return Ok(stored);
        };
        let realm = ctx.realm.id;
        if let Some(c) = &stored
            && !self.store.is_document_client(realm, c.id).await?
        {
            return Ok(stored);
        }
        let key = (realm, client_id.clone());
        if stored.is_some() && self.documents.fresh.contains_key(&key) {
            return Ok(stored);
        }
        if self.documents.failures.contains_key(&key) {
            return Ok(None);
        }
        let fetched = self.fetch_document(url.as_str()).await;
        let client = match fetched {
            Ok(m) => self.store_document_client(ctx, m).await,
            Err(e) => Err(e),
        };
        match client {
            Ok(c) => {
                self.documents.fresh.insert(key, ()).await;
                Ok(Some(c))
            }
            Err(e) => {
                tracing::warn!(
                    realm = %ctx.realm.name,
                    host = url.host_str().unwrap_or_default(),
                    error = %e,
                    "a client ID metadata document was refused"
                );
                self.documents.failures.insert(key, ()).await;
                Ok(None)
            }
        }
    }

    async fn fetch_document(&self, url: &str) -> Result<ClientMetadata, OAuthError> {
        let (status, json) = self
            .outbound
            .get_json_within("client-metadata", url, None, MAX_DOCUMENT_BYTES)
            .await
            .map_err(|e| OAuthError::InvalidRequest(format!("fetching failed: {e}").into()))?;
        if !status.is_success() {
            return Err(OAuthError::InvalidRequest(
                format!("the document answered {status}").into(),
            ));
        }
        let doc: Document = serde_json::from_value(json)
            .map_err(|_| refuse("the document is not client metadata"))?;
        to_metadata(url, doc)
    }

    async fn store_document_client(
        &self,
        ctx: &RealmCtx,
        m: ClientMetadata,
    ) -> Result<Client, OAuthError> {
        // Nobody vouched for it: it is held to what the realm lets self-registered clients
        // have, as open registration is (its scopes and its audiences).
        let mut m = m;
        let open = &ctx.realm.registration.open;
        match &m.scopes {
            Some(asked) => {
                if let Some(s) = asked.iter().find(|s| !open.allowed_scopes.contains(s)) {
                    return Err(OAuthError::InvalidRequest(
                        format!("scope {s} is not one self-registered clients may ask for").into(),
                    ));
                }
            }
            None => m.scopes = Some(open.allowed_scopes.clone()),
        }
        m.audiences = open.audiences.clone();
        let c = self.build_client(&ctx.realm, m).await?;
        let now = self.clock.now();
        let stored = match self
            .store
            .upsert_document_client(ctx.realm.id, &c, now)
            .await
        {
            Ok(s) => s,
            // Another process stored it first.
            Err(_) => {
                self.store
                    .find_client_by_client_id(ctx.realm.id, &c.client_id)
                    .await?
            }
        };
        let client = stored.ok_or_else(|| refuse("an administrator's client has this id"))?;
        // Other processes drop their copy of the old row.
        self.announce(tessera_storage::Change::Client(
            ctx.realm.id,
            client.client_id.clone(),
        ))
        .await;
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://mcp.example/client.json";

    fn doc(v: serde_json::Value) -> Result<ClientMetadata, OAuthError> {
        to_metadata(URL, serde_json::from_value(v).unwrap())
    }

    #[test]
    fn a_document_must_name_itself_carry_no_secret_and_authenticate_without_one() {
        let ok = json!({ "client_id": URL, "redirect_uris": ["http://127.0.0.1/cb"] });
        let m = doc(ok.clone()).unwrap();
        assert!(m.public && m.consent_required);
        let with = |k: &str, v: serde_json::Value| {
            let mut d = ok.clone();
            d[k] = v;
            doc(d)
        };
        assert!(with("client_id", json!("https://mcp.example/other.json")).is_err());
        assert!(with("client_id", json!("https://mcp.example/client.json/")).is_err());
        assert!(with("client_secret", json!("s")).is_err());
        assert!(with("token_endpoint_auth_method", json!("client_secret_basic")).is_err());
        assert!(with("token_endpoint_auth_method", json!("private_key_jwt")).is_err());
        assert!(with("grant_types", json!(["client_credentials"])).is_err());
        assert!(with("redirect_uris", json!([])).is_err());
        let mut pk = ok.clone();
        pk["token_endpoint_auth_method"] = json!("private_key_jwt");
        pk["jwks_uri"] = json!("https://mcp.example/jwks");
        assert!(!doc(pk).unwrap().public);
    }
}
