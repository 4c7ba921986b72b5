//! A third-party relying party, the `openidconnect` crate, signs in against the server:
//! discovery → authorization URL → login form → code exchange → ID token verified against
//! JWKS → userinfo → refresh.

use crate::helpers::*;
use openidconnect::core::CoreResponseType;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::http;
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

type RpFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, RpError>> + Send>,
>;

/// An HTTP client for the RP that reaches the configured public URL through the test
/// server's real address, as a reverse proxy would.
fn rp_http(app: &TestApp) -> impl Fn(openidconnect::HttpRequest) -> RpFuture + use<> {
    let base = app.base.clone();
    let client = app.http.clone();
    move |req: openidconnect::HttpRequest| {
        let (base, client) = (base.clone(), client.clone());
        Box::pin(async move {
            let url = req.uri().to_string().replace(PUBLIC_URL, &base);
            let mut r = client
                .request(req.method().clone(), url)
                .body(req.body().clone());
            for (k, v) in req.headers() {
                r = r.header(k, v);
            }
            let res = r.send().await.map_err(|e| RpError(e.to_string()))?;
            let mut out = http::Response::builder().status(res.status().as_u16());
            for (k, v) in res.headers() {
                out = out.header(k.as_str(), v.as_bytes());
            }
            let body = res
                .bytes()
                .await
                .map_err(|e| RpError(e.to_string()))?
                .to_vec();
            out.body(body).map_err(|e| RpError(e.to_string()))
        })
    }
}

#[derive(Debug)]
struct RpError(String);
impl std::fmt::Display for RpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for RpError {}

#[tokio::test]
async fn openidconnect_crate_signs_in_verifies_the_id_token_reads_userinfo_and_refreshes() {
    let app = spawn_app().await;
    let http = rp_http(&app);
    let issuer = IssuerUrl::new(issuer("demo")).unwrap();
    let meta = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new("demo-app".into()),
        Some(ClientSecret::new(app.seeded("demo-app"))),
    )
    .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:9999/cb".into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The user's browser: the authorization URL, then the login form.
    let mut b = Agent::default();
    let page = b
        .get(&app, &url.to_string().replace(PUBLIC_URL, &app.base))
        .await;
    let body = page.text().await.unwrap();
    let i = body.find("name=\"state\" value=\"").unwrap() + 20;
    let sealed = body[i..i + body[i..].find('"').unwrap()].to_owned();
    let res = b
        .post(
            &app,
            &app.url("/realms/demo/login-actions/authenticate"),
            &[
                ("state", &sealed),
                ("username", "demo"),
                ("password", &app.seeded("demo")),
            ],
        )
        .await;
    let cb = Rp::demo_app(&app).callback(&res);
    assert_eq!(&cb["state"], csrf.secret());

    let tokens = client
        .exchange_code(AuthorizationCode::new(cb["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id_token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("ID token verifies against JWKS");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("demo@example.com"));
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("demo")
    );
    // at_hash binds the access token to the ID token.
    let expected = openidconnect::AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&client.id_token_verifier()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject(), claims.subject());

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("refresh token"))
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret()
    );
    let again = refreshed
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(again.subject(), claims.subject());
}

#[tokio::test]
async fn openidconnect_crate_completes_the_device_flow_polling_until_the_person_approves() {
    use openidconnect::core::CoreDeviceAuthorizationResponse;
    use openidconnect::{DeviceAuthorizationUrl, TokenResponse as _};
    let app = spawn_app().await;
    fast_realm(&app, "rpdev").await;
    let alice = add_user(&app, "rpdev", "alice", PW).await;
    app.create_client(
        "rpdev",
        serde_json::json!({
            "client_id": "cli", "public": true, "name": "Command-line tool",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
            "scopes": ["openid", "profile"],
        }),
    )
    .await;
    let http = rp_http(&app);
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer("rpdev")).unwrap(), &http)
            .await
            .expect("discovery");
    let doc = app.discovery_document("rpdev").await;
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("cli".into()), None)
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(s(&doc, "device_authorization_endpoint")).unwrap(),
        );
    let details: CoreDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("profile".into()))
        .request_async(&http)
        .await
        .expect("device authorization");
    let code = details.user_code().secret().clone();
    // The library sleeps `interval` between polls: the server's clock moves as much.
    let clock = app.clock.clone();
    let sleep = move |d: std::time::Duration| {
        clock.advance(d.as_secs() as i64);
        tokio::time::sleep(std::time::Duration::from_millis(100))
    };
    let polling = client
        .exchange_device_access_token(&details)
        .expect("a token endpoint")
        .request_async(&http, sleep, None);
    let approving = async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        approve_user_code(&app, "rpdev", "alice", &code).await;
    };
    let (tokens, ()) = tokio::join!(polling, approving);
    let tokens = tokens.expect("tokens after the approval");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let c = id_token
        .claims(&verifier, |_: Option<&openidconnect::Nonce>| Ok(()))
        .expect("a valid ID token");
    assert_eq!(c.subject().as_str(), alice);
}
