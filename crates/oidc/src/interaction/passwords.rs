//! Password logins: Argon2id hashing on a bounded pool, and failed-login rate limits.
//!
//! One Argon2id check costs ~20 ms of one core with OWASP parameters, so an open login form
//! is a DoS lever. Hashing runs on tokio's blocking threads behind a semaphore of
//! [`LoginConfig::hash_workers`] permits, with at most [`LoginConfig::hash_queue`] logins
//! waiting (for at most [`LoginConfig::hash_queue_timeout`]); beyond that a login is refused
//! at once with [`LoginError::Busy`] (HTTP 503 with `Retry-After`) instead of queueing
//! without bound. Failed logins are limited per account and per client address, keyed by
//! realm, so one realm's attackers never lock another realm's users out; the budgets are
//! kept in the database, so several processes on one database share them.

use crate::OAuthError;
use crate::crypto::sha256;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::{Email, PasswordParams, RealmId, UnixTime, UserId};
use tessera_storage::{Store, StoreResult};
use tokio::sync::Semaphore;

/// Longest password accepted anywhere (characters).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Longest login name looked up (bytes): beyond any username or e-mail address.
pub(crate) const MAX_LOGIN_BYTES: usize = 320;

/// Budgets for failed logins: GCRA buckets of `*_burst` failures refilling at
/// `*_per_minute`. Successful logins cost nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures per account (per realm and user, or per realm and login name when no such
    /// user exists).
    pub account_per_minute: u32,
    pub account_burst: u32,
    /// Failures per client address (per realm; IPv6 by /64).
    pub ip_per_minute: u32,
    pub ip_burst: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            account_per_minute: 5,
            account_burst: 5,
            ip_per_minute: 20,
            ip_burst: 20,
        }
    }
}

/// Password hashing pool and login limits.
#[derive(Clone, Debug)]
pub struct LoginConfig {
    /// Hashes computed at once (default: CPUs available to the process).
    pub hash_workers: usize,
    /// Logins that may wait for a worker; more are refused at once (default 4 per worker).
    pub hash_queue: usize,
    /// How long a waiting login waits for a worker before it is refused.
    pub hash_queue_timeout: Duration,
    pub limits: LoginLimits,
}

impl Default for LoginConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            hash_workers: cpus,
            hash_queue: cpus * 4,
            hash_queue_timeout: Duration::from_secs(1),
            limits: LoginLimits::default(),
        }
    }
}

/// Why a password login failed. Wrong passwords, unknown users and users without a
/// password are all `InvalidCredentials` and take the same time (a dummy hash is checked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The password was right but the account is disabled (only reported to someone who
    /// knows the password).
    #[error("the account is disabled")]
    Disabled,
    /// Too many failed logins for this account or address; try again after this long.
    #[error("too many failed logins, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The hashing pool is saturated.
    #[error("the server is busy")]
    Busy,
    #[error("server error: {0}")]
    Server(String),
}

impl From<LoginError> for OAuthError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => {
                OAuthError::InvalidGrant("invalid username or password".into())
            }
            LoginError::Disabled => OAuthError::AccessDenied("the account is disabled".into()),
            LoginError::RateLimited { .. } | LoginError::Busy => OAuthError::TemporarilyUnavailable,
            LoginError::Server(s) => OAuthError::ServerError(s),
        }
    }
}

impl From<HashError> for LoginError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => LoginError::Busy,
            HashError::Failed(s) => LoginError::Server(s),
        }
    }
}

impl From<tessera_storage::StoreError> for LoginError {
    fn from(e: tessera_storage::StoreError) -> Self {
        LoginError::Server(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("the password hashing pool is saturated")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl From<HashError> for OAuthError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => OAuthError::TemporarilyUnavailable,
            HashError::Failed(s) => OAuthError::ServerError(s),
        }
    }
}

fn argon2(p: PasswordParams) -> Result<Argon2<'static>, HashError> {
    let params = Params::new(p.m_cost, p.t_cost, p.p_cost, None)
        .map_err(|e| HashError::Failed(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A PHC string that no password matches, with the given costs: verifying against it
/// takes as long as verifying a real hash, so unknown users answer in the same time.
pub(crate) fn dummy_hash(p: PasswordParams) -> String {
    // 16-byte salt and 32-byte output, B64 without padding.
    format!(
        "$argon2id$v=19$m={},t={},p={}$dGVzc2VyYS1kdW1teS1zYWx0$ZHVtbXktaGFzaC1kdW1teS1oYXNoLWR1bW15LWhhc2g",
        p.m_cost, p.t_cost, p.p_cost
    )
}

/// Whether a stored hash was made with other parameters (or another algorithm) than
/// `p`: then a successful login re-hashes the password.
pub fn needs_rehash(phc: &str, p: PasswordParams) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    if hash.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(&hash) {
        Ok(have) => (have.m_cost(), have.t_cost(), have.p_cost()) != (p.m_cost, p.t_cost, p.p_cost),
        Err(_) => true,
    }
}

/// Argon2id on tokio's blocking threads, at most `workers` at a time and at most
/// `workers + queue` admitted.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    admission: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    queue_timeout: Duration,
}

impl PasswordHasher {
    pub fn new(workers: usize, queue: usize, queue_timeout: Duration) -> Self {
        let workers = workers.max(1);
        Self {
            admission: Arc::new(Semaphore::new(workers + queue)),
            workers: Arc::new(Semaphore::new(workers)),
            queue_timeout,
        }
    }

    /// Runs `f` on a blocking thread once a worker permit is free. The permits move into
    /// the blocking task, so a caller that gives up does not free a worker still hashing.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let admitted = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        let worker = tokio::time::timeout(self.queue_timeout, self.workers.clone().acquire_owned())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|_| HashError::Busy)?;
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop((worker, admitted));
            out
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Takes every worker and queue slot (tests of saturation).
    #[cfg(test)]
    pub(crate) fn saturate(&self) -> Vec<tokio::sync::OwnedSemaphorePermit> {
        let mut held = Vec::new();
        while let Ok(p) = self.admission.clone().try_acquire_owned() {
            held.push(p);
        }
        while let Ok(p) = self.workers.clone().try_acquire_owned() {
            held.push(p);
        }
        held
    }

    /// A new PHC string (argon2id, random salt) with the given costs.
    pub async fn hash(&self, password: &str, params: PasswordParams) -> Result<String, HashError> {
        let a = argon2(params)?;
        let password = password.to_owned();
        self.run(move || {
            a.hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await?
    }

    /// Checks `password` against a PHC string, with the costs recorded in it.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError> {
        let password = password.to_owned();
        let phc = phc.to_owned();
        self.run(move || {
            let hash = PasswordHash::new(&phc).map_err(|e| HashError::Failed(e.to_string()))?;
            match Argon2::default().verify_password(password.as_bytes(), &hash) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(e) => Err(HashError::Failed(e.to_string())),
            }
        })
        .await?
    }
}

/// GCRA's policy for one kind of budget: a key may fail `burst` times at once, then once
/// per `interval`. Unlike a plain token bucket it can be *peeked*: every attempt is checked
/// before the password is, and only failures are charged. The state, one theoretical
/// arrival time per key, is in the database (`login_throttle`), so every process serving it
/// charges the same budget.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FailureLimiter {
    interval_ms: i64,
    tolerance_ms: i64,
}

impl FailureLimiter {
    pub(crate) fn new(per_minute: u32, burst: u32) -> Self {
        Self::every(60_000 / i64::from(per_minute.max(1)), burst)
    }

    /// `burst` at once, then one per `interval_ms`.
    pub(crate) fn every(interval_ms: i64, burst: u32) -> Self {
        Self {
            interval_ms,
            tolerance_ms: interval_ms * i64::from(burst.max(1) - 1),
        }
    }

    pub(crate) fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// How long a key whose arrival time is `tat` must wait before its next attempt.
    pub(crate) fn wait(&self, tat: i64, now_ms: i64) -> Option<Duration> {
        let wait = tat - self.tolerance_ms - now_ms;
        (wait > 0).then(|| Duration::from_millis(wait.unsigned_abs()))
    }
}

/// Whom a failed login is charged to besides its address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Account {
    /// An existing user, however it was named (username or e-mail).
    User(UserId),
    /// A login name that names no user (normalized), so guessing it is limited too.
    Unknown(String),
}

impl Account {
    /// The stored key: a hash, since an unknown login name is whatever was typed.
    fn key(&self, kind: &str) -> Vec<u8> {
        match self {
            Account::User(id) => sha256(format!("{kind}user:{}", id.0).as_bytes()),
            Account::Unknown(name) => sha256(format!("{kind}name:{name}").as_bytes()),
        }
    }

    /// Whom a login name names: the user found, else the (normalized, bounded) name.
    pub(crate) fn of(found: Option<UserId>, login: &str) -> Self {
        match found {
            Some(id) => Account::User(id),
            None => {
                let mut end = login.len().min(MAX_LOGIN_BYTES);
                while !login.is_char_boundary(end) {
                    end -= 1;
                }
                Account::Unknown(Email::normalize(&login[..end]))
            }
        }
    }
}

fn address_budget_key(kind: &str, ip: IpAddr) -> Vec<u8> {
    sha256(format!("{kind}ip:{}", address_key(ip)).as_bytes())
}

/// Per-realm budgets for accounts and client addresses: failed logins, or (with keys of
/// their own) password-reset requests.
#[derive(Debug)]
pub struct LoginLimiter {
    accounts: FailureLimiter,
    addresses: FailureLimiter,
    /// Prefix of the stored keys, so each kind of budget is charged apart.
    kind: &'static str,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            accounts: FailureLimiter::new(limits.account_per_minute, limits.account_burst),
            addresses: FailureLimiter::new(limits.ip_per_minute, limits.ip_burst),
            kind: "",
        }
    }

    /// Password-reset requests, each charged whether the account exists or not: three
    /// per account, then one per five minutes; ten per address, then one per minute.
    pub(crate) fn resets() -> Self {
        Self {
            accounts: FailureLimiter::every(5 * 60_000, 3),
            addresses: FailureLimiter::every(60_000, 10),
            kind: "reset|",
        }
    }

    /// Device authorization requests of a public client (anyone may send them): per
    /// address twenty at once, then one per three seconds; per client a thousand, then
    /// ten a second.
    pub(crate) fn device_requests() -> Self {
        Self {
            accounts: FailureLimiter::every(100, 1000),
            addresses: FailureLimiter::every(3000, 20),
            kind: "device|",
        }
    }

    /// Wrong user codes typed at the verification page (RFC 8628 §5.1): per person
    /// five at once, then one a minute; per address ten, then one a minute. Ten a
    /// minute against 2.6·10^10 codes finds a live one in decades, not minutes.
    pub(crate) fn user_codes() -> Self {
        Self {
            accounts: FailureLimiter::every(60_000, 5),
            addresses: FailureLimiter::every(60_000, 10),
            kind: "usercode|",
        }
    }

    /// How long this attempt must wait, if it must: the address's wait first, then the
    /// account's. One SELECT for both budgets.
    pub(crate) async fn blocked_for(
        &self,
        store: &Store,
        realm: RealmId,
        address: Option<IpAddr>,
        account: &Account,
        now_ms: i64,
    ) -> StoreResult<Option<Duration>> {
        let account_key = account.key(self.kind);
        let address_key = address.map(|ip| address_budget_key(self.kind, ip));
        let mut keys = vec![account_key.as_slice()];
        keys.extend(address_key.as_deref());
        let tats = store.find_login_throttles(realm, &keys).await?;
        let tat_of = |key: &[u8]| tats.iter().find(|(k, _)| k == key).map(|(_, t)| *t);
        let address_wait = address_key
            .as_deref()
            .and_then(tat_of)
            .and_then(|t| self.addresses.wait(t, now_ms));
        Ok(address_wait
            .or_else(|| tat_of(&account_key).and_then(|t| self.accounts.wait(t, now_ms))))
    }

    /// Charges one failure to the account and the address, in one statement.
    pub(crate) async fn record_failure(
        &self,
        store: &Store,
        realm: RealmId,
        address: Option<IpAddr>,
        account: &Account,
        now_ms: i64,
    ) -> StoreResult<()> {
        let account_key = account.key(self.kind);
        let address_key = address.map(|ip| address_budget_key(self.kind, ip));
        let mut charges = vec![(account_key.as_slice(), self.accounts.interval_ms)];
        if let Some(k) = &address_key {
            charges.push((k.as_slice(), self.addresses.interval_ms));
        }
        store.charge_login_throttles(realm, &charges, now_ms).await
    }
}

/// IPv4 (also when mapped into IPv6) as is; IPv6 by its /64, which one host usually owns.
pub(crate) fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

pub(crate) fn millis(t: UnixTime) -> i64 {
    t.0.saturating_mul(1000)
}

pub(crate) fn retry_after(wait: Duration) -> LoginError {
    LoginError::RateLimited {
        retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: PasswordParams = PasswordParams {
        m_cost: 128,
        t_cost: 1,
        p_cost: 1,
    };

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_given_costs_and_verify() {
        let h = PasswordHasher::new(1, 0, Duration::from_secs(1));
        let phc = h.hash("correct horse", FAST).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=128,t=1,p=1$"), "{phc}");
        assert!(h.verify("correct horse", &phc).await.unwrap());
        assert!(!h.verify("correct horsf", &phc).await.unwrap());
        assert_ne!(phc, h.hash("correct horse", FAST).await.unwrap(), "salted");
        assert!(!needs_rehash(&phc, FAST));
        assert!(needs_rehash(&phc, PasswordParams::OWASP));
        assert!(needs_rehash("$2b$12$bcrypt", FAST));
    }

    #[tokio::test]
    async fn the_dummy_hash_parses_and_matches_nothing() {
        let h = PasswordHasher::new(1, 0, Duration::from_secs(1));
        assert!(!h.verify("", &dummy_hash(FAST)).await.unwrap());
        assert!(!h.verify("password", &dummy_hash(FAST)).await.unwrap());
        assert!(!needs_rehash(&dummy_hash(FAST), FAST));
        assert!(!needs_rehash(
            &dummy_hash(PasswordParams::OWASP),
            PasswordParams::OWASP
        ));
    }

    #[tokio::test]
    async fn a_saturated_pool_refuses_at_once() {
        let h = PasswordHasher::new(1, 0, Duration::from_secs(30));
        let held = h.workers.clone().try_acquire_owned().unwrap();
        let admitted = h.admission.clone().try_acquire_owned().unwrap();
        let started = std::time::Instant::now();
        assert_eq!(h.hash("pw", FAST).await, Err(HashError::Busy));
        assert!(started.elapsed() < Duration::from_secs(5));
        drop((held, admitted));
        assert!(h.hash("pw", FAST).await.is_ok());
    }

    #[tokio::test]
    async fn a_queued_login_gives_up_after_the_queue_timeout() {
        let h = PasswordHasher::new(1, 1, Duration::from_millis(50));
        let held = h.workers.clone().try_acquire_owned().unwrap();
        assert_eq!(
            h.verify("pw", &dummy_hash(FAST)).await,
            Err(HashError::Busy)
        );
        drop(held);
        assert_eq!(h.verify("pw", &dummy_hash(FAST)).await, Ok(false));
    }

    #[test]
    fn the_failure_limiter_waits_until_the_arrival_time_less_the_burst() {
        // 5 per minute, burst 5: one every 12 s, four intervals of tolerance.
        let l = FailureLimiter::new(5, 5);
        let t = 1_000_000;
        assert_eq!(l.wait(t + 4 * 12_000, t), None);
        assert_eq!(l.wait(t + 5 * 12_000, t), Some(Duration::from_secs(12)));
        assert_eq!(
            l.wait(t + 5 * 12_000, t + 11_999),
            Some(Duration::from_millis(1))
        );
        assert_eq!(l.wait(t + 5 * 12_000, t + 12_000), None);
    }

    #[test]
    fn ipv6_addresses_share_a_budget_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn login_errors_map_to_protocol_errors() {
        let busy: OAuthError = LoginError::Busy.into();
        assert_eq!(busy.status(), 503);
        let limited: OAuthError = LoginError::RateLimited {
            retry_after_secs: 3,
        }
        .into();
        assert_eq!(limited.status(), 503);
        let bad: OAuthError = LoginError::InvalidCredentials.into();
        assert_eq!(bad.code(), "invalid_grant");
    }
}
