//! Pending devices polling the token endpoint at the advertised interval (issue 17,
//! acceptance 6; driven by `bench/device.sh`, results in `docs/benchmarks.md`).
//!
//! ```sh
//! cargo run --release --example device_pollers -- --base http://127.0.0.1:8080 \
//!     --realm bench --client-id tv --client-secret S --devices 1000 --duration 20 \
//!     --metrics http://127.0.0.1:9090/metrics
//! ```
//!
//! 1. **Idle baseline** (`--idle` seconds, with `--metrics`): the server's statement count
//!    (`tessera_db_statement_duration_seconds_count`) over a window with no pollers, as a
//!    rate, so what the idle server does can be told from what the polls cost.
//! 2. **Devices**: `--devices` device authorization requests (RFC 8628 §3.1) of a
//!    confidential client (`client_secret_basic`; a public client's requests are budgeted
//!    per address), `--create-concurrency` at a time. Each answer's `interval` is kept.
//! 3. **Polling** for `--duration` seconds: device `i` polls first at `interval · i / N`
//!    after the start, then every `interval` seconds (a `tokio::time::interval`: the time
//!    between two polls' sends is the interval, plus `--slack-ms`), so the polls spread
//!    evenly, N / interval a second. On `slow_down` a device adds 5 s to its interval, as
//!    RFC 8628 §3.5 asks. The statement count is read just before the first poll and after
//!    the last answer; statements per poll = its difference / polls, and net of the idle
//!    rate over the same window.
//!
//! The line `device_pollers: window open` on stderr marks the start of polling (the bench
//! script starts its other load after it). Answers are counted by their `error` (or
//! `tokens` for a 200, `HTTP nnn` without one, transport failures by kind). Exit 2 when
//! any answer is not `authorization_pending` or `slow_down`.
//!
//! Output on stdout: a markdown row
//! `| label | devices | interval s | window s | polls | polls/s | authorization_pending | slow_down | other | statements | per poll | idle per s | net per poll | poll p50 ms | poll p99 ms |`
//! (`--header` prints the header first) and one JSON line. Every option can also be given as
//! an environment variable `POLLERS_<OPTION>` (upper case, `-` → `_`).

#[path = "common/options.rs"]
mod options;

use options::{Options, basic_auth};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Client, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: device_pollers [--base URL] [--realm R] [--client-id ID] --client-secret S \
[--scope S] [--devices N] [--duration SECS] [--idle SECS] [--metrics URL] [--slack-ms MS] \
[--create-concurrency N] [--label TEXT] [--header]";

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const STATEMENTS: &str = "tessera_db_statement_duration_seconds_count";
/// RFC 8628 §3.5: a `slow_down` adds five seconds to the interval.
const SLOW_DOWN_SECS: u64 = 5;

struct Cfg {
    base: String,
    realm: String,
    scope: String,
    devices: usize,
    duration: Duration,
    idle: Duration,
    metrics: Option<String>,
    slack: Duration,
    create_concurrency: usize,
    label: String,
    header: bool,
    basic: HeaderValue,
    device_url: String,
    token_url: String,
}

fn parse_args() -> Result<Cfg, String> {
    let mut o = Options::parse("POLLERS_", USAGE)?;
    let base = o
        .take("base", Some("http://127.0.0.1:8080"))?
        .trim_end_matches('/')
        .to_owned();
    let realm = o.take("realm", Some("bench"))?;
    let client_id = o.take("client-id", Some("tv"))?;
    let client_secret = o.take("client-secret", None)?;
    let scope = o.take("scope", Some("openid"))?;
    let devices = o.number("devices", "1000")? as usize;
    let duration = o.number("duration", "20")?;
    let idle = o.number("idle", "10")?;
    let metrics = Some(o.take("metrics", Some(""))?).filter(|m| !m.is_empty());
    let slack = o.number("slack-ms", "0")?;
    let create_concurrency = o.number("create-concurrency", "8")? as usize;
    let label = o.take("label", Some("-"))?;
    if devices == 0 || duration <= 0.0 || create_concurrency == 0 {
        return Err("--devices, --duration and --create-concurrency must be positive".into());
    }
    let basic = basic_auth(&client_id, &client_secret)?;
    let proto = format!("{base}/realms/{realm}/protocol/openid-connect");
    Ok(Cfg {
        device_url: format!("{proto}/auth/device"),
        token_url: format!("{proto}/token"),
        base,
        realm,
        scope,
        devices,
        duration: Duration::from_secs_f64(duration),
        idle: Duration::from_secs_f64(idle),
        metrics,
        slack: Duration::from_secs_f64(slack / 1000.0),
        create_concurrency,
        label,
        header: o.header,
        basic,
    })
}

/// The statements the server has executed since it started (the histogram's `_count`).
async fn statements(http: &Client, url: &str) -> Result<f64, String> {
    let body = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("metrics: {e}"))?
        .text()
        .await
        .map_err(|e| format!("metrics: {e}"))?;
    body.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(' ')?;
            (name == STATEMENTS).then(|| value.trim().parse::<f64>().ok())?
        })
        .ok_or_else(|| format!("metrics: no {STATEMENTS} in the answer of {url}"))
}

async fn maybe_statements(http: &Client, cfg: &Cfg) -> Result<Option<f64>, String> {
    match &cfg.metrics {
        Some(url) => statements(http, url).await.map(Some),
        None => Ok(None),
    }
}

/// A device authorization answer: the device code and its interval in seconds.
#[derive(serde::Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    interval: u64,
}

async fn authorize_device(http: &Client, cfg: &Cfg) -> Result<DeviceAuthorization, String> {
    let res = http
        .post(&cfg.device_url)
        .header(AUTHORIZATION, cfg.basic.clone())
        .form(&[("scope", cfg.scope.as_str())])
        .send()
        .await
        .map_err(|e| format!("device authorization: {e}"))?;
    let status = res.status();
    let body = res
        .bytes()
        .await
        .map_err(|e| format!("device authorization: {e}"))?;
    if status != StatusCode::OK {
        return Err(format!(
            "device authorization: HTTP {}: {}",
            status.as_u16(),
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("device authorization: {e}"))
}

/// What one poll was answered with: the `error`, `tokens` or a failure's kind.
async fn poll(http: &Client, cfg: &Cfg, device_code: &str) -> String {
    let res = match http
        .post(&cfg.token_url)
        .header(AUTHORIZATION, cfg.basic.clone())
        .form(&[("grant_type", DEVICE_GRANT), ("device_code", device_code)])
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return "timeout".into(),
        Err(e) if e.is_connect() => return "connect".into(),
        Err(_) => return "transport".into(),
    };
    let status = res.status();
    let Ok(body) = res.bytes().await else {
        return "transport".into();
    };
    if status == StatusCode::OK {
        return "tokens".into();
    }
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()))
}

/// One device's answers and poll latencies (microseconds).
#[derive(Default)]
struct Tally {
    answers: BTreeMap<String, u64>,
    latencies: Vec<u32>,
}

/// Polls one device code from `first` on every `interval` (plus slack) until `deadline`.
async fn poller(
    http: Client,
    cfg: Arc<Cfg>,
    device: DeviceAuthorization,
    first: tokio::time::Instant,
    deadline: tokio::time::Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut every = Duration::from_secs(device.interval) + cfg.slack;
    let mut tick = tokio::time::interval_at(first, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The window ends at the deadline, not at the first tick after it.
    while let Ok(at) = tokio::time::timeout_at(deadline, tick.tick()).await {
        if at >= deadline {
            break;
        }
        let sent = Instant::now();
        let answer = poll(&http, &cfg, &device.device_code).await;
        tally
            .latencies
            .push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if answer == "slow_down" {
            every += Duration::from_secs(SLOW_DOWN_SECS);
            tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        *tally.answers.entry(answer).or_default() += 1;
    }
    tally
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1] as f64 / 1000.0
}

async fn run(cfg: Cfg) -> Result<bool, String> {
    let cfg = Arc::new(cfg);
    let http = Client::builder()
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;

    // 1. What the server does with no pollers.
    let mut idle_per_s = None;
    if cfg.metrics.is_some() && !cfg.idle.is_zero() {
        let t0 = Instant::now();
        let s0 = maybe_statements(&http, &cfg).await?;
        tokio::time::sleep(cfg.idle).await;
        let s1 = maybe_statements(&http, &cfg).await?;
        if let (Some(a), Some(b)) = (s0, s1) {
            idle_per_s = Some((b - a) / t0.elapsed().as_secs_f64());
        }
    }

    // 2. The pending devices.
    let created_at = Instant::now();
    let before_create = maybe_statements(&http, &cfg).await?;
    let gate = Arc::new(tokio::sync::Semaphore::new(cfg.create_concurrency));
    let creations: Vec<_> = (0..cfg.devices)
        .map(|_| {
            let (http, cfg, gate) = (http.clone(), cfg.clone(), gate.clone());
            tokio::spawn(async move {
                let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
                authorize_device(&http, &cfg).await
            })
        })
        .collect();
    let mut devices = Vec::with_capacity(cfg.devices);
    for c in creations {
        devices.push(c.await.map_err(|e| e.to_string())??);
    }
    let create_secs = created_at.elapsed().as_secs_f64();
    let after_create = maybe_statements(&http, &cfg).await?;
    let create_statements = before_create
        .zip(after_create)
        .map(|(a, b)| (b - a) / cfg.devices as f64);
    let interval = devices.iter().map(|d| d.interval).max().unwrap_or(5);
    eprintln!(
        "device_pollers: {} devices created in {create_secs:.1} s, interval {interval} s",
        cfg.devices
    );

    // 3. Polling, staggered evenly over the first interval.
    let n = devices.len();
    let s0 = maybe_statements(&http, &cfg).await?;
    let started = Instant::now();
    let start = tokio::time::Instant::now();
    let deadline = start + cfg.duration;
    eprintln!("device_pollers: window open");
    let pollers: Vec<_> = devices
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let offset = Duration::from_secs(d.interval).mul_f64(i as f64 / n as f64);
            tokio::spawn(poller(
                http.clone(),
                cfg.clone(),
                d,
                start + offset,
                deadline,
            ))
        })
        .collect();
    let mut all = Tally::default();
    for p in pollers {
        let t = p.await.map_err(|e| e.to_string())?;
        for (k, v) in t.answers {
            *all.answers.entry(k).or_default() += v;
        }
        all.latencies.extend(t.latencies);
    }
    let s1 = maybe_statements(&http, &cfg).await?;
    let window = started.elapsed().as_secs_f64();

    // Report.
    let polls: u64 = all.answers.values().sum();
    let count = |k: &str| all.answers.get(k).copied().unwrap_or(0);
    let (pending, slow_down) = (count("authorization_pending"), count("slow_down"));
    let other = polls - pending - slow_down;
    all.latencies.sort_unstable();
    let (p50, p99) = (pct(&all.latencies, 50.0), pct(&all.latencies, 99.0));
    let stmts = s0.zip(s1).map(|(a, b)| b - a);
    let per_poll = stmts.map(|s| s / polls.max(1) as f64);
    let net_per_poll = stmts
        .zip(idle_per_s)
        .map(|(s, idle)| (s - idle * window) / polls.max(1) as f64);
    let show =
        |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
    if cfg.header {
        println!(
            "| label | devices | interval s | window s | polls | polls/s | authorization_pending | slow_down | other | statements | per poll | idle per s | net per poll | poll p50 ms | poll p99 ms |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
    println!(
        "| {} | {n} | {interval} | {window:.1} | {polls} | {:.1} | {pending} | {slow_down} | {other} | {} | {} | {} | {} | {p50:.2} | {p99:.2} |",
        cfg.label,
        polls as f64 / window,
        show(stmts, 0),
        show(per_poll, 3),
        show(idle_per_s, 2),
        show(net_per_poll, 3),
    );
    println!(
        "{}",
        serde_json::json!({
            "label": cfg.label, "devices": n, "interval_s": interval, "window_s": window,
            "polls": polls, "polls_per_s": polls as f64 / window, "answers": all.answers,
            "authorization_pending": pending, "slow_down": slow_down, "other": other,
            "statements": stmts, "statements_per_poll": per_poll,
            "idle_statements_per_s": idle_per_s, "net_statements_per_poll": net_per_poll,
            "poll_p50_ms": p50, "poll_p99_ms": p99, "create_s": create_secs,
            "statements_per_device_authorization": create_statements,
            "slack_ms": cfg.slack.as_secs_f64() * 1000.0,
            "base": cfg.base, "realm": cfg.realm,
        })
    );
    for (k, v) in &all.answers {
        eprintln!("device_pollers: {v} x {k}");
    }
    Ok(other == 0)
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
    match run(cfg).await {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("device_pollers: FAILED: answers other than authorization_pending/slow_down");
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("device_pollers: {e}");
            std::process::exit(1);
        }
    }
}
