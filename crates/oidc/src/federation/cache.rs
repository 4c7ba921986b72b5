//! What the engine keeps in memory about upstream providers: a realm's providers and each
//! provider's discovery document, with the back-off after failed fetches. A leaf: the
//! provider holds these caches, and `federation` fills and reads them.

use moka::future::Cache;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{AdditionalProviderMetadata, ProviderMetadata};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tessera_domain::{IdentityProvider, IdpId};

/// A realm's providers as the login pages read them, from memory after the first request.
pub type RealmIdps = Arc<Vec<Arc<IdentityProvider>>>;

/// Discovery documents are kept this long; keys rotate through the unknown-`kid` path.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// Members of the discovery document openidconnect's core type lacks.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ExtraMetadata {
    /// RFC 9207: the upstream names itself in every authorization response.
    #[serde(default)]
    pub(super) authorization_response_iss_parameter_supported: Option<bool>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

pub(crate) type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A provider's discovery document and keys, as fetched.
pub(crate) struct Upstream {
    /// Its label in outbound metrics and logs, `idp:{realm}/{alias}`.
    pub(super) peer: String,
    pub(super) meta: RwLock<Metadata>,
    pub(super) last_jwks_refetch: Mutex<Option<Instant>>,
}

/// Discovery results by provider and issuer (a changed issuer misses), and the back-off
/// of providers whose last fetch failed.
pub(crate) struct UpstreamCache {
    pub(super) entries: Cache<(IdpId, String), Arc<Upstream>>,
    pub(super) failures: Mutex<HashMap<IdpId, (Instant, u32)>>,
}

impl Default for UpstreamCache {
    fn default() -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(DISCOVERY_TTL)
                .build(),
            failures: Mutex::new(HashMap::new()),
        }
    }
}
