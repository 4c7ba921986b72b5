//! The relying-party kit: [`Rp`], a client as a relying party sees it (authorization URL,
//! login through an [`Agent`], callback, token requests), the PKCE constants, and what an RP
//! checks on the answers it gets.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

/// demo-app's registered (loopback) redirect URI.
pub const REDIRECT: &str = "http://127.0.0.1:9999/cb";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2); checked against Appendix B in pkce.rs.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(tessera_oidc::crypto::sha256(verifier.as_bytes()))
}

/// A fresh 43-character verifier of unreserved characters.
pub fn new_verifier() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        &uuid::Uuid::new_v4().simple().to_string()[..11]
    )
}

/// An authorization error delivered to the client: `error`, no `code`, `iss`, `state` echoed.
pub fn assert_authz_error(
    cb: &HashMap<String, String>,
    error: &str,
    realm: &str,
    state: Option<&str>,
) {
    assert_eq!(cb.get("error").map(String::as_str), Some(error), "{cb:?}");
    assert!(!cb.contains_key("code"), "{cb:?}");
    assert_eq!(cb.get("iss"), Some(&issuer(realm)), "RFC 9207 iss: {cb:?}");
    assert_eq!(cb.get("state").map(String::as_str), state, "{cb:?}");
    if let Some(d) = cb.get("error_description") {
        assert_description_charset(d);
    }
}

/// A client in a realm as a relying party sees it.
#[derive(Clone)]
pub struct Rp {
    pub realm: String,
    pub client_id: String,
    /// `None`: a public client (client_id in the form, no secret).
    pub secret: Option<String>,
    pub redirect: String,
    pub scope: String,
}

impl Rp {
    /// The seeded confidential `demo-app` with `openid profile email` (no `offline_access`).
    pub fn demo_app(app: &TestApp) -> Self {
        Self {
            realm: "demo".into(),
            client_id: "demo-app".into(),
            secret: Some(app.seeded("demo-app")),
            redirect: REDIRECT.into(),
            scope: "openid profile email".into(),
        }
    }

    /// The access token `demo-app` gets for the seeded user `demo` (a browser login with
    /// consent, then the code exchange).
    pub async fn demo_user_access_token(app: &TestApp) -> String {
        let rp = Self::demo_app(app);
        let mut agent = Agent::default();
        let cb = rp
            .login_consenting(app, &mut agent, "demo", &app.seeded("demo"), &[])
            .await;
        s(&rp.tokens(app, &cb["code"]).await, "access_token")
    }

    /// [`Rp::demo_app`] asking for `offline_access` too, so a refresh token comes with the code.
    pub fn demo_app_offline(app: &TestApp) -> Self {
        Self {
            scope: "openid profile email offline_access".into(),
            ..Self::demo_app(app)
        }
    }

    pub fn new(realm: &str, client_id: &str, secret: Option<&str>, redirect: &str) -> Self {
        Self {
            realm: realm.into(),
            client_id: client_id.into(),
            secret: secret.map(str::to_owned),
            redirect: redirect.into(),
            scope: "openid profile email".into(),
        }
    }

    /// An authorization URL: defaults (code flow, PKCE with [`CHALLENGE`], state `st-1`,
    /// nonce `n-1`), overridden by `extra`; an empty value removes the parameter, and a
    /// name given twice in `extra` is sent twice.
    pub fn auth_url(&self, app: &TestApp, extra: &[(&str, &str)]) -> String {
        let mut q: Vec<(&str, &str)> = vec![
            ("client_id", &self.client_id),
            ("response_type", "code"),
            ("scope", &self.scope),
            ("redirect_uri", &self.redirect),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, _) in extra {
            q.retain(|(n, _)| n != k);
        }
        q.extend(extra.iter().filter(|(_, v)| !v.is_empty()).copied());
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish();
        format!("{}?{qs}", app.endpoint(&self.realm, "auth"))
    }

    pub fn login_action(&self, app: &TestApp) -> String {
        app.url(&format!(
            "/realms/{}/login-actions/authenticate",
            self.realm
        ))
    }

    pub fn consent_action(&self, app: &TestApp) -> String {
        app.url(&format!("/realms/{}/login-actions/consent", self.realm))
    }

    /// The parameters of a 303 back to exactly this client's redirect URI.
    pub fn callback(&self, res: &Response) -> HashMap<String, String> {
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "expected a 303 to the client"
        );
        assert_no_store(res);
        let loc = header(res, "location").unwrap();
        let (target, query) = loc.split_once('?').expect("query");
        assert_eq!(target, self.redirect, "{loc}");
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    /// Opens the login page of `url` (200, unframeable) and returns its sealed state.
    pub async fn login_page(&self, app: &TestApp, agent: &mut Agent, url: &str) -> String {
        let page = agent.get(app, url).await;
        assert_eq!(page.status(), StatusCode::OK, "expected the login page");
        assert_unframeable(&page, "login page");
        let body = page.text().await.unwrap();
        assert!(body.contains("name=\"password\""), "not a login page");
        hidden(&body, "state").expect("sealed state")
    }

    /// Submits the login form.
    pub async fn submit_login(
        &self,
        app: &TestApp,
        agent: &mut Agent,
        state: &str,
        user: &str,
        password: &str,
    ) -> Response {
        agent
            .post(
                app,
                &self.login_action(app),
                &[("state", state), ("username", user), ("password", password)],
            )
            .await
    }

    /// Login page, then the login form: the raw answer to the form.
    pub async fn sign_in(
        &self,
        app: &TestApp,
        agent: &mut Agent,
        user: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> Response {
        let state = self
            .login_page(app, agent, &self.auth_url(app, extra))
            .await;
        self.submit_login(app, agent, &state, user, password).await
    }

    /// Signs `user` in and returns the callback parameters.
    pub async fn login(
        &self,
        app: &TestApp,
        agent: &mut Agent,
        user: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> HashMap<String, String> {
        let res = self.sign_in(app, agent, user, password, extra).await;
        self.callback(&res)
    }

    /// Signs `user` in, allowing the consent page when one is shown: the callback parameters.
    pub async fn login_consenting(
        &self,
        app: &TestApp,
        agent: &mut Agent,
        user: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> HashMap<String, String> {
        let res = self.sign_in(app, agent, user, password, extra).await;
        let res = if res.status() == StatusCode::OK {
            let page = res.text().await.unwrap();
            let state = hidden(&page, "state").expect("a consent page");
            agent
                .post(
                    app,
                    &self.consent_action(app),
                    &[("state", &state), ("decision", "allow")],
                )
                .await
        } else {
            res
        };
        self.callback(&res)
    }

    /// The seeded `demo` user signs in.
    pub async fn login_demo(
        &self,
        app: &TestApp,
        agent: &mut Agent,
        extra: &[(&str, &str)],
    ) -> HashMap<String, String> {
        self.login(app, agent, "demo", &app.seeded("demo"), extra)
            .await
    }

    /// A token request authenticated as this client (Basic, or client_id for public ones).
    pub async fn token(&self, app: &TestApp, form: &[(&str, &str)]) -> Response {
        let req = app.http.post(app.endpoint(&self.realm, "token"));
        match &self.secret {
            Some(s) => req.basic_auth(&self.client_id, Some(s)).form(form),
            None => {
                let mut f = form.to_vec();
                f.push(("client_id", &self.client_id));
                req.form(&f)
            }
        }
        .send()
        .await
        .unwrap()
    }

    pub async fn redeem_with(&self, app: &TestApp, code: &str, verifier: &str) -> Response {
        self.token(
            app,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    /// Redeems with [`VERIFIER`] and asserts success.
    pub async fn tokens(&self, app: &TestApp, code: &str) -> Value {
        let res = self.redeem_with(app, code, VERIFIER).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
        assert_no_store(&res);
        res.json().await.unwrap()
    }

    pub async fn refresh(&self, app: &TestApp, rt: &str, scope: Option<&str>) -> Response {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.token(app, &form).await
    }
}

/// A userinfo GET with `at` as the bearer token.
pub async fn userinfo(app: &TestApp, realm: &str, at: &str) -> Response {
    app.http
        .get(app.endpoint(realm, "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
}

/// 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3).
pub async fn assert_invalid_token(res: Response) {
    let www = header(&res, "www-authenticate").unwrap_or_default();
    assert_oauth_error(res, 401, "invalid_token").await;
    assert!(
        www.starts_with("Bearer") && www.contains("error=\"invalid_token\""),
        "{www}"
    );
}

/// A browser client in `demo` (confidential unless `public`), redirect [`REDIRECT`].
pub async fn browser_client(app: &TestApp, client_id: &str, public: bool, extra: Value) -> Rp {
    let mut body = json!({
        "client_id": client_id,
        "public": public,
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [REDIRECT],
        "scopes": ["openid", "profile", "email", "offline_access"],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (_, secret) = app.create_client("demo", body).await;
    Rp::new("demo", client_id, secret.as_deref(), REDIRECT)
}

/// An RP back-channel endpoint: sends each received body on the channel, answers 200.
pub async fn backchannel_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/bcl",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                let done = text.find("\r\n\r\n").and_then(|i| {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    (buf.len() >= i + 4 + len).then(|| text[i + 4..i + 4 + len].to_owned())
                });
                if let Some(body) = done {
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    let _ = tx.send(body);
                    break;
                }
                if n == 0 {
                    break;
                }
            }
        }
    });
    (url, rx)
}
