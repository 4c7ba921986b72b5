//! A real browser for the tests: [`Chrome`] drives Debian's headless `chromium` through its
//! `chromedriver` (one driver per test, on a free port) with fantoccini: open a page, fill
//! and submit its forms, run axe-core in it ([`Chrome::axe`]), and take screenshots at
//! 1280 and 390 px when `TESSERA_SCREENSHOTS=<dir>` is set ([`Chrome::screenshots`]).
//!
//! Scripts run through WebDriver (`execute`), which Chromium evaluates over the DevTools
//! protocol: the page's Content-Security-Policy (`script-src 'self'`, no inline script)
//! does not apply to them, so axe is injected into the very pages people get.
//! [`Chrome::axe`] proves it on every call: it fails if axe did not load.
//!
//! Also here: [`https_page`] and [`https_file`], a loopback https server with a
//! self-signed certificate the browser is told to accept.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const NO_CHROME: &str = "install Debian's chromium and chromium-driver";

/// Chromium, if installed (Debian's `chromium`).
pub fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Whether the browser tests can run here; they say SKIPPED and pass when not.
pub fn chrome_available() -> bool {
    let ok = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !ok {
        eprintln!("SKIPPED: no browser: {NO_CHROME}");
    }
    ok
}

/// An accessibility problem axe found: its rule, how bad, and where.
#[derive(Debug)]
pub struct Violation {
    pub rule: String,
    pub impact: String,
    pub help: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

/// Headless Chromium and its own chromedriver; both end when this is dropped.
pub struct Chrome {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Chrome {
    /// Starts chromedriver on a free port and a headless Chromium session through it.
    /// `args` are extra Chromium switches (e.g. `--host-resolver-rules=…`).
    pub async fn start(args: &[&str]) -> Self {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER} ({e}): {NO_CHROME}"));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{url}/status")).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut switches = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--ignore-certificate-errors".into(),
            "--hide-scrollbars".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        switches.extend(args.iter().map(|a| a.to_string()));
        let caps = json!({
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": { "binary": CHROMIUM, "args": switches },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a Chromium session");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Opens `url` and waits for it to load.
    pub async fn open(&self, url: &str) {
        self.mark().await;
        self.client.goto(url).await.unwrap();
        self.wait_for_new_document(url).await;
    }

    /// Leaves a mark in the current document, so that a new one is known by its absence
    /// (WebDriver may answer a navigation before the next page has replaced this one).
    async fn mark(&self) {
        // A browser on `about:blank` or an error page has nothing to mark; fine.
        let _ = self
            .client
            .execute("window.__tesseraOld = true;", vec![])
            .await;
    }

    /// Waits until the marked document is gone and its successor has loaded.
    async fn wait_for_new_document(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__tesseraOld === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            assert!(Instant::now() < deadline, "{what} did not load");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's HTML as the browser has it now.
    pub async fn html(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// The current address.
    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Types `value` into the field named `name`.
    pub async fn fill(&self, name: &str, value: &str) {
        self.fill_in(&format!("[name=\"{name}\"]"), value).await
    }

    /// Types `value` into the field `css` finds (where two forms share a field name).
    pub async fn fill_in(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks what `css` finds (a checkbox) without waiting for a new page.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Clicks `css` (a submit button, or a link) and waits until the browser has loaded
    /// the answer (a new document: the mark left in this one is gone).
    pub async fn submit(&self, css: &str) {
        self.mark().await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
        self.wait_for_new_document(css).await;
    }

    /// Whether the page's CSP refuses an inline script, as it must on our pages: what
    /// shows that [`Chrome::axe`] runs under the real policy, not around a missing one.
    pub async fn inline_script_blocked(&self) -> bool {
        let script = "const s = document.createElement('script');            s.textContent = 'window.__tesseraInline = 1;';            document.head.appendChild(s);            return window.__tesseraInline === undefined;";
        self.client.execute(script, vec![]).await.unwrap() == Value::Bool(true)
    }

    /// Runs axe-core in the page and returns its serious and critical violations.
    pub async fn axe(&self) -> Vec<Violation> {
        let source = axe_source().await;
        let loaded = self
            .client
            .execute(&format!("{source}\n;return typeof axe;"), vec![])
            .await
            .unwrap();
        assert_eq!(loaded, "object", "axe did not load into the page");
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, { resultTypes: ['violations'] })\
              .then((r) => done(JSON.stringify(r.violations)))\
              .catch((e) => done(JSON.stringify({ error: String(e) })));";
        let out = self.client.execute_async(script, vec![]).await.unwrap();
        let found: Value = serde_json::from_str(out.as_str().unwrap()).unwrap();
        assert!(found.get("error").is_none(), "axe failed: {found}");
        found
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| Violation {
                rule: s(v, "id"),
                impact: s(v, "impact"),
                help: s(v, "help"),
                targets: v["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["target"].to_string())
                    .collect(),
            })
            .collect()
    }

    /// With `TESSERA_SCREENSHOTS=<dir>`: the page at 1280 and at 390 px wide, as
    /// `<dir>/<name>-1280.png` and `<dir>/<name>-390.png`. Without it, nothing.
    pub async fn screenshots(&self, name: &str) {
        let Some(dir) = std::env::var_os("TESSERA_SCREENSHOTS").filter(|d| !d.is_empty()) else {
            return;
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (width, height) in [(1280, 900), (390, 844)] {
            self.client.set_window_size(width, height).await.unwrap();
            // The whole page: as tall as its content at this width.
            let tall = self
                .client
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await
                .unwrap()
                .as_u64()
                .map_or(height, |h| (h as u32).clamp(height, 4000));
            // The window's frame takes some of it: grow until the viewport holds it all.
            let chrome_frame = height
                - self
                    .client
                    .execute("return window.innerHeight;", vec![])
                    .await
                    .unwrap()
                    .as_u64()
                    .map_or(0, |h| (h as u32).min(height));
            self.client
                .set_window_size(width, tall + chrome_frame)
                .await
                .unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    /// [`Chrome::axe`] and [`Chrome::screenshots`] of the page at hand; panics with every
    /// serious or critical violation.
    pub async fn check_page(&self, name: &str) {
        self.screenshots(name).await;
        let found: Vec<String> = self
            .axe()
            .await
            .iter()
            .map(|v| {
                format!(
                    "{} ({}): {} at {}",
                    v.rule,
                    v.impact,
                    v.help,
                    v.targets.join(" ")
                )
            })
            .collect();
        assert!(
            found.is_empty(),
            "{name} ({}): accessibility violations:\n{}",
            self.url().await,
            found.join("\n")
        );
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // The session goes with its driver; Chromium exits when chromedriver does.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// axe.min.js of the `axe-core` package pinned in `tests/browser`, installed on first use.
async fn axe_source() -> &'static str {
    static SRC: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    SRC.get_or_init(|| async {
        let dir = installed_node_package("tests/browser", "README.md").await;
        std::fs::read_to_string(dir.join("node_modules/axe-core/axe.min.js")).unwrap()
    })
    .await
}

const PAGE_CERT: &str = include_str!("page_tls/cert.pem");
const PAGE_KEY: &str = include_str!("page_tls/key.pem");

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// Serves `page` over https at `/` on a loopback port ([`https_file`]).
pub async fn https_page(page: String) -> u16 {
    https_file("text/html; charset=utf-8", page.into_bytes()).await
}

/// Serves `body` as `content_type` over https at `/` on a loopback port (any host name, a
/// self-signed certificate the browser is told to accept).
pub async fn https_file(content_type: &'static str, body: Vec<u8>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let cert = rustls::pki_types::CertificateDer::from(pem_der(PAGE_CERT));
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(pem_der(PAGE_KEY).into());
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = std::sync::Arc::new(body);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let found = req.starts_with(b"GET / ");
                let body: &[u8] = if found { &body } else { b"" };
                let head = format!(
                    "HTTP/1.1 {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    if found { "200 OK" } else { "404 Not Found" },
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}
