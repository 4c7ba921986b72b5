//! Opening storage, the master key and the provider; building the HTTP server.

use crate::config::Settings;
use crate::jobs;
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::admin::seed::Seeded;
use tessera_oidc::crypto::MasterKey;
use tessera_oidc::outbound::OutboundConfig;
use tessera_oidc::{Provider, ProviderConfig};
use tessera_storage::Store;

/// Connects, migrates, loads the master key and returns the protocol engine.
pub async fn open_provider(settings: &Settings) -> anyhow::Result<Arc<Provider>> {
    open_provider_with_clock(settings, Arc::new(SystemClock)).await
}

pub async fn open_provider_with_clock(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<Provider>> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    let url = settings.database_url();
    let store = Store::connect(&url, settings.db_max_connections)
        .await
        .with_context(|| "connecting to the database")?;
    store.migrate().await.context("running migrations")?;
    let master = load_master_key(settings)?;
    let outbound = OutboundConfig {
        allow_private: settings.outbound_allow_private,
        extra_roots_pem: match &settings.outbound_ca_file {
            Some(f) => Some(
                std::fs::read(f)
                    .with_context(|| format!("reading the outbound CA file {}", f.display()))?,
            ),
            None => None,
        },
        dns_server: settings.dns_server,
        ..Default::default()
    };
    outbound.extra_roots().map_err(anyhow::Error::msg)?;
    Ok(Arc::new(Provider::new(
        store,
        master,
        clock,
        ProviderConfig {
            public_url: settings.public_url.clone(),
            outbound,
            ..Default::default()
        },
    )))
}

fn load_master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    let text = match &settings.master_key {
        Some(k) => k.clone(),
        None => read_or_create_key_file(&settings.data_dir.join("master.key"))?,
    };
    let bytes = STANDARD
        .decode(text.trim())
        .context("the master key is not base64")?;
    match MasterKey::from_bytes(&bytes) {
        Some(k) => Ok(k),
        None => bail!("the master key must be 32 bytes (base64)"),
    }
}

/// Creates the key file with owner-only permissions on first start, atomically, so two
/// processes starting together cannot both write one.
fn read_or_create_key_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(mut f) => {
            let text = STANDARD.encode(MasterKey::generate_bytes());
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new master key");
            Ok(text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// Held while a server runs on an SQLite data directory: a second server there would
/// share the database file without sharing caches, locks or the change log's guarantees.
fn lock_data_dir(settings: &Settings) -> anyhow::Result<Option<std::fs::File>> {
    if !settings.is_sqlite() {
        return Ok(None);
    }
    let path = settings.data_dir.join("tessera.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another Tessera server is running on the data directory {} (it holds {}); stop it, \
             or give this one its own --data-dir",
            settings.data_dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

pub struct Application {
    port: u16,
    metrics_port: u16,
    server: actix_web::dev::Server,
    metrics_server: actix_web::dev::Server,
    pub provider: Arc<Provider>,
    /// Credentials created on an empty database, to be shown once.
    pub seeded: Vec<Seeded>,
    cache_sync: tokio::task::JoinHandle<()>,
    _lock: Option<std::fs::File>,
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with an injected clock (tests move time forward).
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        settings.validate().map_err(anyhow::Error::msg)?;
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
        let lock = lock_data_dir(settings)?;
        // Before the store opens: its statement timer is taken from the recorder.
        let metrics = tessera_web::metrics_handle();
        let provider = open_provider_with_clock(settings, clock).await?;
        let seeded = provider
            .bootstrap()
            .await
            .context("seeding the first realms")?;
        let cache_sync = jobs::cache_sync::start(provider.clone())
            .await
            .context("following the change log")?;
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = TcpListener::bind(&settings.metrics_listen)
            .with_context(|| format!("binding the metrics listener {}", settings.metrics_listen))?;
        let metrics_port = metrics_listener.local_addr()?.port();
        let state = Arc::new(tessera_web::AppState {
            provider: provider.clone(),
            metrics,
            trusted_proxies: settings.trusted_proxy_nets().map_err(anyhow::Error::msg)?,
        });
        let server = tessera_web::serve(state.clone(), listener, settings.workers)?;
        let metrics_server = tessera_web::serve_metrics(state, metrics_listener)?;
        Ok(Self {
            port,
            metrics_port,
            server,
            metrics_server,
            provider,
            seeded,
            cache_sync,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on.
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port
    }

    /// Runs until the server stops, sweeping expired revocations every ten minutes and
    /// writing the token-exchange log (batched in memory) when a batch is full or every second.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let sweeper = jobs::expiry_sweep::spawn(self.provider.clone());
        let log_writer = jobs::exchange_log::spawn(self.provider.clone());
        let metrics = self.metrics_server.handle();
        let metrics_task = tokio::spawn(self.metrics_server);
        let res = self.server.await;
        metrics.stop(false).await;
        drop(metrics_task);
        sweeper.abort();
        log_writer.abort();
        self.cache_sync.abort();
        // What the last tick did not write yet.
        if let Err(e) = jobs::exchange_log::run_once(&self.provider).await {
            tracing::warn!(error = %e, "writing the token-exchange log failed");
        }
        res
    }
}
