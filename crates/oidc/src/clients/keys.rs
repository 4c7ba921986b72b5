//! The public keys of `private_key_jwt` clients and token-only issuers, from memory: a registered JWK set parsed
//! once, a `jwks_uri` fetched once through the outbound client (one fetch however many
//! requests wait for it), fetched again on an unknown `kid` at most once per interval, and
//! after a failed fetch not tried again before a short back-off.

use super::cache::{ClientJwks, KeySetCache, REFETCH_INTERVAL};
use crate::Provider;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tessera_domain::{Client, ClientKeys};

/// Why a client's keys could not be had; logged as a warning with the client id.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum KeysError {
    #[error("the client has no keys registered")]
    NoKeys,
    #[error("the registered JWK set does not parse")]
    BadJwks,
    #[error("fetching jwks_uri failed: {0}")]
    Fetch(String),
    #[error("jwks_uri failed recently; not fetched again yet")]
    BackingOff,
}

fn parse_set(json: &serde_json::Value) -> Result<Vec<CoreJsonWebKey>, KeysError> {
    serde_json::from_value::<CoreJsonWebKeySet>(json.clone())
        .map(|set| set.keys().clone())
        .map_err(|_| KeysError::BadJwks)
}

impl Provider {
    /// The keys of a `private_key_jwt` client.
    pub(crate) async fn client_jwks(&self, client: &Client) -> Result<Arc<ClientJwks>, KeysError> {
        let source = client.keys.clone().ok_or(KeysError::NoKeys)?;
        let key = (client.realm_id, client.client_id.clone());
        let peer = format!("client:{}", client.client_id);
        self.cached_jwks(&self.client_keys, key, &peer, source)
            .await
    }

    /// A key set from `cache`, loaded from `source` on a miss (one load however many
    /// requests wait for it); a changed source misses. `peer` labels outbound calls.
    pub(crate) async fn cached_jwks<K>(
        &self,
        cache: &KeySetCache<K>,
        key: K,
        peer: &str,
        source: ClientKeys,
    ) -> Result<Arc<ClientJwks>, KeysError>
    where
        K: std::hash::Hash + Eq + Send + Sync + Clone + 'static,
    {
        if let Some(found) = cache.entries.get(&key).await {
            if found.source == source {
                return Ok(found);
            }
            cache.entries.invalidate(&key).await;
        }
        if cache.failures.contains_key(&key) {
            return Err(KeysError::BackingOff);
        }
        let loaded = cache
            .entries
            .try_get_with(key.clone(), async {
                let keys = self.load_jwks(peer, &source).await?;
                Ok::<_, KeysError>(Arc::new(ClientJwks {
                    source: source.clone(),
                    keys: RwLock::new(Arc::new(keys)),
                    last_refetch: Mutex::new(None),
                }))
            })
            .await
            .map_err(|e| (*e).clone());
        if loaded.is_err() {
            cache.failures.insert(key, ()).await;
        }
        loaded
    }

    async fn load_jwks(
        &self,
        peer: &str,
        source: &ClientKeys,
    ) -> Result<Vec<CoreJsonWebKey>, KeysError> {
        match source {
            ClientKeys::Jwks(text) => {
                parse_set(&serde_json::from_str(text).map_err(|_| KeysError::BadJwks)?)
            }
            ClientKeys::JwksUri(uri) => {
                match self.outbound.get_json(peer, uri.as_str(), None).await {
                    Ok((status, json)) if status.is_success() => parse_set(&json),
                    Ok((status, _)) => Err(KeysError::Fetch(format!("status {status}"))),
                    Err(e) => Err(KeysError::Fetch(e.to_string())),
                }
            }
        }
    }

    /// Fetches a `jwks_uri` again because a token named a key we do not have, at most once
    /// per interval per owner: rotated keys are found, and made-up `kid`s cannot make us
    /// hammer the owner. `true` when new keys were loaded.
    pub(crate) async fn refetch_cached_jwks(&self, peer: &str, jwks: &ClientJwks) -> bool {
        if !matches!(jwks.source, ClientKeys::JwksUri(_)) {
            return false;
        }
        {
            let mut last = jwks.last_refetch.lock().expect("client keys lock");
            if last.is_some_and(|t| t.elapsed() < REFETCH_INTERVAL) {
                return false;
            }
            *last = Some(Instant::now());
        }
        match self.load_jwks(peer, &jwks.source).await {
            Ok(keys) => {
                *jwks.keys.write().expect("client keys lock") = Arc::new(keys);
                true
            }
            Err(e) => {
                tracing::warn!(peer, error = %e, "refetching a jwks_uri failed");
                false
            }
        }
    }
}
