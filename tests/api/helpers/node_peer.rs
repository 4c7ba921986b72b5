//! The certified upstream: [`NodePeer`] runs `../shared/peers/node-oidc-provider` (panva's
//! oidc-provider, see its README) on a free loopback port, and [`peer_login`] walks a browser
//! through its devInteractions login and consent pages.
//!
//! `../shared` is read-only and has no `node_modules`, so the peer is copied into
//! `CARGO_TARGET_TMPDIR` and `npm ci` runs there once (again only when its lock file changes).

use super::*;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The peer's client for Tessera (README: `client_secret_basic`).
pub const PEER_CLIENT: &str = "peer-client";
pub const PEER_SECRET: &str = "peer-secret";

const NO_NODE: &str = "install Node.js and npm (Debian: apt-get install nodejs npm)";

/// The variables of server.mjs, cleared so the test's environment cannot leak in.
const PEER_ENV: &[&str] = &[
    "HOST",
    "ISSUER",
    "TOKEN_EXCHANGE",
    "REDIRECT_URIS",
    "POST_LOGOUT_REDIRECT_URIS",
    "BACKCHANNEL_LOGOUT_URI",
    "CONFORM_ID_TOKEN_CLAIMS",
    "ACCOUNT_CLAIMS",
    "EMAIL_VERIFIED",
];

/// node-oidc-provider on a free port. Killed when dropped.
pub struct NodePeer {
    child: Child,
    base: String,
    log: tempfile::NamedTempFile,
}

impl NodePeer {
    /// Starts it with `env` (`REDIRECT_URIS`, `BACKCHANNEL_LOGOUT_URI`, `EMAIL_VERIFIED`, …;
    /// see its README) and waits until its discovery document answers.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let dir = installed_peer().await;
        let port = free_port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let out = log.reopen().unwrap();
        let mut cmd = Command::new("node");
        for var in PEER_ENV {
            cmd.env_remove(var);
        }
        let child = cmd
            .arg("server.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("QUIET", "1")
            .envs(env.iter().copied())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `node` ({e}): {NO_NODE}"));
        let mut peer = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let discovery = format!("{}/.well-known/openid-configuration", peer.base);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(exit) = peer.child.try_wait().unwrap() {
                panic!("node-oidc-provider exited ({exit}):\n{}", peer.log());
            }
            let res = reqwest::get(&discovery).await;
            if res.is_ok_and(|r| r.status() == StatusCode::OK) {
                return peer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("node-oidc-provider did not answer in 20 s:\n{}", peer.log());
    }

    /// Its issuer (and base URL).
    pub fn issuer(&self) -> String {
        self.base.clone()
    }

    /// What it printed so far (`backchannel.success`, `backchannel.error`, …).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The admin API body registering the peer as identity provider `alias`.
    pub fn registration(&self, alias: &str) -> Value {
        json!({
            "alias": alias,
            "issuer": self.issuer(),
            "client_id": PEER_CLIENT,
            "client_secret": PEER_SECRET,
        })
    }

    /// An RS256 JWT access token (RFC 9068, `aud: urn:peer:api`) of the peer's client, by
    /// `client_credentials`.
    pub async fn client_credentials(&self) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/token", self.base))
            .basic_auth(PEER_CLIENT, Some(PEER_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// An ID token of `login` for the peer's client (`aud: peer-client`), by a code flow at
    /// the peer with its registered redirect URI, as another application of the peer would
    /// get one. `scope` as asked (e.g. `openid email org`).
    pub async fn id_token(&self, app: &TestApp, login: &str, scope: &str) -> String {
        self.id_token_in(&mut Agent::default(), app, login, scope)
            .await
    }

    /// [`NodePeer::id_token`] in `agent`'s browser, whose session at the peer stays (to end
    /// it with [`NodePeer::end_session`]).
    pub async fn id_token_in(
        &self,
        agent: &mut Agent,
        app: &TestApp,
        login: &str,
        scope: &str,
    ) -> String {
        const VERIFIER: &str = "peer-verifier-0123456789-0123456789-0123456789";
        const REDIRECT: &str = "http://127.0.0.1:9999/cb";
        let challenge = {
            use base64::Engine;
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, VERIFIER.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
        };
        let mut authorize = url::Url::parse(&format!("{}/auth", self.base)).unwrap();
        authorize
            .query_pairs_mut()
            .append_pair("client_id", PEER_CLIENT)
            .append_pair("response_type", "code")
            .append_pair("scope", scope)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", "s")
            .append_pair("nonce", "n")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let back = peer_authorize(agent, app, authorize.as_str(), login).await;
        let back = url::Url::parse(&back).unwrap();
        let code = back
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no code from the peer: {back}"));
        let res = reqwest::Client::new()
            .post(format!("{}/token", self.base))
            .basic_auth(PEER_CLIENT, Some(PEER_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["id_token"].as_str().expect("an ID token").to_owned()
    }

    /// Ends the browser's session at the peer (RP-less `/session/end` and its confirmation
    /// form), which sends back-channel logout tokens to its clients that have a URI for them.
    pub async fn end_session(&self, agent: &mut Agent, app: &TestApp) {
        let page = agent.get(app, &format!("{}/session/end", self.base)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.unwrap();
        let xsrf = hidden(&page, "xsrf").expect("the sign-out confirmation form");
        let res = agent
            .post(
                app,
                &form_action(&page),
                &[("xsrf", &xsrf), ("logout", "yes")],
            )
            .await;
        assert!(res.status().is_redirection() || res.status().is_success());
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Walks `agent` from `authorize_url` (an authorization request to node-oidc-provider)
/// through the peer's pages as `login` (any password): the login form, the consent form, and
/// the peer's own redirects in between. Returns the first redirect that leaves the peer, to
/// the relying party's `redirect_uri` (`…?code=…&state=…&iss=…`, or an error).
pub async fn peer_authorize(
    agent: &mut Agent,
    app: &TestApp,
    authorize_url: &str,
    login: &str,
) -> String {
    let at = url::Url::parse(authorize_url).unwrap();
    let origin = at.origin().ascii_serialization();
    let mut res = agent.get(app, authorize_url).await;
    for _ in 0..10 {
        if res.status().is_redirection() {
            let to = at.join(&header(&res, "location").unwrap()).unwrap();
            if to.origin().ascii_serialization() != origin {
                return to.to_string();
            }
            res = agent.get(app, to.as_str()).await;
            continue;
        }
        let status = res.status();
        let page = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "node-oidc-provider: {page}");
        let mut form: Vec<(String, String)> = form_params(&page).into_iter().collect();
        if page.contains("name=\"login\"") {
            form.push(("login".into(), login.into()));
            form.push(("password".into(), "any password".into()));
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (&**k, &**v)).collect();
        let action = at.join(&form_action(&page)).unwrap();
        res = agent.post(app, action.as_str(), &form).await;
    }
    panic!("node-oidc-provider did not send the browser back after 10 steps");
}

/// [`peer_authorize`], then the redirect back followed: Tessera's answer at its broker
/// endpoint when `authorize_url` came from Tessera.
pub async fn peer_login(
    agent: &mut Agent,
    app: &TestApp,
    authorize_url: &str,
    login: &str,
) -> Response {
    let back = peer_authorize(agent, app, authorize_url, login).await;
    agent.get(app, &back).await
}

/// [`broker_login`] through the peer as `login`: the login page of `rp`, provider `alias`'s
/// button, the peer's pages, and Tessera's answer at its broker endpoint.
pub async fn peer_broker_login(
    app: &TestApp,
    agent: &mut Agent,
    rp: &Rp,
    alias: &str,
    login: &str,
) -> Response {
    let to_peer = press_provider(app, agent, rp, alias).await;
    assert_eq!(
        to_peer.status(),
        StatusCode::SEE_OTHER,
        "expected a 303 to the peer"
    );
    let url = header(&to_peer, "location").unwrap();
    peer_login(agent, app, &url, login).await
}

/// The peer's directory with its `node_modules`, installed once per process (and on disk
/// once per lock file).
async fn installed_peer() -> PathBuf {
    static DIR: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    DIR.get_or_init(|| installed_node_package("../shared/peers/node-oidc-provider", "server.mjs"))
        .await
        .clone()
}

/// A Node.js package of the project or of `../shared` (`rel`, from the project root), with
/// its script `main`, copied into `CARGO_TARGET_TMPDIR` and `npm ci`-installed there (again
/// only when its lock file changes): the sources stay free of `node_modules`.
pub async fn installed_node_package(rel: &'static str, main: &'static str) -> PathBuf {
    match tokio::task::spawn_blocking(move || install_node_package(rel, main))
        .await
        .unwrap()
    {
        Ok(dir) => dir,
        Err(why) => panic!("{rel} cannot run: {why}"),
    }
}

fn install_node_package(rel: &str, main: &str) -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let name = src.file_name().unwrap_or_default().to_owned();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for file in [main, "package.json", "package-lock.json"] {
        let text = std::fs::read(src.join(file))
            .map_err(|e| format!("{}: {e}", src.join(file).display()))?;
        if std::fs::read(dir.join(file)).ok().as_ref() != Some(&text) {
            std::fs::write(dir.join(file), &text).map_err(|e| e.to_string())?;
        }
    }
    // The lock file the present node_modules was installed from.
    let marker = dir.join("node_modules/.tessera-installed-from");
    let lock = std::fs::read(dir.join("package-lock.json")).map_err(|e| e.to_string())?;
    if std::fs::read(&marker).ok() == Some(lock.clone()) {
        return Ok(dir);
    }
    for tool in ["node", "npm"] {
        let found = Command::new(tool).arg("--version").output();
        if !found.is_ok_and(|o| o.status.success()) {
            return Err(format!("`{tool}` is not on PATH; {NO_NODE}"));
        }
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "npm ci in {} failed:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(&marker, lock).map_err(|e| e.to_string())?;
    Ok(dir)
}
