//! Organizations at scale: seeds a realm with many organizations and members, then
//! measures what the organization feature costs there (driven by `bench/orgs.sh`; results
//! in `docs/benchmarks.md`, section "Organizations at scale").
//!
//! ```sh
//! org_scale seed  --database-url sqlite:///tmp/d/tessera.db --realm orgs-big
//! org_scale probe --database-url sqlite:///tmp/d/tessera.db --realm orgs-big
//! org_scale refresh --base http://127.0.0.1:18095 --realm orgs-big --client-secret S \
//!     --username multi --password P --scope 'openid organization:*' --count 300
//! org_scale pages --base http://127.0.0.1:18095 --realm orgs-big --admin-secret S
//! ```
//!
//! Modes:
//!
//! - `seed`: through the repository API (`Store::insert_org`, `insert_user`, `add_member`,
//!   each its own transaction, `--concurrency` tasks on a pool of as many connections):
//!   the role template `member`; `--orgs` organizations (`big` and `org-000001` …); one
//!   user `m-00001@…` … per `--members`, each a member of `big` with role `member`; and the
//!   existing user `--multi-user` (created beforehand with a password, through the CLI)
//!   made a member, with role `member`, of `--multi-orgs` organizations spread evenly over
//!   the alias range. The realm and that user must exist. Prints the time of each phase.
//! - `probe`: the repository calls, timed in process against the seeded database:
//!   the membership check (`get_membership`, `big` × a member near the end of the
//!   50,000, and × a non-member) with the SQL statements each call executes; member pages
//!   (`list_members`, first page and a page 200 from the end); organization pages
//!   (`list_orgs`, first and deep); the 1,000 memberships of the multi-organization user
//!   (`list_user_memberships`, what `organization:*` reads per token).
//! - `refresh`: one browser login (authorization code + PKCE S256, `--scope`), the code
//!   exchange, then `--warmup` untimed and `--count` timed sequential `refresh_token`
//!   requests, each with the newest refresh token (rotation). Every refresh re-reads the
//!   memberships and re-issues the `organization` claim. Reports the latency, the access
//!   token's size and how many organizations its claim carries; `--save-token FILE` keeps
//!   the last access token.
//! - `pages`: the admin API's keyset pages over HTTP (bearer token from `client_credentials`
//!   of `--admin-client-id` in realm `--admin-realm`): walks all members of `--org` and all
//!   organizations of the realm in pages of 500 (timed as a whole), then times `--iters`
//!   requests each of the first page and of a page 200 entries from the end (limit 100).
//!
//! - `console`: signs in to the realm administrators' console (`/admin/console`, as a browser
//!   does: the console's redirect, the login form, the callback) as `--username`, walks the
//!   members pages of `--org` to the end following their "Next page" links (timed as a
//!   whole), then times `--iters` renders each of the first members page, a page four pages
//!   from the end, and a search. Every request is one full page render.
//!
//! Output on stdout: markdown rows `| label | metric | n | p50 ms | p95 ms | p99 ms | max ms | note |`
//! (`--header` prints the header first) and one JSON line per metric. Options may also be
//! given as `ORGS_<OPTION>` environment variables (upper case, `-` → `_`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::{AUTHORIZATION, COOKIE, HeaderValue, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tessera_domain::{
    Email, NewOrganization, NewUser, OrgAlias, OrgId, OrgRole, OrgRoleId, OrgRoleName, RealmId,
    RealmName, UnixTime, UserId, Username,
};
use tessera_storage::{PageRequest, Store};

const USAGE: &str = "usage: org_scale seed|probe|refresh|pages [--option value]… [--header]
  seed:    --database-url URL --realm R [--orgs 100000] [--members 50000] [--multi-orgs 1000]
           [--multi-user multi] [--concurrency 4]
  probe:   --database-url URL --realm R [--multi-user multi] [--iters 500]
  refresh: --base URL --realm R [--client-id app] --client-secret S --username U --password P
           [--scope 'openid organization:*'] [--redirect-uri http://127.0.0.1:9999/cb]
           [--count 300] [--warmup 20] [--save-token FILE]
  pages:   --base URL --realm R [--org big] [--admin-realm master] [--admin-client-id bench-admin]
           --admin-secret S [--iters 50]
  console: --base URL --realm R [--org big] [--username admin] --password P [--iters 200]
           [--search m-4999]
  all:     [--label TEXT] [--header]";

type Res<T> = Result<T, String>;

struct Opts {
    mode: String,
    map: BTreeMap<String, String>,
    header: bool,
}

impl Opts {
    fn parse() -> Res<Self> {
        let mut map = BTreeMap::new();
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix("ORGS_") {
                map.insert(name.to_lowercase().replace('_', "-"), v);
            }
        }
        let mut args = std::env::args().skip(1);
        let mode = args.next().ok_or(USAGE)?;
        if mode == "-h" || mode == "--help" {
            return Err(USAGE.into());
        }
        let mut header = false;
        while let Some(a) = args.next() {
            if a == "--header" {
                header = true;
                continue;
            }
            let name = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {a}\n{USAGE}"))?;
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => (
                    name.to_owned(),
                    args.next()
                        .ok_or_else(|| format!("--{name} needs a value"))?,
                ),
            };
            map.insert(name, value);
        }
        Ok(Self { mode, map, header })
    }

    fn get(&self, k: &str, default: Option<&str>) -> Res<String> {
        self.map
            .get(k)
            .cloned()
            .or_else(|| default.map(str::to_owned))
            .ok_or_else(|| format!("--{k} is required\n{USAGE}"))
    }

    fn num(&self, k: &str, default: usize) -> Res<usize> {
        match self.map.get(k) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{k}: not a number: {v}")),
        }
    }
}

// ---------- output ----------

fn header() {
    println!("| label | metric | n | p50 ms | p95 ms | p99 ms | max ms | note |");
    println!("|---|---|---|---|---|---|---|---|");
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// One row and one JSON line for a latency sample; `extra` goes into the JSON as is.
fn report(label: &str, metric: &str, mut lat: Vec<Duration>, note: &str, extra: serde_json::Value) {
    lat.sort_unstable();
    let (p50, p95, p99) = (pct(&lat, 50.0), pct(&lat, 95.0), pct(&lat, 99.0));
    let max = lat.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "| {label} | {metric} | {} | {p50:.3} | {p95:.3} | {p99:.3} | {max:.3} | {note} |",
        lat.len()
    );
    let mut j = serde_json::json!({
        "label": label, "metric": metric, "count": lat.len(), "p50_ms": p50, "p95_ms": p95,
        "p99_ms": p99, "max_ms": max, "note": note,
    });
    if let (Some(o), serde_json::Value::Object(e)) = (j.as_object_mut(), extra) {
        o.extend(e);
    }
    println!("{j}");
}

/// A one-off duration (seeding phases, full walks): a row without percentiles.
fn report_once(label: &str, metric: &str, took: Duration, note: &str, extra: serde_json::Value) {
    let ms = took.as_secs_f64() * 1000.0;
    println!("| {label} | {metric} | 1 | {ms:.1} | | | | {note} |");
    let mut j = serde_json::json!({
        "label": label, "metric": metric, "count": 1, "total_ms": ms, "note": note,
    });
    if let (Some(o), serde_json::Value::Object(e)) = (j.as_object_mut(), extra) {
        o.extend(e);
    }
    println!("{j}");
}

fn now() -> UnixTime {
    UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    )
}

// ---------- seed / probe (repository API) ----------

async fn open(o: &Opts, pool: u32) -> Res<(Store, RealmId)> {
    let url = o.get("database-url", None)?;
    let store = Store::connect(&url, pool)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    let name = RealmName::parse(&o.get("realm", None)?).map_err(|e| e.to_string())?;
    let realm = store
        .find_realm_by_name(&name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("realm {name} not found (create it first)"))?;
    Ok((store, realm.id))
}

async fn find_user(store: &Store, realm: RealmId, name: &str) -> Res<UserId> {
    let u = Username::parse(name).map_err(|e| e.to_string())?;
    Ok(store
        .find_user_by_username(realm, &u)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("user {name} not found (create it first)"))?
        .id)
}

fn org_alias(i: usize) -> String {
    if i == 0 {
        "big".to_owned()
    } else {
        format!("org-{i:06}")
    }
}

/// Runs `f(i)` for i in 0..n on `conc` tasks; prints progress; returns the elapsed time.
async fn parallel<F, Fut>(what: &str, n: usize, conc: usize, f: F) -> Res<Duration>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Res<()>> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..conc)
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            let what = what.to_owned();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Relaxed);
                    if i >= n {
                        return Ok::<(), String>(());
                    }
                    f(i).await.map_err(|e| format!("{what} #{i}: {e}"))?;
                    if (i + 1) % 10_000 == 0 {
                        eprintln!(
                            "org_scale: {what}: {} / {n} ({:.1} s)",
                            i + 1,
                            t0.elapsed().as_secs_f64()
                        );
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(t0.elapsed())
}

async fn seed(o: &Opts) -> Res<()> {
    let label = o.get("label", Some("seed"))?;
    let n_orgs = o.num("orgs", 100_000)?.max(1);
    let n_members = o.num("members", 50_000)?;
    let n_multi = o.num("multi-orgs", 1_000)?.min(n_orgs.saturating_sub(1));
    let conc = o.num("concurrency", 4)?.max(1);
    let (store, realm) = open(o, conc as u32).await?;
    let multi = find_user(&store, realm, &o.get("multi-user", Some("multi"))?).await?;
    let stamp = now();
    let total = Instant::now();

    // Every realm has the role template `member` (created with the realm).
    let member = OrgRoleName::parse("member").map_err(|e| e.to_string())?;
    let role_id = match store
        .list_org_roles(realm)
        .await
        .map_err(|e| format!("roles: {e}"))?
        .into_iter()
        .find(|r| r.name == member)
    {
        Some(r) => r.id,
        None => {
            let role = OrgRole {
                id: OrgRoleId::new_v7(),
                realm_id: realm,
                name: member,
                description: Some("benchmark role".into()),
            };
            store
                .insert_org_role(&role, stamp)
                .await
                .map_err(|e| format!("role: {e}"))?;
            role.id
        }
    };

    // Organizations: ids generated up front so the membership phases can address them.
    let org_ids: Arc<Vec<OrgId>> = Arc::new((0..n_orgs).map(|_| OrgId::new_v7()).collect());
    let took = {
        let (store, ids) = (store.clone(), org_ids.clone());
        parallel("organizations", n_orgs, conc, move |i| {
            let (store, id) = (store.clone(), ids[i]);
            async move {
                let o = NewOrganization {
                    alias: OrgAlias::parse(&org_alias(i)).map_err(|e| e.to_string())?,
                    name: format!("Organization {i}"),
                    description: None,
                    enabled: true,
                    attributes: Default::default(),
                    external_id: None,
                    logo_uri: None,
                };
                store
                    .insert_org(realm, id, &o, &[], stamp)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await?
    };
    if o.header {
        header();
    }
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    report_once(
        &label,
        "seed_organizations",
        took,
        &format!("{n_orgs} insert_org, {:.0}/s", rate(n_orgs, took)),
        serde_json::json!({"rows": n_orgs}),
    );

    // Members of `big`: a user each (no password), then the membership with one role.
    let took = {
        let (store, big) = (store.clone(), org_ids[0]);
        parallel("members of big", n_members, conc, move |i| {
            let store = store.clone();
            async move {
                let name = format!("m-{:05}", i + 1);
                let mut u = NewUser::new(Username::parse(&name).map_err(|e| e.to_string())?);
                u.email =
                    Some(Email::parse(&format!("{name}@big.example")).map_err(|e| e.to_string())?);
                let id = UserId::new_v7();
                store
                    .insert_user(realm, id, &u, None, stamp)
                    .await
                    .map_err(|e| e.to_string())?;
                store
                    .add_member(realm, big, id, false, &[role_id], stamp)
                    .await
                    .map_err(|e| e.to_string())
            }
        })
        .await?
    };
    report_once(
        &label,
        "seed_members_of_big",
        took,
        &format!(
            "{n_members} insert_user + add_member, {:.0}/s",
            rate(n_members, took)
        ),
        serde_json::json!({"rows": n_members}),
    );

    // The multi-organization user: every stride-th organization (never `big`).
    let stride = ((n_orgs - 1) / n_multi.max(1)).max(1);
    let took = {
        let (store, ids) = (store.clone(), org_ids.clone());
        parallel("memberships of the multi user", n_multi, conc, move |k| {
            let (store, org) = (store.clone(), ids[1 + k * stride]);
            async move {
                store
                    .add_member(realm, org, multi, false, &[role_id], stamp)
                    .await
                    .map_err(|e| e.to_string())
            }
        })
        .await?
    };
    report_once(
        &label,
        "seed_multi_memberships",
        took,
        &format!("{n_multi} add_member (every {stride}th organization)"),
        serde_json::json!({"rows": n_multi, "stride": stride}),
    );
    report_once(
        &label,
        "seed_total",
        total.elapsed(),
        &format!("{conc} tasks, pool of {conc}"),
        serde_json::json!({}),
    );
    store.close().await.map_err(|e| e.to_string())
}

/// Times `iters` calls of `f` after 5 untimed ones; also the statements one call executes.
async fn time_calls<F, Fut, T>(store: &Store, iters: usize, f: F) -> Res<(Vec<Duration>, u64, T)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Res<T>>,
{
    for _ in 0..5 {
        f().await?;
    }
    let before = store.statement_count();
    let mut last = f().await?;
    let statements = store.statement_count() - before;
    let mut lat = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        last = f().await?;
        lat.push(t.elapsed());
    }
    Ok((lat, statements, last))
}

async fn probe(o: &Opts) -> Res<()> {
    let label = o.get("label", Some("probe"))?;
    let iters = o.num("iters", 500)?.max(1);
    let (store, realm) = open(o, 1).await?;
    let multi = find_user(&store, realm, &o.get("multi-user", Some("multi"))?).await?;
    let big = store
        .find_org_by_alias(realm, &OrgAlias::parse("big").map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("organization big not found (seed first)")?
        .id;
    if o.header {
        header();
    }
    let err = |e: tessera_storage::StoreError| e.to_string();

    // Every member, page by page (500, the admin API's maximum), to pick keys near the
    // end; the whole walk is O(total) by nature, for contrast with one page.
    let t = Instant::now();
    let (mut all, mut pages) = (Vec::new(), 0);
    loop {
        let after = all.last().map(|m: &tessera_domain::Member| m.user_id);
        let page = store
            .list_members(realm, big, None, after, 500)
            .await
            .map_err(err)?;
        pages += 1;
        let done = page.len() < 500;
        all.extend(page);
        if done {
            break;
        }
    }
    report_once(
        &label,
        "list_members_walk_all",
        t.elapsed(),
        &format!(
            "{} members in {pages} pages of 500 (contrast: O(total))",
            all.len()
        ),
        serde_json::json!({"rows": all.len(), "pages": pages}),
    );
    if all.len() < 400 {
        return Err(format!("organization big has only {} members", all.len()));
    }
    let near_end = all[all.len() - 200].user_id;
    let last_member = all[all.len() - 1].user_id;

    let s = &store;
    let (lat, st, m) = time_calls(s, iters, || async move {
        s.get_membership(realm, big, last_member, false)
            .await
            .map_err(err)
    })
    .await?;
    let found = m.is_some();
    report(
        &label,
        "get_membership_member",
        lat,
        &format!(
            "big ({} members) x its last member: found={found}, {st} statement(s) per call",
            all.len()
        ),
        serde_json::json!({"statements": st, "found": found, "members": all.len()}),
    );
    let (lat, st, m) = time_calls(s, iters, || async move {
        s.get_membership(realm, big, multi, false)
            .await
            .map_err(err)
    })
    .await?;
    report(
        &label,
        "get_membership_non_member",
        lat,
        &format!(
            "big x a non-member: found={}, {st} statement(s) per call",
            m.is_some()
        ),
        serde_json::json!({"statements": st, "found": m.is_some()}),
    );

    for (metric, after) in [
        ("list_members_first_page", None),
        ("list_members_deep_page", Some(near_end)),
    ] {
        let (lat, st, page) = time_calls(s, iters, || async move {
            s.list_members(realm, big, None, after, 100)
                .await
                .map_err(err)
        })
        .await?;
        report(
            &label,
            metric,
            lat,
            &format!(
                "limit 100, {} rows, {st} statement(s){}",
                page.len(),
                if after.is_some() {
                    ", after = 200th member from the end"
                } else {
                    ""
                }
            ),
            serde_json::json!({"statements": st, "rows": page.len()}),
        );
    }

    // Organizations: first page and a page 200 aliases from the end (aliases sort as
    // big < org-000001 < …).
    let n_orgs = {
        let mut n = 0usize;
        let mut page = PageRequest {
            after: None,
            limit: 5000,
        };
        loop {
            let got = store
                .list_orgs(realm, None, None, &page)
                .await
                .map_err(err)?;
            n += got.len();
            match got.last() {
                Some(l) if got.len() as u64 == page.limit => {
                    page.after = Some(l.alias.as_str().to_owned())
                }
                _ => break n,
            }
        }
    };
    let deep_alias = org_alias(n_orgs.saturating_sub(201));
    for (metric, after) in [
        ("list_orgs_first_page", None),
        ("list_orgs_deep_page", Some(deep_alias.clone())),
    ] {
        let page = PageRequest { after, limit: 100 };
        let p = &page;
        let (lat, st, got) = time_calls(s, iters, || async move {
            s.list_orgs(realm, None, None, p).await.map_err(err)
        })
        .await?;
        report(
            &label,
            metric,
            lat,
            &format!(
                "{n_orgs} organizations, limit 100, {} rows, {st} statement(s){}",
                got.len(),
                page.after
                    .as_deref()
                    .map(|a| format!(", after = {a}"))
                    .unwrap_or_default()
            ),
            serde_json::json!({"statements": st, "rows": got.len(), "organizations": n_orgs}),
        );
    }

    let (lat, st, ms) = time_calls(s, iters.min(200), || async move {
        s.list_user_memberships(realm, multi, false)
            .await
            .map_err(err)
    })
    .await?;
    report(
        &label,
        "list_user_memberships_multi",
        lat,
        &format!(
            "what organization:* reads per token: {} memberships, {st} statement(s)",
            ms.len()
        ),
        serde_json::json!({"statements": st, "rows": ms.len()}),
    );
    store.close().await.map_err(|e| e.to_string())
}

// ---------- HTTP: browser login + refresh ----------

type Fail = String;

fn fail_status(what: &str, s: StatusCode) -> Fail {
    format!("{what}: HTTP {}", s.as_u16())
}

fn fail_io(what: &str, e: reqwest::Error) -> Fail {
    format!("{what}: {e}")
}

fn http_client() -> Res<Client> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

/// The cookies one simulated browser was given (name → value).
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

fn hidden_state(page: &str) -> Option<&str> {
    const MARK: &str = "name=\"state\" value=\"";
    let i = page.find(MARK)? + MARK.len();
    Some(&page[i..i + page[i..].find('"')?])
}

fn basic(id: &str, secret: &str) -> Res<HeaderValue> {
    // RFC 6749 §2.3.1: form-encode id and secret before Basic.
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    HeaderValue::from_str(&format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    ))
    .map_err(|e| e.to_string())
}

/// POSTs a token request; returns the JSON body.
async fn token(
    http: &Client,
    url: &str,
    auth: &HeaderValue,
    form: &[(&str, &str)],
    what: &str,
) -> Result<serde_json::Value, Fail> {
    let res = http
        .post(url)
        .header(AUTHORIZATION, auth.clone())
        .form(form)
        .send()
        .await
        .map_err(|e| fail_io(what, e))?;
    let status = res.status();
    let body = res.bytes().await.map_err(|e| fail_io(what, e))?;
    if status != StatusCode::OK {
        return Err(format!(
            "{}: {}",
            fail_status(what, status),
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|_| format!("{what}: not a JSON token response"))
}

/// The `organization` claim of a JWT access token: how many organizations it names.
fn org_count(access_token: &str) -> usize {
    let payload = access_token.split('.').nth(1).unwrap_or_default();
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload) else {
        return 0;
    };
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    match &claims["organization"] {
        serde_json::Value::Object(m) => m.len(),
        serde_json::Value::Array(a) => a.len(),
        _ => 0,
    }
}

async fn refresh(o: &Opts) -> Res<()> {
    let label = o.get("label", Some("refresh"))?;
    let base = o
        .get("base", Some("http://127.0.0.1:8080"))?
        .trim_end_matches('/')
        .to_owned();
    let realm = o.get("realm", None)?;
    let client_id = o.get("client-id", Some("app"))?;
    let auth = basic(&client_id, &o.get("client-secret", None)?)?;
    let username = o.get("username", None)?;
    let password = o.get("password", None)?;
    let scope = o.get("scope", Some("openid organization:*"))?;
    let redirect_uri = o.get("redirect-uri", Some("http://127.0.0.1:9999/cb"))?;
    let count = o.num("count", 300)?.max(1);
    let warmup = o.num("warmup", 20)?;
    let save_token = o.map.get("save-token").cloned();
    let proto = format!("{base}/realms/{realm}/protocol/openid-connect");
    let token_url = format!("{proto}/token");
    let http = http_client()?;

    // Sign in: authorization request → login page → credentials → 303 with the code.
    let mut b = Browser::default();
    let verifier = tessera_oidc::crypto::random_token();
    let challenge = URL_SAFE_NO_PAD.encode(tessera_oidc::crypto::sha256(verifier.as_bytes()));
    let state = tessera_oidc::crypto::random_id();
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", &scope)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", &state)
        .append_pair("nonce", &tessera_oidc::crypto::random_id())
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let res = http
        .get(format!("{proto}/auth?{qs}"))
        .send()
        .await
        .map_err(|e| fail_io("auth", e))?;
    b.keep(&res);
    if res.status() != StatusCode::OK {
        return Err(fail_status("auth", res.status()));
    }
    let page = res.text().await.map_err(|e| fail_io("auth body", e))?;
    let sealed = hidden_state(&page).ok_or("auth: no state field on the login page")?;
    let mut req = http
        .post(format!("{base}/realms/{realm}/login-actions/authenticate"))
        .form(&[
            ("state", sealed),
            ("username", &username),
            ("password", &password),
        ]);
    if let Some(c) = b.header() {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.map_err(|e| fail_io("login", e))?;
    if res.status() != StatusCode::SEE_OTHER {
        return Err(fail_status("login", res.status()));
    }
    let loc = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("login: 303 without Location")?;
    let query = loc.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some(e) = params.get("error") {
        return Err(format!("login: error={e} ({loc})"));
    }
    if params.get("state") != Some(&state) {
        return Err("login: state mismatch".into());
    }
    let code = params.get("code").ok_or("login: no code")?;
    let t = Instant::now();
    let first = token(
        &http,
        &token_url,
        &auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ],
        "exchange",
    )
    .await?;
    let exchange_took = t.elapsed();
    let granted = first["scope"].as_str().unwrap_or_default().to_owned();
    let mut rt = first["refresh_token"]
        .as_str()
        .ok_or("exchange: no refresh_token (does the scope include offline_access?)")?
        .to_owned();

    let mut lat = Vec::with_capacity(count);
    let (mut at_len, mut orgs, mut body_len) = (0usize, 0usize, 0usize);
    for i in 0..warmup + count {
        let t = Instant::now();
        let res = token(
            &http,
            &token_url,
            &auth,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
            "refresh",
        )
        .await?;
        let took = t.elapsed();
        rt = res["refresh_token"]
            .as_str()
            .ok_or("refresh: no refresh_token")?
            .to_owned();
        if i >= warmup {
            lat.push(took);
        }
        let at = res["access_token"].as_str().unwrap_or_default();
        at_len = at.len();
        orgs = org_count(at);
        body_len = res.to_string().len();
        if i + 1 == warmup + count
            && let Some(path) = &save_token
        {
            std::fs::write(path, at).map_err(|e| format!("{path}: {e}"))?;
        }
    }
    if o.header {
        header();
    }
    report(
        &label,
        "refresh",
        lat,
        &format!(
            "sequential, scope '{granted}': access token {at_len} bytes, {orgs} organizations in its claim, response {body_len} bytes; code exchange {:.1} ms",
            exchange_took.as_secs_f64() * 1000.0
        ),
        serde_json::json!({
            "access_token_bytes": at_len, "organizations_in_claim": orgs,
            "response_bytes": body_len, "granted_scope": granted,
            "exchange_ms": exchange_took.as_secs_f64() * 1000.0,
        }),
    );
    Ok(())
}

// ---------- HTTP: admin API pages ----------

async fn get_page(
    http: &Client,
    url: &str,
    bearer: &HeaderValue,
) -> Result<(Vec<serde_json::Value>, Option<String>), Fail> {
    let res = http
        .get(url)
        .header(AUTHORIZATION, bearer.clone())
        .send()
        .await
        .map_err(|e| fail_io(url, e))?;
    let status = res.status();
    let body = res.bytes().await.map_err(|e| fail_io(url, e))?;
    if status != StatusCode::OK {
        return Err(format!(
            "{}: {}",
            fail_status(url, status),
            String::from_utf8_lossy(&body)
        ));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| format!("{url}: not JSON"))?;
    let items = v["items"].as_array().cloned().unwrap_or_default();
    Ok((items, v["next"].as_str().map(str::to_owned)))
}

fn with_after(base: &str, limit: u32, after: Option<&str>) -> String {
    let mut s = format!("{base}?limit={limit}");
    if let Some(a) = after {
        s.push_str("&after=");
        s.extend(url::form_urlencoded::byte_serialize(a.as_bytes()));
    }
    s
}

/// Follows `next` from the first page to the end in pages of 500: every key, and the time.
async fn walk(
    http: &Client,
    base: &str,
    bearer: &HeaderValue,
    key: &str,
) -> Res<(Vec<String>, Duration, usize)> {
    let t = Instant::now();
    let (mut keys, mut after, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let (items, next) =
            get_page(http, &with_after(base, 500, after.as_deref()), bearer).await?;
        pages += 1;
        keys.extend(
            items
                .iter()
                .filter_map(|i| i[key].as_str().map(str::to_owned)),
        );
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok((keys, t.elapsed(), pages))
}

async fn pages(o: &Opts) -> Res<()> {
    let label = o.get("label", Some("pages"))?;
    let base = o
        .get("base", Some("http://127.0.0.1:8080"))?
        .trim_end_matches('/')
        .to_owned();
    let realm = o.get("realm", None)?;
    let org = o.get("org", Some("big"))?;
    let iters = o.num("iters", 50)?.max(1);
    let http = http_client()?;
    let admin_realm = o.get("admin-realm", Some("master"))?;
    let tok = token(
        &http,
        &format!("{base}/realms/{admin_realm}/protocol/openid-connect/token"),
        &basic(
            &o.get("admin-client-id", Some("bench-admin"))?,
            &o.get("admin-secret", None)?,
        )?,
        &[("grant_type", "client_credentials")],
        "admin token",
    )
    .await?;
    let bearer = HeaderValue::from_str(&format!(
        "Bearer {}",
        tok["access_token"].as_str().ok_or("admin token: none")?
    ))
    .map_err(|e| e.to_string())?;
    if o.header {
        header();
    }
    let members_url = format!("{base}/admin/realms/{realm}/organizations/{org}/members");
    let orgs_url = format!("{base}/admin/realms/{realm}/organizations");
    for (what, url, key) in [
        ("members", &members_url, "user_id"),
        ("organizations", &orgs_url, "alias"),
    ] {
        let (keys, took, n_pages) = walk(&http, url, &bearer, key).await?;
        report_once(
            &label,
            &format!("walk_all_{what}"),
            took,
            &format!(
                "{} {what} in {n_pages} pages of 500 (GET …?limit=500&after=next)",
                keys.len()
            ),
            serde_json::json!({"rows": keys.len(), "pages": n_pages}),
        );
        if keys.len() < 400 {
            return Err(format!("only {} {what}", keys.len()));
        }
        let deep = keys[keys.len() - 200].clone();
        for (which, after) in [("first", None), ("deep", Some(deep.as_str()))] {
            let u = with_after(url, 100, after);
            let mut lat = Vec::with_capacity(iters);
            let mut rows = 0;
            for i in 0..iters + 5 {
                let t = Instant::now();
                let (items, _) = get_page(&http, &u, &bearer).await?;
                if i >= 5 {
                    lat.push(t.elapsed());
                }
                rows = items.len();
            }
            report(
                &label,
                &format!("admin_{what}_{which}_page"),
                lat,
                &format!(
                    "GET …?limit=100{}: {rows} items, of {}",
                    after
                        .map(|a| format!("&after={a} (200 from the end)"))
                        .unwrap_or_default(),
                    keys.len()
                ),
                serde_json::json!({"rows": rows, "total": keys.len()}),
            );
        }
    }
    Ok(())
}

/// One GET with the browser's cookies; the body of a 200.
async fn browse(
    http: &Client,
    b: &mut Browser,
    url: &str,
) -> Result<(StatusCode, String, Option<String>), Fail> {
    let mut req = http.get(url);
    if let Some(c) = b.header() {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.map_err(|e| fail_io(url, e))?;
    b.keep(&res);
    let status = res.status();
    let to = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = res.text().await.map_err(|e| fail_io(url, e))?;
    Ok((status, body, to))
}

/// The `after` of a members page's "Next page" link.
fn next_after(page: &str) -> Option<String> {
    let i = page.find("after=")? + "after=".len();
    let end = page[i..].find('"')? + i;
    Some(page[i..end].to_owned())
}

async fn console(o: &Opts) -> Res<()> {
    let label = o.get("label", Some("console"))?;
    let base = o
        .get("base", Some("http://127.0.0.1:8080"))?
        .trim_end_matches('/')
        .to_owned();
    let realm = o.get("realm", None)?;
    let org = o.get("org", Some("big"))?;
    let username = o.get("username", Some("admin"))?;
    let password = o.get("password", None)?;
    let iters = o.num("iters", 200)?.max(1);
    let search = o.get("search", Some("m-4999"))?;
    let http = http_client()?;
    let mut b = Browser::default();

    // The console's own redirect to the realm's login, the form, the callback.
    let (s, _, to) = browse(&http, &mut b, &format!("{base}/admin/console/")).await?;
    let auth = to
        .filter(|_| s == StatusCode::FOUND)
        .ok_or("console: no sign-in redirect")?;
    let (s, page, _) = browse(&http, &mut b, &auth).await?;
    if s != StatusCode::OK {
        return Err(fail_status("login page", s));
    }
    let state = hidden_state(&page)
        .ok_or("login page: no state")?
        .to_owned();
    let mut req = http
        .post(format!("{base}/realms/master/login-actions/authenticate"))
        .form(&[
            ("state", state.as_str()),
            ("username", &username),
            ("password", &password),
        ]);
    if let Some(c) = b.header() {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.map_err(|e| fail_io("login", e))?;
    b.keep(&res);
    let callback = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|_| res.status() == StatusCode::SEE_OTHER)
        .ok_or_else(|| fail_status("login", res.status()))?
        .to_owned();
    let (s, _, _) = browse(&http, &mut b, &callback).await?;
    if s != StatusCode::OK || !b.cookies.iter().any(|(k, _)| k == "tessera_console") {
        return Err(fail_status("console callback", s));
    }

    let members = format!("{base}/admin/console/realms/{realm}/organizations/{org}/members");
    let render = |b: &Browser, url: String| {
        let mut req = http.get(url.clone());
        if let Some(c) = b.header() {
            req = req.header(COOKIE, c);
        }
        async move {
            let res = req.send().await.map_err(|e| fail_io(&url, e))?;
            let status = res.status();
            let body = res.text().await.map_err(|e| fail_io(&url, e))?;
            if status != StatusCode::OK {
                return Err(fail_status(&url, status));
            }
            Ok::<_, Fail>(body)
        }
    };
    // Walk to the end, keeping every page's cursor.
    let t = Instant::now();
    let (mut cursors, mut after) = (vec![None::<String>], None::<String>);
    loop {
        let url = match &after {
            Some(a) => format!("{members}?after={a}"),
            None => members.clone(),
        };
        match next_after(&render(&b, url).await?) {
            Some(n) => {
                cursors.push(Some(n.clone()));
                after = Some(n);
            }
            None => break,
        }
    }
    let walked = t.elapsed();
    report_once(
        &label,
        "members walk",
        walked,
        &format!("{} pages of 50", cursors.len()),
        serde_json::json!({ "pages": cursors.len() }),
    );
    let deep = cursors[cursors.len().saturating_sub(5)].clone();
    for (metric, url) in [
        ("members first page", members.clone()),
        (
            "members page 4 from the end",
            format!("{members}?after={}", deep.unwrap_or_default()),
        ),
        ("members search", format!("{members}?q={search}")),
    ] {
        let mut lat = Vec::with_capacity(iters);
        for i in 0..iters + 10 {
            let t = Instant::now();
            render(&b, url.clone()).await?;
            if i >= 10 {
                lat.push(t.elapsed());
            }
        }
        report(
            &label,
            metric,
            lat,
            "one page render, 10 untimed first",
            serde_json::json!({}),
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let o = match Opts::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(64);
        }
    };
    let r = match o.mode.as_str() {
        "seed" => seed(&o).await,
        "probe" => probe(&o).await,
        "refresh" => refresh(&o).await,
        "pages" => pages(&o).await,
        "console" => console(&o).await,
        m => Err(format!("unknown mode {m}\n{USAGE}")),
    };
    if let Err(e) = r {
        eprintln!("org_scale: {e}");
        std::process::exit(2);
    }
}
