//! The clients room's caches, apart from the code that fills them so that `Provider` can
//! hold them without importing that code (no two modules import each other). The key
//! sets serve `private_key_jwt` clients and token-only issuers alike.

use moka::future::Cache;
use openidconnect::core::CoreJsonWebKey;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tessera_domain::{ClientId, ClientKeys, RealmId};

/// Fetched key sets are trusted this long; rotation is found sooner through unknown `kid`s.
const KEYS_TTL: Duration = Duration::from_secs(600);
/// An unknown `kid` fetches a client's `jwks_uri` again at most this often.
pub(crate) const REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// After a failed fetch, requests fail at once for this long instead of calling again.
const KEYS_FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// A client's (or token-only issuer's) keys and where they came from: a cached set whose
/// source differs from the current one is stale (an admin changed the keys).
pub(crate) struct ClientJwks {
    pub(crate) source: ClientKeys,
    pub(crate) keys: RwLock<Arc<Vec<CoreJsonWebKey>>>,
    pub(crate) last_refetch: Mutex<Option<Instant>>,
}

impl ClientJwks {
    pub(crate) fn keys(&self) -> Arc<Vec<CoreJsonWebKey>> {
        self.keys.read().expect("client keys lock").clone()
    }
}

type Key = (RealmId, ClientId);

/// Key sets by owner, and the owners whose last fetch failed (not fetched again until the
/// back-off ends).
pub(crate) struct KeySetCache<K> {
    pub(crate) entries: Cache<K, Arc<ClientJwks>>,
    pub(crate) failures: Cache<K, ()>,
}

pub(crate) type ClientKeyCache = KeySetCache<Key>;

impl<K: std::hash::Hash + Eq + Send + Sync + Clone + 'static> Default for KeySetCache<K> {
    fn default() -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(KEYS_TTL)
                .build(),
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(KEYS_FAILURE_BACKOFF)
                .build(),
        }
    }
}

impl ClientKeyCache {
    pub(crate) async fn forget(&self, realm: RealmId, client_id: &ClientId) {
        let key = (realm, client_id.clone());
        self.entries.invalidate(&key).await;
        self.failures.invalidate(&key).await;
    }
}

/// A document is fetched again after this long (the client's row serves meanwhile).
const DOCUMENT_TTL: Duration = Duration::from_secs(600);
/// After a failed fetch, the client is unknown for this long without calling again.
const DOCUMENT_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// Which documents are fresh, and which failed recently.
pub(crate) struct DocumentCache {
    pub(crate) fresh: Cache<Key, ()>,
    pub(crate) failures: Cache<Key, ()>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            fresh: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(DOCUMENT_TTL)
                .build(),
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(DOCUMENT_FAILURE_BACKOFF)
                .build(),
        }
    }
}
