//! Load generator for the browser login, the code exchange and refresh-token rotation
//! (driven by `bench/login.sh`; results in `docs/benchmarks.md`).
//!
//! ```sh
//! cargo run --release --example login_load -- --base http://127.0.0.1:8080 \
//!     --client-secret S --password P --mode login --concurrency 4 --duration 10
//! ```
//!
//! Modes (every request goes through one shared keep-alive connection pool; redirects are
//! never followed, cookies are kept by hand per simulated browser):
//!
//! - `login`: each iteration is a fresh browser: GET the authorization endpoint (PKCE S256,
//!   random state and nonce) → login page with the sealed `state` and the CSRF cookie →
//!   POST the credentials → 303 to `redirect_uri?code=…` → POST the token endpoint
//!   (`authorization_code`, `client_secret_basic`). Reports completed logins/s, the latency
//!   of the whole login (three requests) and of the code exchange alone.
//! - `exchange`: each worker signs in once (not measured), then loops on the SSO session:
//!   GET the authorization endpoint (straight 303 with a code, no password check) → code
//!   exchange. Reports exchanges/s and the exchange latency (and the authorize latency).
//! - `refresh`: each worker signs in once (not measured), then refreshes in a loop, always
//!   with the newest refresh token (rotation). Reports refreshes/s and their latency.
//!
//! Closed loop by default (each worker sends its next iteration when the previous one is
//! done); `--rate R` paces all workers together at R iterations/s (open loop: a
//! `tokio::time::interval` per worker at `concurrency / R` seconds, staggered). Latencies
//! are measured from the moment a request is sent. Only iterations that complete inside
//! the measured window (after `--warmup`) count. Errors (transport errors and unexpected
//! statuses) are counted; the run aborts (exit 2) once more than 1 % of at least 100
//! attempts failed, and exits 2 at the end if the overall error rate is above 1 %.
//!
//! Output on stdout: markdown table rows
//! `| label | mode | metric | conc | target/s | n | per s | p50 ms | p90 ms | p99 ms | max ms | errors |`
//! (`--header` prints the header first) and one JSON line per metric.
//! Every option can also be given as an environment variable `LOAD_<OPTION>` (upper case,
//! `-` → `_`), e.g. `LOAD_CLIENT_SECRET`.

#[path = "common/options.rs"]
mod options;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use options::{Options, basic_auth};
use reqwest::header::{AUTHORIZATION, COOKIE, HeaderValue, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: login_load [--base URL] [--realm R] [--client-id ID] --client-secret S \
[--username U] --password P [--redirect-uri U] [--scope S] [--mode login|exchange|refresh] \
[--concurrency N] [--duration SECS] [--warmup SECS] [--rate PER_SEC] [--label TEXT] [--header] \
[--idp ALIAS] [--upstream-realm R] (mode broker)";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Login,
    Exchange,
    Refresh,
    /// A fresh browser signs in through upstream provider `idp` (a realm of the same
    /// server): `kc_idp_hint` → the upstream's login page → its credentials → back to the
    /// broker endpoint → code → code exchange.
    Broker,
}

struct Cfg {
    base: String,
    realm: String,
    client_id: String,
    username: String,
    password: String,
    redirect_uri: String,
    scope: String,
    mode: Mode,
    concurrency: usize,
    duration: Duration,
    warmup: Duration,
    rate: Option<f64>,
    label: String,
    header: bool,
    basic: HeaderValue,
    auth_url: String,
    login_url: String,
    token_url: String,
    idp: String,
    upstream_login_url: String,
}

fn parse_args() -> Result<Cfg, String> {
    let mut o = Options::parse("LOAD_", USAGE)?;
    let base = o
        .take("base", Some("http://127.0.0.1:8080"))?
        .trim_end_matches('/')
        .to_owned();
    let realm = o.take("realm", Some("demo"))?;
    let client_id = o.take("client-id", Some("demo-app"))?;
    let client_secret = o.take("client-secret", None)?;
    let username = o.take("username", Some("demo"))?;
    let password = o.take("password", None)?;
    let redirect_uri = o.take("redirect-uri", Some("http://127.0.0.1:9999/cb"))?;
    let scope = o.take("scope", Some("openid profile email offline_access"))?;
    let mode = match o.take("mode", Some("login"))?.as_str() {
        "login" => Mode::Login,
        "exchange" => Mode::Exchange,
        "refresh" => Mode::Refresh,
        "broker" => Mode::Broker,
        m => {
            return Err(format!(
                "--mode: login, exchange, refresh or broker, not {m}"
            ));
        }
    };
    let idp = o.take("idp", Some("up"))?;
    let upstream_realm = o.take("upstream-realm", Some("upstream"))?;
    let concurrency = o.number("concurrency", "4")? as usize;
    let duration = o.number("duration", "10")?;
    let warmup = o.number("warmup", "2")?;
    let rate = Some(o.number("rate", "0")?).filter(|r| *r > 0.0);
    let label = o.take("label", Some("-"))?;
    if concurrency == 0 || duration <= 0.0 {
        return Err("--concurrency and --duration must be positive".into());
    }
    let basic = basic_auth(&client_id, &client_secret)?;
    let proto = format!("{base}/realms/{realm}/protocol/openid-connect");
    Ok(Cfg {
        auth_url: format!("{proto}/auth"),
        token_url: format!("{proto}/token"),
        login_url: format!("{base}/realms/{realm}/login-actions/authenticate"),
        upstream_login_url: format!("{base}/realms/{upstream_realm}/login-actions/authenticate"),
        idp,
        base,
        realm,
        client_id,
        username,
        password,
        redirect_uri,
        scope,
        mode,
        concurrency,
        duration: Duration::from_secs_f64(duration),
        warmup: Duration::from_secs_f64(warmup),
        rate,
        label,
        header: o.header,
        basic,
    })
}

/// A failed request: a short, stable description used to group errors.
type Fail = String;

fn fail_status(what: &str, s: StatusCode) -> Fail {
    format!("{what}: HTTP {}", s.as_u16())
}

fn fail_io(what: &str, e: reqwest::Error) -> Fail {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    };
    format!("{what}: {kind}")
}

/// One simulated browser: the cookies the server set (name → value; paths ignored, all
/// cookies are for the realm's path).
#[derive(Default)]
struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn header(&self) -> Option<HeaderValue> {
        if self.cookies.is_empty() {
            return None;
        }
        let s = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        HeaderValue::from_str(&s).ok()
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let pair = v.split(';').next().unwrap_or_default();
            let Some((k, val)) = pair.split_once('=') else {
                continue;
            };
            let (k, val) = (k.trim(), val.trim());
            match self.cookies.iter_mut().find(|(n, _)| n == k) {
                Some(c) => c.1 = val.to_owned(),
                None => self.cookies.push((k.to_owned(), val.to_owned())),
            }
        }
    }
}

/// A fresh authorization request: URL, expected state, PKCE verifier.
fn auth_request(cfg: &Cfg) -> (String, String, String) {
    let verifier = tessera_oidc::crypto::random_token();
    let challenge = URL_SAFE_NO_PAD.encode(tessera_oidc::crypto::sha256(verifier.as_bytes()));
    let state = tessera_oidc::crypto::random_id();
    let nonce = tessera_oidc::crypto::random_id();
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &cfg.client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", &cfg.scope)
        .append_pair("redirect_uri", &cfg.redirect_uri)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    (format!("{}?{qs}", cfg.auth_url), state, verifier)
}

/// The code from a 303 to the redirect URI, checking `state`.
fn code_from_redirect(
    cfg: &Cfg,
    res: &reqwest::Response,
    state: &str,
    what: &str,
) -> Result<String, Fail> {
    if res.status() != StatusCode::SEE_OTHER {
        return Err(fail_status(what, res.status()));
    }
    let loc = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("{what}: 303 without Location"))?;
    if !loc.starts_with(&cfg.redirect_uri) {
        return Err(format!("{what}: redirect elsewhere"));
    }
    let query = loc.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let (mut code, mut got_state, mut error) = (None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "state" => got_state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(e) = error {
        return Err(format!("{what}: error={e}"));
    }
    if got_state.as_deref() != Some(state) {
        return Err(format!("{what}: state mismatch"));
    }
    code.ok_or_else(|| format!("{what}: no code"))
}

/// Where a 303 sends the browser.
fn redirect_target(res: &reqwest::Response, what: &str) -> Result<String, Fail> {
    if res.status() != StatusCode::SEE_OTHER {
        return Err(fail_status(what, res.status()));
    }
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: 303 without Location"))
}

fn hidden_state(page: &str) -> Option<&str> {
    const MARK: &str = "name=\"state\" value=\"";
    let i = page.find(MARK)? + MARK.len();
    Some(&page[i..i + page[i..].find('"')?])
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    refresh_token: Option<String>,
}

struct Ctx {
    cfg: Cfg,
    http: Client,
    stop: AtomicBool,
    aborted: AtomicBool,
    attempts: AtomicU64,
    errors: AtomicU64,
}

impl Ctx {
    /// Login page then credentials: returns the code and the PKCE verifier.
    async fn sign_in(&self, b: &mut Browser) -> Result<(String, String), Fail> {
        let (url, state, verifier) = auth_request(&self.cfg);
        let mut req = self.http.get(&url);
        if let Some(c) = b.header() {
            req = req.header(COOKIE, c);
        }
        let res = req.send().await.map_err(|e| fail_io("auth", e))?;
        b.keep(&res);
        if res.status() != StatusCode::OK {
            return Err(fail_status("auth", res.status()));
        }
        let page = res.text().await.map_err(|e| fail_io("auth body", e))?;
        let sealed = hidden_state(&page).ok_or("auth: no state field on the login page")?;
        let mut req = self.http.post(&self.cfg.login_url).form(&[
            ("state", sealed),
            ("username", &self.cfg.username),
            ("password", &self.cfg.password),
        ]);
        if let Some(c) = b.header() {
            req = req.header(COOKIE, c);
        }
        let res = req.send().await.map_err(|e| fail_io("login", e))?;
        b.keep(&res);
        let code = code_from_redirect(&self.cfg, &res, &state, "login")?;
        Ok((code, verifier))
    }

    /// A sign-in through the upstream provider: returns the code and the PKCE verifier.
    async fn broker_sign_in(&self, b: &mut Browser) -> Result<(String, String), Fail> {
        let (url, state, verifier) = auth_request(&self.cfg);
        let url = format!("{url}&kc_idp_hint={}", self.cfg.idp);
        let res = self.send(b, self.http.get(&url), "auth").await?;
        let upstream = redirect_target(&res, "auth")?;
        let res = self
            .send(b, self.http.get(&upstream), "upstream auth")
            .await?;
        if res.status() != StatusCode::OK {
            return Err(fail_status("upstream auth", res.status()));
        }
        let page = res
            .text()
            .await
            .map_err(|e| fail_io("upstream auth body", e))?;
        let sealed = hidden_state(&page).ok_or("upstream auth: no login page")?;
        let form = [
            ("state", sealed),
            ("username", &self.cfg.username),
            ("password", &self.cfg.password),
        ];
        let res = self
            .send(
                b,
                self.http.post(&self.cfg.upstream_login_url).form(&form),
                "upstream login",
            )
            .await?;
        let back = redirect_target(&res, "upstream login")?;
        let res = self
            .send(b, self.http.get(&back), "broker endpoint")
            .await?;
        let code = code_from_redirect(&self.cfg, &res, &state, "broker endpoint")?;
        Ok((code, verifier))
    }

    /// Sends with the browser's cookies and keeps the ones the answer sets.
    async fn send(
        &self,
        b: &mut Browser,
        mut req: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<reqwest::Response, Fail> {
        if let Some(c) = b.header() {
            req = req.header(COOKIE, c);
        }
        let res = req.send().await.map_err(|e| fail_io(what, e))?;
        b.keep(&res);
        Ok(res)
    }

    /// Authorization with an SSO session: straight back with a code.
    async fn authorize_with_session(&self, b: &mut Browser) -> Result<(String, String), Fail> {
        let (url, state, verifier) = auth_request(&self.cfg);
        let mut req = self.http.get(&url);
        if let Some(c) = b.header() {
            req = req.header(COOKIE, c);
        }
        let res = req.send().await.map_err(|e| fail_io("sso auth", e))?;
        b.keep(&res);
        let code = code_from_redirect(&self.cfg, &res, &state, "sso auth")?;
        Ok((code, verifier))
    }

    async fn token(&self, form: &[(&str, &str)], what: &str) -> Result<TokenResponse, Fail> {
        let res = self
            .http
            .post(&self.cfg.token_url)
            .header(AUTHORIZATION, self.cfg.basic.clone())
            .form(form)
            .send()
            .await
            .map_err(|e| fail_io(what, e))?;
        let status = res.status();
        let body = res.bytes().await.map_err(|e| fail_io(what, e))?;
        if status != StatusCode::OK {
            return Err(fail_status(what, status));
        }
        serde_json::from_slice(&body).map_err(|_| format!("{what}: not a token response"))
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Result<TokenResponse, Fail> {
        self.token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.cfg.redirect_uri),
                ("code_verifier", verifier),
            ],
            "exchange",
        )
        .await
    }

    async fn refresh(&self, rt: &str) -> Result<TokenResponse, Fail> {
        self.token(
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
            "refresh",
        )
        .await
    }

    /// Untimed set-up login for `exchange` and `refresh` workers. Retries a few times:
    /// the server refuses logins beyond its hashing queue with 503.
    async fn setup(&self, b: &mut Browser) -> Result<String, Fail> {
        let mut last = String::new();
        for attempt in 0..20 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            match self.sign_in(b).await {
                Ok((code, verifier)) => match self.exchange(&code, &verifier).await {
                    Ok(t) => return t.refresh_token.ok_or("set-up: no refresh_token".into()),
                    Err(e) => last = e,
                },
                Err(e) => last = e,
            }
            *b = Browser::default();
        }
        Err(format!("set-up login failed: {last}"))
    }
}

/// Per-worker results. Latencies in microseconds.
#[derive(Default)]
struct Stats {
    ok: u64,
    main: Vec<u32>,
    second: Vec<u32>,
    errors: BTreeMap<Fail, u64>,
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

async fn worker(
    ctx: Arc<Ctx>,
    id: usize,
    setup_gate: Arc<tokio::sync::Semaphore>,
    ready: Arc<tokio::sync::Barrier>,
    go: Arc<tokio::sync::Barrier>,
    window: Arc<std::sync::OnceLock<(Instant, Instant)>>,
) -> Stats {
    let cfg = &ctx.cfg;
    let mut st = Stats::default();
    // Set-up (untimed): a session and a refresh token for the looping modes.
    let mut browser = Browser::default();
    let mut rt = String::new();
    if !matches!(cfg.mode, Mode::Login | Mode::Broker) {
        let _permit = setup_gate.acquire().await.expect("semaphore");
        match ctx.setup(&mut browser).await {
            Ok(t) => rt = t,
            Err(e) => {
                eprintln!("login_load: worker {id}: {e}");
                ctx.aborted.store(true, Relaxed);
                ctx.stop.store(true, Relaxed);
            }
        }
    }
    // Everyone set up → main fixes the measured window → go.
    ready.wait().await;
    go.wait().await;
    let (measure_from, deadline) = *window.get().expect("window set before the barrier");
    let mut tick = cfg.rate.map(|r| {
        let period = Duration::from_secs_f64(cfg.concurrency as f64 / r);
        let offset = period.mul_f64(id as f64 / cfg.concurrency as f64);
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    while !ctx.stop.load(Relaxed) {
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        if Instant::now() >= deadline || ctx.stop.load(Relaxed) {
            break;
        }
        ctx.attempts.fetch_add(1, Relaxed);
        let t0 = Instant::now();
        let result: Result<(Duration, Duration), Fail> = match cfg.mode {
            Mode::Login | Mode::Broker => {
                let mut b = Browser::default();
                let signed_in = if cfg.mode == Mode::Login {
                    ctx.sign_in(&mut b).await
                } else {
                    ctx.broker_sign_in(&mut b).await
                };
                match signed_in {
                    Ok((code, verifier)) => {
                        let t1 = Instant::now();
                        ctx.exchange(&code, &verifier)
                            .await
                            .map(|_| (t0.elapsed(), t1.elapsed()))
                    }
                    Err(e) => Err(e),
                }
            }
            Mode::Exchange => match ctx.authorize_with_session(&mut browser).await {
                Ok((code, verifier)) => {
                    let t1 = Instant::now();
                    let auth = t1 - t0;
                    ctx.exchange(&code, &verifier)
                        .await
                        .map(|_| (t1.elapsed(), auth))
                }
                Err(e) => Err(e),
            },
            Mode::Refresh => match ctx.refresh(&rt).await {
                Ok(t) => match t.refresh_token {
                    Some(next) => {
                        rt = next;
                        Ok((t0.elapsed(), Duration::ZERO))
                    }
                    None => Err("refresh: no refresh_token".into()),
                },
                Err(e) => Err(e),
            },
        };
        let done = Instant::now();
        let counted = done >= measure_from && done <= deadline;
        match result {
            Ok((main, second)) => {
                if counted {
                    st.ok += 1;
                    st.main.push(micros(main));
                    if cfg.mode != Mode::Refresh {
                        st.second.push(micros(second));
                    }
                }
            }
            Err(e) => {
                ctx.errors.fetch_add(1, Relaxed);
                *st.errors.entry(e).or_default() += 1;
                // A failed refresh may have ended the token family; a failed SSO
                // authorization may mean the session is gone: start over (untimed).
                if !matches!(cfg.mode, Mode::Login | Mode::Broker) && !ctx.stop.load(Relaxed) {
                    browser = Browser::default();
                    match ctx.setup(&mut browser).await {
                        Ok(t) => rt = t,
                        Err(e) => {
                            *st.errors.entry(e).or_default() += 1;
                            ctx.aborted.store(true, Relaxed);
                            ctx.stop.store(true, Relaxed);
                        }
                    }
                }
            }
        }
    }
    st
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1] as f64 / 1000.0
}

fn report(cfg: &Cfg, metric: &str, mut lat: Vec<u32>, ok: u64, secs: f64, errors: u64) {
    lat.sort_unstable();
    let per_s = ok as f64 / secs;
    let (p50, p90, p99) = (pct(&lat, 50.0), pct(&lat, 90.0), pct(&lat, 99.0));
    let max = lat.last().map_or(f64::NAN, |m| *m as f64 / 1000.0);
    let mode = format!("{:?}", cfg.mode).to_lowercase();
    let target = cfg.rate.map_or("closed".to_owned(), |r| format!("{r:.0}"));
    println!(
        "| {} | {mode} | {metric} | {} | {target} | {} | {per_s:.1} | {p50:.2} | {p90:.2} | {p99:.2} | {max:.2} | {errors} |",
        cfg.label,
        cfg.concurrency,
        lat.len()
    );
    println!(
        "{}",
        serde_json::json!({
            "label": cfg.label, "mode": mode, "metric": metric, "concurrency": cfg.concurrency,
            "target_rate": cfg.rate, "count": lat.len(), "per_s": (per_s * 10.0).round() / 10.0,
            "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "max_ms": max, "errors": errors,
            "duration_s": secs, "base": cfg.base, "realm": cfg.realm,
        })
    );
}

#[tokio::main]
async fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(64);
        }
    };
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(cfg.concurrency * 2)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    if cfg.header {
        println!(
            "| label | mode | metric | conc | target/s | n | per s | p50 ms | p90 ms | p99 ms | max ms | errors |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
    let n = cfg.concurrency;
    let ctx = Arc::new(Ctx {
        cfg,
        http,
        stop: AtomicBool::new(false),
        aborted: AtomicBool::new(false),
        attempts: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    // Set-up logins two at a time (the server's hashing queue is small on one core).
    let gate = Arc::new(tokio::sync::Semaphore::new(2));
    let ready = Arc::new(tokio::sync::Barrier::new(n + 1));
    let go = Arc::new(tokio::sync::Barrier::new(n + 1));
    let window = Arc::new(std::sync::OnceLock::new());
    let setup_started = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            tokio::spawn(worker(
                ctx.clone(),
                i,
                gate.clone(),
                ready.clone(),
                go.clone(),
                window.clone(),
            ))
        })
        .collect();
    // Set-up time is excluded: the window (warm-up, then the measured duration) starts
    // once every worker has its session or refresh token.
    ready.wait().await;
    let set_up = setup_started.elapsed();
    let from = Instant::now() + ctx.cfg.warmup;
    let _ = window.set((from, from + ctx.cfg.duration));
    go.wait().await;
    let (from, deadline) = *window.get().expect("window");
    // Abort watchdog: > 1 % errors over at least 100 attempts, or (early on) 20 errors
    // making up half of all attempts.
    let watchdog = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let (a, e) = (ctx.attempts.load(Relaxed), ctx.errors.load(Relaxed));
                if (a >= 100 && e * 100 > a) || (e >= 20 && e * 2 > a) {
                    eprintln!("login_load: aborting, {e} errors in {a} attempts (> 1 %)");
                    ctx.aborted.store(true, Relaxed);
                    ctx.stop.store(true, Relaxed);
                }
                if Instant::now() >= deadline || ctx.stop.load(Relaxed) {
                    ctx.stop.store(true, Relaxed);
                    return;
                }
            }
        })
    };
    let mut all = Stats::default();
    for h in handles {
        let s = h.await.expect("worker panicked");
        all.ok += s.ok;
        all.main.extend(s.main);
        all.second.extend(s.second);
        for (k, v) in s.errors {
            *all.errors.entry(k).or_default() += v;
        }
    }
    watchdog.abort();
    let cfg = &ctx.cfg;
    let end = Instant::now().min(deadline);
    let secs = end.saturating_duration_since(from).as_secs_f64().max(1e-3);
    let (attempts, errors) = (ctx.attempts.load(Relaxed), ctx.errors.load(Relaxed));
    if set_up > Duration::from_millis(50) {
        eprintln!(
            "login_load: set-up logins took {:.2} s (not measured)",
            set_up.as_secs_f64()
        );
    }
    let (first, second) = match cfg.mode {
        Mode::Login => ("login", Some("exchange")),
        Mode::Broker => ("broker_login", Some("exchange")),
        Mode::Exchange => ("exchange", Some("sso_authorize")),
        Mode::Refresh => ("refresh", None),
    };
    let ok = all.ok;
    report(cfg, first, all.main, ok, secs, errors);
    if let Some(s) = second {
        report(cfg, s, all.second, ok, secs, errors);
    }
    if let Some(r) = cfg.rate {
        let got = ok as f64 / secs;
        if got < 0.95 * r {
            eprintln!(
                "login_load: achieved {got:.1}/s, below the target {r:.1}/s (server or generator saturated)"
            );
        }
    }
    for (k, v) in &all.errors {
        eprintln!("login_load: {v} x {k}");
    }
    if ctx.aborted.load(Relaxed) || (attempts > 0 && errors * 100 > attempts) {
        eprintln!("login_load: FAILED: {errors} errors in {attempts} attempts");
        std::process::exit(2);
    }
}
