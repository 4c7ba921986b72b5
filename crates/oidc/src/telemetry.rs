//! The engine's metrics: tokens issued per grant, login outcomes, realm and client cache
//! hits and misses, outbound calls per peer. Handles are registered once and kept (a labelled `counter!` looks the
//! registry up on every call); the first use must come after the process installed its
//! recorder, which `web` does before the store is opened.

use metrics::{Counter, Unit};
use std::sync::OnceLock;
use std::time::Duration;
use tessera_domain::GrantType;

const TOKENS_ISSUED: &str = "tessera_tokens_issued_total";
const LOGINS: &str = "tessera_logins_total";
const CACHE: &str = "tessera_cache_requests_total";
const OUTBOUND: &str = "tessera_outbound_requests_total";
const OUTBOUND_SECONDS: &str = "tessera_outbound_request_duration_seconds";

/// `# HELP` text for the engine's and the store's metrics; call once the recorder is installed.
pub fn describe_metrics() {
    metrics::describe_counter!(
        TOKENS_ISSUED,
        "Successful token endpoint responses by grant type"
    );
    metrics::describe_counter!(
        LOGINS,
        "Password sign-ins by outcome (success, bad_credentials, rate_limited, disabled, busy, error)"
    );
    metrics::describe_counter!(
        CACHE,
        "Realm and client cache lookups by cache and result (hit, miss)"
    );
    metrics::describe_counter!(
        OUTBOUND,
        "Calls to other servers by peer and outcome (ok, http_error, refused, timeout, too_large, error)"
    );
    metrics::describe_histogram!(
        OUTBOUND_SECONDS,
        Unit::Seconds,
        "Calls to other servers by peer, from sending to the last body byte"
    );
    tessera_storage::describe_metrics();
}

pub(crate) fn token_issued(grant: GrantType) {
    static BY_GRANT: OnceLock<[Counter; GrantType::ALL.len()]> = OnceLock::new();
    let c = BY_GRANT.get_or_init(|| {
        GrantType::ALL.map(|g| metrics::counter!(TOKENS_ISSUED, "grant_type" => g.as_str()))
    });
    let i = GrantType::ALL
        .iter()
        .position(|g| *g == grant)
        .expect("every grant type is in ALL");
    c[i].increment(1);
}

/// How a password sign-in ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginOutcome {
    Success,
    BadCredentials,
    RateLimited,
    Disabled,
    Busy,
    Error,
}

impl LoginOutcome {
    const ALL: [Self; 6] = [
        Self::Success,
        Self::BadCredentials,
        Self::RateLimited,
        Self::Disabled,
        Self::Busy,
        Self::Error,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::BadCredentials => "bad_credentials",
            Self::RateLimited => "rate_limited",
            Self::Disabled => "disabled",
            Self::Busy => "busy",
            Self::Error => "error",
        }
    }
}

pub(crate) fn login(outcome: LoginOutcome) {
    static BY_OUTCOME: OnceLock<[Counter; 6]> = OnceLock::new();
    let c = BY_OUTCOME.get_or_init(|| {
        LoginOutcome::ALL.map(|o| metrics::counter!(LOGINS, "outcome" => o.as_str()))
    });
    c[outcome as usize].increment(1);
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Cache {
    Realm = 0,
    Client = 1,
}

/// One cache lookup; `missed` when the loader ran for it.
pub(crate) fn cache_lookup(cache: Cache, missed: bool) {
    static BY_CACHE: OnceLock<[[Counter; 2]; 2]> = OnceLock::new();
    let c = BY_CACHE.get_or_init(|| {
        ["realm", "client"].map(|cache| {
            ["hit", "miss"]
                .map(|result| metrics::counter!(CACHE, "cache" => cache, "result" => result))
        })
    });
    c[cache as usize][usize::from(missed)].increment(1);
}

/// How a call to another server ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutboundOutcome {
    Ok,
    HttpError,
    Refused,
    Timeout,
    TooLarge,
    Error,
}

impl OutboundOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::HttpError => "http_error",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
            Self::TooLarge => "too_large",
            Self::Error => "error",
        }
    }
}

/// One outbound call. Peers are labels the callers name (one per upstream), not known up
/// front, so these handles are looked up per call; outbound calls are rare enough.
pub(crate) fn outbound_request(peer: &str, outcome: OutboundOutcome, elapsed: Duration) {
    let peer = peer.to_owned();
    metrics::counter!(OUTBOUND, "peer" => peer.clone(), "outcome" => outcome.as_str()).increment(1);
    metrics::histogram!(OUTBOUND_SECONDS, "peer" => peer).record(elapsed.as_secs_f64());
}
