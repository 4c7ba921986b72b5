//! The shared test harness: [`spawn_app`] starts the real server on a random port as a
//! [`TestApp`]; next to it, the admin-API fixtures and response assertions that many test
//! files use. The browser kit ([`Agent`], HTML scraping, page checks) is in `browser.rs`, the
//! relying-party kit ([`Rp`], the PKCE constants) in `rp.rs`; the federation kit (Tessera as a
//! broker in `broker.rs`, its upstreams [`FakeIdp`] in `upstream.rs` and [`NodePeer`] in
//! `node_peer.rs`) beside them. All are re-exported here so that `use crate::helpers::*;` is
//! the one import a test file needs and each helper exists once.

mod broker;
mod browser;
mod chrome;
mod console;
mod device;
mod dns;
mod json_server;
mod node_peer;
mod rp;
pub mod smtp;
mod upstream;

pub use broker::*;
pub use browser::*;
pub use chrome::*;
pub use console::*;
pub use device::*;
pub use dns::*;
pub use json_server::*;
pub use node_peer::*;
pub use rp::*;
pub use upstream::*;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use tessera::config::Settings;
use tessera::startup::Application;
use tessera_domain::FixedClock;
use tessera_oidc::Provider;

/// The configured public URL: deliberately not the address the tests connect to, so
/// every issuer assertion also shows the issuer never comes from `Host` (ISO-7).
pub const PUBLIC_URL: &str = "https://id.tessera.test";

pub struct TestApp {
    /// Where the server listens, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// Where `/metrics` is served (a listener of its own).
    pub metrics_base: String,
    pub http: Client,
    pub admin_secret: String,
    pub demo_secret: String,
    /// Everything seeded at first start, by name (`demo-app`, user `demo`, …).
    pub seeded: Vec<tessera_oidc::admin::seed::Seeded>,
    pub provider: Arc<Provider>,
    /// The server's clock, starting at the real time; tests move it forward.
    pub clock: Arc<FixedClock>,
    /// What the server was started with (its data directory and database).
    pub settings: Settings,
    /// The database and master key, which a replica ([`spawn_replica`]) shares.
    database_url: String,
    master_key: String,
    _dir: tempfile::TempDir,
}

/// The `tessera` binary, without logging or configuration taken from the environment.
pub fn tessera_cmd() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
    for var in [
        "TESSERA_LOG",
        "RUST_LOG",
        "TESSERA_LOG_FORMAT",
        "TESSERA_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A fresh PostgreSQL database when the suite runs on PostgreSQL; `None` on SQLite.
pub async fn database_url() -> Option<String> {
    let admin = std::env::var("TESSERA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    // The databases earlier runs left (about 9 MiB each) go; a run in progress elsewhere
    // on the same server keeps its own.
    SWEPT
        .get_or_init(|| async {
            let _ = tessera_storage::drop_stale_test_databases(&admin, 3600).await;
        })
        .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let name = format!("tessera_t_{now}_{}", uuid::Uuid::new_v4().simple());
    tessera_storage::create_postgres_database(&admin, &name)
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&admin).expect("TESSERA_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

pub async fn spawn_app() -> TestApp {
    spawn(database_url().await, None).await
}

/// A second server on `first`'s database with its master key, as a replica behind a load
/// balancer: its own process state (caches, clock, jobs) and the database in common. It
/// seeds nothing (the database is not empty), so it carries `first`'s seeded secrets.
pub async fn spawn_replica(first: &TestApp) -> TestApp {
    let mut app = spawn(
        Some(first.database_url.clone()),
        Some(first.master_key.clone()),
    )
    .await;
    app.seeded = first.seeded.clone();
    app.admin_secret = first.admin_secret.clone();
    app.demo_secret = first.demo_secret.clone();
    app
}

/// A server on `database_url` (default: SQLite in its own directory) with `master_key`
/// (default: generated in its directory).
pub async fn spawn(database_url: Option<String>, master_key: Option<String>) -> TestApp {
    spawn_configured(database_url, master_key, |_| {}).await
}

/// [`spawn`] with settings changed by `configure` first.
pub async fn spawn_configured(
    database_url: Option<String>,
    master_key: Option<String>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        public_url: PUBLIC_URL.into(),
        data_dir: dir.path().to_path_buf(),
        database_url,
        master_key,
        workers: Some(2),
        db_max_connections: 5,
        metrics_listen: "127.0.0.1:0".into(),
        trusted_proxies: Vec::new(),
        // The back-channel receivers and upstreams of the tests listen on loopback.
        outbound_allow_private: true,
        outbound_ca_file: None,
        dns_server: None,
    };
    configure(&mut settings);
    let clock = Arc::new(FixedClock::new(unix_now()));
    let app = Application::build_with_clock(&settings, clock.clone())
        .await
        .expect("application starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics_base = format!("http://127.0.0.1:{}", app.metrics_port());
    let secret = |realm: &str| {
        app.seeded
            .iter()
            .find(|c| c.realm == realm && c.kind == tessera_oidc::admin::seed::SeededKind::Client)
            .map(|c| c.secret.clone())
            .unwrap_or_default()
    };
    let master_key = match &settings.master_key {
        Some(k) => k.clone(),
        None => std::fs::read_to_string(dir.path().join("master.key")).unwrap(),
    };
    let (admin_secret, demo_secret) = (secret("master"), secret("demo"));
    let seeded = app.seeded.clone();
    let provider = app.provider.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        metrics_base,
        http: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        admin_secret,
        demo_secret,
        seeded,
        provider,
        clock,
        database_url: settings.database_url(),
        master_key,
        settings,
        _dir: dir,
    }
}

/// The wall clock in seconds since the epoch (where a test server's clock starts).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn issuer(realm: &str) -> String {
    format!("{PUBLIC_URL}/realms/{realm}")
}

/// Decodes a JWT's header and payload without verifying (tests verify through the server).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let mut part =
        || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (part(), part())
}

/// A JWT's payload, unverified.
pub fn claims(token: &str) -> Value {
    jwt_parts(token).1
}

/// A free loopback port (bound, then released for a child process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tessera serve` as a process of its own, on free loopback ports, answering: for what only
/// the binary shows (its log lines, its signals). Killed when dropped.
pub struct ServeProcess {
    pub child: std::process::Child,
    pub port: u16,
    pub base: String,
    pub metrics_base: String,
    dir: tempfile::TempDir,
}

impl ServeProcess {
    /// Starts it with `global` flags before `serve`; stderr goes to its log.
    pub async fn start(global: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (port, metrics_port) = (free_port(), free_port());
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let child = tessera_cmd()
            .arg("--data-dir")
            .arg(dir.path())
            .args(global)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
            .args(["--public-url", &base])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let p = Self {
            child,
            port,
            base,
            metrics_base: format!("http://127.0.0.1:{metrics_port}"),
            dir,
        };
        let http = Client::new();
        for _ in 0..100 {
            let ready = http.get(format!("{}/health/ready", p.base)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return p;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the server did not start:\n{}", p.log());
    }

    /// What it wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap()
    }

    /// Stops it (SIGKILL) and waits.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl TestApp {
    /// The realm's discovery document, as a relying party asks for it.
    pub async fn discovery(&self, realm: &str) -> Response {
        self.http
            .get(self.url(&format!("/realms/{realm}/.well-known/openid-configuration")))
            .send()
            .await
            .unwrap()
    }

    /// Runs a CLI command on this server's database, as an operator beside it would.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_command(args).output().unwrap()
    }

    /// [`TestApp::cli`] with `stdin` as its standard input (a secret, a password).
    pub fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = self
            .cli_command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn cli_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = tessera_cmd();
        cmd.arg("--data-dir")
            .arg(&self.settings.data_dir)
            .args(["--public-url", PUBLIC_URL]);
        if let Some(u) = &self.settings.database_url {
            cmd.args(["--database-url", u]);
        }
        if let Some(k) = &self.settings.master_key {
            cmd.env("TESSERA_MASTER_KEY", k);
        }
        // The operator beside the server runs with the server's outbound rules.
        if self.settings.outbound_allow_private {
            cmd.env("TESSERA_OUTBOUND_ALLOW_PRIVATE", "true");
        }
        cmd.args(args);
        cmd
    }

    /// The secret or password seeded under `name`.
    pub fn seeded(&self, name: &str) -> String {
        self.seeded
            .iter()
            .find(|s| s.name == name)
            .expect("seeded")
            .secret
            .clone()
    }

    /// The Prometheus text from the metrics listener.
    pub async fn metrics(&self) -> String {
        let res = self
            .http
            .get(format!("{}/metrics", self.metrics_base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A realm's OpenID Provider metadata.
    pub async fn discovery_document(&self, realm: &str) -> Value {
        let url = self.url(&format!("/realms/{realm}/.well-known/openid-configuration"));
        ok_json(self.http.get(url).send().await.unwrap(), StatusCode::OK).await
    }

    pub fn endpoint(&self, realm: &str, ep: &str) -> String {
        self.url(&format!("/realms/{realm}/protocol/openid-connect/{ep}"))
    }

    /// POSTs a form to a realm endpoint with `client_secret_basic`.
    pub async fn post_basic(
        &self,
        realm: &str,
        ep: &str,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> Response {
        self.http
            .post(self.endpoint(realm, ep))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// POSTs a raw body with the form content type.
    pub async fn post_raw(
        &self,
        realm: &str,
        ep: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.http
            .post(self.endpoint(realm, ep))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn client_credentials(&self, realm: &str, id: &str, secret: &str) -> Value {
        let res = self
            .post_basic(
                realm,
                "token",
                id,
                secret,
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "token request failed");
        res.json().await.unwrap()
    }

    /// The access token of a successful `client_credentials` request.
    async fn access_token(&self, realm: &str, id: &str, secret: &str) -> String {
        s(
            &self.client_credentials(realm, id, secret).await,
            "access_token",
        )
    }

    pub async fn demo_token(&self) -> String {
        self.access_token("demo", "demo-service", &self.demo_secret)
            .await
    }

    pub async fn admin_token(&self) -> String {
        self.access_token("master", "tessera-admin", &self.admin_secret)
            .await
    }

    pub async fn introspect(&self, realm: &str, id: &str, secret: &str, token: &str) -> Value {
        let res = self
            .post_basic(realm, "token/introspect", id, secret, &[("token", token)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
        res.json().await.unwrap()
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let token = self.admin_token().await;
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// An admin API call that must succeed: its JSON body (`null` when empty).
    pub async fn admin_ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let res = self.admin(method, path, body).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Creates a realm through the admin API.
    pub async fn create_realm(&self, name: &str, alg: &str) {
        let res = self
            .admin(
                Method::POST,
                "/admin/realms",
                Some(json!({ "name": name, "access_token_alg": alg })),
            )
            .await;
        expect_status(res, StatusCode::CREATED).await;
    }

    /// Creates a client through the admin API; returns (admin id, generated secret).
    pub async fn create_client(&self, realm: &str, body: Value) -> (String, Option<String>) {
        let res = self
            .admin(
                Method::POST,
                &format!("/admin/realms/{realm}/clients"),
                Some(body),
            )
            .await;
        let v = ok_json(res, StatusCode::CREATED).await;
        (
            v["id"].as_str().unwrap().to_owned(),
            v["secret"].as_str().map(str::to_owned),
        )
    }
}

/// Creates a user with a password through the admin API; returns its id (the `sub`).
pub async fn add_user(app: &TestApp, realm: &str, username: &str, password: &str) -> String {
    let res = app
        .admin(
            Method::POST,
            &format!("/admin/realms/{realm}/users"),
            Some(json!({
                "username": username,
                "email": format!("{username}@{realm}.example"),
                "email_verified": true,
                "password": password,
            })),
        )
        .await;
    s(&ok_json(res, StatusCode::CREATED).await, "id")
}

/// Organization `acme` ("Acme") in `realm` with `user` holding the role template `admin`
/// (every realm has it): the organization's administrator.
pub async fn acme_administered_by(app: &TestApp, realm: &str, user: &str) {
    app.admin_ok(
        Method::POST,
        &format!("/admin/realms/{realm}/organizations"),
        Some(json!({ "alias": "acme", "name": "Acme" })),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("/admin/realms/{realm}/organizations/acme/members"),
        Some(json!({ "user_id": user, "roles": ["admin"] })),
    )
    .await;
}

/// `user`'s access token for the admin API in `realm`: they sign in (consenting) to a new
/// admin-console client `console` with `openid tessera:admin`. What the API accepts from an
/// organization's administrator.
pub async fn console_token(app: &TestApp, realm: &str, user: &str) -> String {
    let (_, secret) = app
        .create_client(
            realm,
            json!({
                "client_id": "console",
                "grant_types": ["authorization_code"],
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "profile", "email"],
                // Its users may grant it `tessera:admin`.
                "admin_console": true,
            }),
        )
        .await;
    let mut rp = Rp::new(realm, "console", secret.as_deref(), REDIRECT);
    rp.scope = "openid tessera:admin".into();
    let mut agent = Agent::default();
    let cb = rp.login_consenting(app, &mut agent, user, PW, &[]).await;
    s(&rp.tokens(app, &cb["code"]).await, "access_token")
}

/// A password for the users the tests add with [`add_user`].
pub const PW: &str = "correct horse battery";

/// Cheap Argon2id costs for realms the tests create; the server default stays OWASP's.
pub const FAST_HASH: &str = r#"{"m_cost":128,"t_cost":1,"p_cost":1}"#;

/// A realm hashing passwords with [`FAST_HASH`]; returns the realm as created.
pub async fn fast_realm(app: &TestApp, name: &str) -> Value {
    let params: Value = serde_json::from_str(FAST_HASH).unwrap();
    let res = app
        .admin(
            Method::POST,
            "/admin/realms",
            Some(json!({ "name": name, "password_params": params })),
        )
        .await;
    let realm = ok_json(res, StatusCode::CREATED).await;
    assert_eq!(realm["password_params"], params);
    realm
}

/// Updates a realm through the admin API.
pub async fn set_realm(app: &TestApp, realm: &str, body: Value) {
    let res = app
        .admin(Method::PUT, &format!("/admin/realms/{realm}"), Some(body))
        .await;
    expect_status(res, StatusCode::OK).await;
}

/// Asserts the status, with the body as the message; returns the body.
pub async fn expect_status(res: Response, status: StatusCode) -> String {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    text
}

/// [`expect_status`], and the body is JSON.
pub async fn ok_json(res: Response, status: StatusCode) -> Value {
    serde_json::from_str(&expect_status(res, status).await).unwrap()
}

/// The string member `k` of `v`.
pub fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_owned()
}

pub fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

pub fn assert_no_store(res: &Response) {
    let cc = header(res, "cache-control").unwrap_or_default();
    assert!(cc.contains("no-store"), "Cache-Control was {cc:?}");
}

/// Asserts an RFC 6749 error response: status, JSON `error`, no-store. Returns the body.
pub async fn assert_oauth_error(res: Response, status: u16, error: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    assert_no_store(&res);
    let ct = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], error, "body {body}");
    assert_description_charset(body["error_description"].as_str().unwrap_or_default());
    body
}

/// RFC 6749 §5.2 `error_description` characters, and never CR, LF, TAB, `"` or `\`.
pub fn assert_description_charset(desc: &str) {
    assert!(
        desc.bytes().all(|b| b == b' '
            || b == b'!'
            || (0x23..=0x5b).contains(&b)
            || (0x5d..=0x7e).contains(&b)),
        "error_description {desc:?}"
    );
}
