//! The engine's shared state: configuration, the store, the clock, the master key, and the
//! realm and client caches the hot paths read from.

use crate::OAuthError;
use crate::batch_log::{AuditLog, ExchangeLog};
use crate::crypto::MasterKey;
use crate::crypto::keys::KeyRing;
use crate::endpoints::discovery;
use crate::interaction::passwords;
use crate::outbound::{Outbound, OutboundConfig};
use crate::telemetry;
use moka::future::Cache;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tessera_domain::{Client, ClientId, Clock, Realm, RealmId, RealmName};
use tessera_storage::{Change, Store};

/// How long realm, key and client lookups are served from memory before re-reading the
/// database. Every admin write invalidates at once in its own process and, through the
/// change log (`cache_sync`), within a second in every other; the TTL is only a backstop
/// for a process that cannot reach the change log.
pub const CACHE_TTL: Duration = Duration::from_secs(30);

pub struct ProviderConfig {
    /// Public base URL, e.g. `https://id.example.com`; issuers are `{public_url}/realms/{name}`.
    /// Configuration only: never derived from `Host` or `X-Forwarded-*` (ISO-7).
    pub public_url: String,
    /// Password hashing pool and failed-login limits.
    pub login: passwords::LoginConfig,
    /// Limits of calls to other servers; private addresses are refused unless allowed here.
    pub outbound: OutboundConfig,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            login: passwords::LoginConfig::default(),
            outbound: OutboundConfig::default(),
        }
    }
}

/// A realm with everything the hot paths need, built once per cache fill.
pub struct RealmCtx {
    pub realm: Realm,
    pub issuer: String,
    pub keys: KeyRing,
    pub discovery_json: String,
}

/// The protocol engine's shared state.
pub struct Provider {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) master: MasterKey,
    pub(crate) public_url: String,
    // Keys include the realm (by name or id), so nothing cached can cross tenants (ISO-11).
    pub(crate) realms: Cache<RealmName, Option<Arc<RealmCtx>>>,
    pub(crate) clients: Cache<(RealmId, ClientId), Option<Arc<Client>>>,
    pub(crate) passwords: passwords::PasswordHasher,
    pub(crate) logins: passwords::LoginLimiter,
    /// The one guarded client for calls to other servers.
    pub(crate) outbound: Outbound,
    pub(crate) exchange_log: ExchangeLog,
    pub(crate) audit_log: AuditLog,
    /// Upstream identity providers by realm (login pages, broker), and what their
    /// discovery documents said.
    pub(crate) idps: Cache<RealmId, crate::federation::cache::RealmIdps>,
    pub(crate) upstreams: crate::federation::cache::UpstreamCache,
    /// Public keys of `private_key_jwt` clients.
    pub(crate) client_keys: crate::clients::cache::ClientKeyCache,
    /// Public keys of token-only issuers (providers with their own `jwks`/`jwks_uri`).
    pub(crate) issuer_keys: crate::clients::cache::KeySetCache<tessera_domain::IdpId>,
    /// Which client ID metadata documents were fetched lately.
    pub(crate) documents: crate::clients::cache::DocumentCache,
    /// When each device or CIBA request was last polled (no write per poll).
    pub(crate) polls: crate::approvals::poll_clock::PollClock,
}

impl Provider {
    pub fn new(
        store: Store,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        config: ProviderConfig,
    ) -> Self {
        Self {
            store,
            clock,
            master,
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            passwords: passwords::PasswordHasher::new(
                config.login.hash_workers,
                config.login.hash_queue,
                config.login.hash_queue_timeout,
            ),
            logins: passwords::LoginLimiter::new(config.login.limits),
            outbound: Outbound::new(config.outbound),
            exchange_log: Default::default(),
            audit_log: Default::default(),
            idps: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CACHE_TTL)
                .build(),
            upstreams: Default::default(),
            client_keys: Default::default(),
            issuer_keys: Default::default(),
            documents: Default::default(),
            polls: crate::approvals::poll_clock::PollClock::new(),
            realms: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CACHE_TTL)
                .build(),
            clients: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(CACHE_TTL)
                .build(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Cookies get `Secure` when the public URL is https.
    pub fn public_url_is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The admin API's identifier, the audience of tokens meant for it.
    pub fn admin_audience(&self) -> String {
        format!("{}/admin", self.public_url)
    }

    pub fn issuer_for(&self, realm: &RealmName) -> String {
        format!("{}/realms/{}", self.public_url, realm)
    }

    /// An enabled realm by name, from memory after the first request.
    pub async fn realm(&self, name: &str) -> Result<Arc<RealmCtx>, OAuthError> {
        let not_found = || OAuthError::NotFound("realm not found".into());
        let name = RealmName::parse(name).map_err(|_| not_found())?;
        self.realm_ctx(&name)
            .await?
            .filter(|c| c.realm.enabled)
            .ok_or_else(not_found)
    }

    /// A realm by name whether enabled or not (administration).
    pub(crate) async fn realm_ctx(
        &self,
        name: &RealmName,
    ) -> Result<Option<Arc<RealmCtx>>, OAuthError> {
        let missed = AtomicBool::new(false);
        let found = self
            .realms
            .try_get_with(name.clone(), async {
                missed.store(true, Ordering::Relaxed);
                self.load_realm(name).await
            })
            .await
            .map_err(|e| OAuthError::ServerError(e.to_string()));
        telemetry::cache_lookup(telemetry::Cache::Realm, missed.into_inner());
        found
    }

    async fn load_realm(&self, name: &RealmName) -> Result<Option<Arc<RealmCtx>>, OAuthError> {
        let Some(realm) = self.store.find_realm_by_name(name).await? else {
            return Ok(None);
        };
        let stored = self.store.list_keys(realm.id).await?;
        let keys = KeyRing::load(&stored, &self.master)
            .map_err(|e| OAuthError::ServerError(e.to_string()))?;
        let issuer = self.issuer_for(&realm.name);
        let discovery_json = discovery::document(&issuer, &keys);
        Ok(Some(Arc::new(RealmCtx {
            realm,
            issuer,
            keys,
            discovery_json,
        })))
    }

    /// A client of this realm by `client_id`, from memory after the first request.
    pub async fn client(
        &self,
        ctx: &RealmCtx,
        client_id: &ClientId,
    ) -> Result<Option<Arc<Client>>, OAuthError> {
        let realm = ctx.realm.id;
        let missed = AtomicBool::new(false);
        let found = self
            .clients
            .try_get_with((realm, client_id.clone()), async {
                missed.store(true, Ordering::Relaxed);
                let stored = self
                    .store
                    .find_client_by_client_id(realm, client_id)
                    .await?;
                Ok::<_, OAuthError>(
                    self.document_client(ctx, client_id, stored)
                        .await?
                        .map(Arc::new),
                )
            })
            .await
            .map_err(|e| OAuthError::ServerError(e.to_string()));
        telemetry::cache_lookup(telemetry::Cache::Client, missed.into_inner());
        found
    }

    /// Drops a realm from this process's cache and tells the other processes to do the same.
    pub(crate) async fn forget_realm(&self, name: &RealmName) {
        self.realms.invalidate(name).await;
        self.announce(Change::Realm(name.clone())).await;
    }

    pub(crate) async fn forget_client(&self, realm: RealmId, client_id: &ClientId) {
        self.clients.invalidate(&(realm, client_id.clone())).await;
        self.client_keys.forget(realm, client_id).await;
        self.announce(Change::Client(realm, client_id.clone()))
            .await;
    }

    /// Applies a change recorded by some process (possibly this one) to this process's caches.
    pub(crate) async fn drop_cached(&self, change: &Change) {
        match change {
            Change::Realm(name) => self.realms.invalidate(name).await,
            Change::Client(realm, id) => {
                self.clients.invalidate(&(*realm, id.clone())).await;
                self.client_keys.forget(*realm, id).await;
            }
            Change::Idps(realm) => self.idps.invalidate(realm).await,
            Change::Approval(_, id) => self.polls.forget(*id),
        }
    }

    pub(crate) async fn announce(&self, change: Change) {
        // The write itself has succeeded; other processes then fall back to the cache TTL.
        if let Err(e) = self.store.record_change(&change, self.clock.now()).await {
            tracing::warn!(error = %e, ?change, "recording a change for other processes failed");
        }
    }

    /// The first `limit` enabled realms by name, for the start page's links.
    pub async fn enabled_realms(&self, limit: u64) -> Result<Vec<Realm>, OAuthError> {
        let page = tessera_storage::PageRequest { after: None, limit };
        let mut realms = self.store.list_realms(&page).await?;
        realms.retain(|r| r.enabled);
        Ok(realms)
    }

    /// Removes expired revocation entries and opaque tokens; run periodically.
    pub async fn purge_expired(&self) -> Result<u64, OAuthError> {
        Ok(self.store.purge_expired(self.clock.now()).await?)
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use tessera_domain::FixedClock;

    pub const NOW: i64 = 1_800_000_000;

    /// A provider over a fresh migrated in-memory SQLite database and a fixed clock.
    pub async fn provider() -> (Provider, Arc<FixedClock>) {
        let store = Store::connect("sqlite::memory:", 1).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::new(NOW));
        let p = Provider::new(
            store,
            MasterKey::from_bytes(&[7; 32]).unwrap(),
            clock.clone(),
            ProviderConfig {
                public_url: "https://id.example/".into(),
                ..Default::default()
            },
        );
        (p, clock)
    }
}
