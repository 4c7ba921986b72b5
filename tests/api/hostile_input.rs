//! Hostile input at the protocol endpoints and the admin API. Acceptance: no input makes the
//! server answer 5xx or panic; malformed forms, oversized bodies, non-UTF-8 and duplicate
//! parameters are all tried, and every error is a JSON body with `error` (SECURITY-CASES §3.8.7).

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const FORM: &str = "application/x-www-form-urlencoded";
/// The server's form body limit (crates/web/src/form.rs `MAX_FORM_BYTES`).
const LIMIT: usize = 128 * 1024;

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// Asserts a 4xx JSON error body (RFC 6749 §5.2 shape) and returns (status, body).
async fn assert_json_4xx(res: Response, what: &str) -> (u16, Value) {
    let status = res.status().as_u16();
    assert!((400..500).contains(&status), "{what}: status {status}");
    let ct = res
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "{what}: content-type {ct:?}"
    );
    let text = res.text().await.unwrap();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text:?}"));
    assert!(body["error"].is_string(), "{what}: {body}");
    (status, body)
}

/// POSTs raw bytes to a demo endpoint with the given content type and optional Authorization.
async fn post(
    app: &TestApp,
    ep: &str,
    ct: Option<&str>,
    auth: Option<HeaderValue>,
    body: Vec<u8>,
) -> Response {
    let mut req = app.http.post(app.endpoint("demo", ep)).body(body);
    if let Some(ct) = ct {
        req = req.header(CONTENT_TYPE, ct);
    }
    if let Some(a) = auth {
        req = req.header(AUTHORIZATION, a);
    }
    req.send().await.unwrap()
}

async fn assert_healthy(app: &TestApp) {
    let ready = app.http.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let v: Value = ready.json().await.unwrap();
    assert_eq!(v["database"], "UP");
    // And the protocol still works end to end.
    let token = app.demo_token().await;
    let secret = app.demo_secret.clone();
    assert_eq!(
        app.introspect("demo", "demo-service", &secret, &token)
            .await["active"],
        true
    );
}

/// A body of exactly `len` bytes that is a valid client_credentials request plus padding.
fn padded_body(len: usize) -> Vec<u8> {
    let head = "grant_type=client_credentials&pad=";
    let mut b = head.as_bytes().to_vec();
    b.resize(len, b'x');
    b
}

#[tokio::test]
async fn token_rejects_a_1_mib_body_with_400_invalid_request_and_stays_healthy() {
    let app = spawn_app().await;
    let auth = HeaderValue::from_str(&basic("demo-service", &app.demo_secret)).unwrap();
    let res = post(
        &app,
        "token",
        Some(FORM),
        Some(auth),
        padded_body(1024 * 1024),
    )
    .await;
    let body = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{body}"
    );
    // Also at introspection and revocation, without credentials (the limit comes first).
    for ep in ["token/introspect", "revoke"] {
        let res = post(&app, ep, Some(FORM), None, vec![b'a'; 1024 * 1024]).await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn token_accepts_a_body_of_exactly_the_128_kib_limit_and_rejects_one_byte_more() {
    let app = spawn_app().await;
    let auth = || Some(HeaderValue::from_str(&basic("demo-service", &app.demo_secret)).unwrap());
    let res = post(&app, "token", Some(FORM), auth(), padded_body(LIMIT)).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let res = post(&app, "token", Some(FORM), auth(), padded_body(LIMIT - 1)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = post(&app, "token", Some(FORM), auth(), padded_body(LIMIT + 1)).await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn token_requires_the_form_content_type_and_accepts_its_parameters_and_case() {
    let app = spawn_app().await;
    let auth = || Some(HeaderValue::from_str(&basic("demo-service", &app.demo_secret)).unwrap());
    let body = || b"grant_type=client_credentials".to_vec();
    for ct in [
        None,
        Some("application/json"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/x-www-form-urlencodedX"),
        Some("application/x-www-form"),
        Some(""),
        Some(";"),
    ] {
        let res = post(&app, "token", ct, auth(), body()).await;
        let b = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(
            b["error_description"]
                .as_str()
                .unwrap()
                .contains("x-www-form-urlencoded"),
            "{ct:?}: {b}"
        );
    }
    // A JSON body with the JSON content type is not a token request either.
    let res = app
        .http
        .post(app.endpoint("demo", "token"))
        .basic_auth("demo-service", Some(&app.demo_secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
    // Media type parameters and letter case do not matter (RFC 9110 §8.3.1).
    for ct in [
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-URLEncoded",
        " application/x-www-form-urlencoded ;x=y",
    ] {
        let res = post(&app, "token", Some(ct), auth(), body()).await;
        assert_eq!(res.status(), StatusCode::OK, "{ct}");
    }
}

#[tokio::test]
async fn token_rejects_non_utf8_raw_and_percent_encoded_bytes_with_invalid_request() {
    let app = spawn_app().await;
    let auth = || Some(HeaderValue::from_str(&basic("demo-service", &app.demo_secret)).unwrap());
    let bodies: [&[u8]; 9] = [
        b"grant_type=client_credentials&scope=\xff",
        b"grant_type=client_credentials&scope=%ff",
        b"grant_type=client_credentials&scope=%FF%FE",
        b"grant_type=client_credentials&scope=%C3%28",
        b"grant_type=client_credentials&scope=%ED%A0%80", // UTF-16 surrogate
        b"grant_type=client_credentials&scope=%C0%AF",    // overlong '/'
        b"grant_type=client_credentials&%ff=x",
        b"grant_type=client_\xc3\x28credentials",
        b"\xfe\xff\x00g\x00r\x00a\x00n\x00t",
    ];
    for body in bodies {
        let res = post(&app, "token", Some(FORM), auth(), body.to_vec()).await;
        let b = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(
            b["error_description"].as_str().unwrap().contains("UTF-8"),
            "{body:?}: {b}"
        );
    }
    // The same at introspection (before any token lookup).
    let res = post(
        &app,
        "token/introspect",
        Some(FORM),
        auth(),
        b"token=%ff%fe".to_vec(),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Valid multi-byte UTF-8 is fine at the form layer (and then not a valid scope).
    let res = post(
        &app,
        "token",
        Some(FORM),
        auth(),
        "grant_type=client_credentials&scope=%C3%A9".into(),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_scope").await;
}

#[tokio::test]
async fn token_rejects_repeated_parameters_with_invalid_request_even_when_values_agree() {
    let app = spawn_app().await;
    let auth = || Some(HeaderValue::from_str(&basic("demo-service", &app.demo_secret)).unwrap());
    for body in [
        "grant_type=client_credentials&grant_type=client_credentials",
        "grant_type=client_credentials&grant_type=password",
        "grant_type=client_credentials&scope=api:read&scope=api:write",
        "grant_type=client_credentials&scope=api:read&scope=api:read",
        "grant_type=client_credentials&scope=api:read&scope=",
        "grant_type=client_credentials&client_id=demo-service&client_id=demo-service",
        "grant_type=client_credentials&gr%61nt_type=client_credentials",
        "grant_type=client_credentials&grant+type=x&grant%20type=y",
    ] {
        let res = post(&app, "token", Some(FORM), auth(), body.into()).await;
        let b = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(
            b["error_description"]
                .as_str()
                .unwrap()
                .contains("repeated"),
            "{body}: {b}"
        );
    }
    // client_secret_post with the secret twice is not an authentication either.
    let body = format!(
        "grant_type=client_credentials&client_id=demo-service&client_secret={0}&client_secret={0}",
        app.demo_secret
    );
    let res = post(&app, "token", Some(FORM), None, body.into()).await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Introspection and revocation too.
    for ep in ["token/introspect", "revoke"] {
        let res = post(&app, ep, Some(FORM), auth(), b"token=a&token=b".to_vec()).await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn token_rejects_more_than_64_parameters_with_invalid_request() {
    let app = spawn_app().await;
    let auth = Some(HeaderValue::from_str(&basic("demo-service", &app.demo_secret)).unwrap());
    let mut body = String::from("grant_type=client_credentials");
    for i in 0..64 {
        body.push_str(&format!("&p{i}=1"));
    }
    let res = post(&app, "token", Some(FORM), auth, body.into()).await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn malformed_basic_headers_are_401_invalid_client_and_other_schemes_400_invalid_request() {
    let app = spawn_app().await;
    let form = || b"grant_type=client_credentials".to_vec();
    let b64 =
        |raw: &[u8]| HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).unwrap();
    let invalid_client = [
        HeaderValue::from_static("Basic !!!not-base64!!!"),
        HeaderValue::from_static("Basic ZGVtby1zZXJ2aWNl="), // bad padding
        b64(b"demo-service"),                                // no colon
        b64(b"\xff\xfe:\xfd"),                               // not UTF-8 after decoding
        b64(b"demo-service:\xc3\x28"),
        b64(b"%ff:secret"), // not UTF-8 after form-urldecoding the id
        b64(b"demo-service:%ff"),
        b64(b":"),
        b64(b"demo-service:"),
        b64(b"demo-service:wrong"),
        b64(b"demo\x00service:x"),
        b64(b"demo-service\n:x"),
        HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap(), // non-ASCII header bytes
        HeaderValue::from_static("basic ZGVtbzo="),
    ];
    for auth in invalid_client {
        let shown = format!("{auth:?}");
        let res = post(&app, "token", Some(FORM), Some(auth), form()).await;
        let www = res
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_oauth_error(res, 401, "invalid_client").await;
        assert!(www.is_some_and(|w| w.starts_with("Basic")), "{shown}");
    }
    for auth in [
        "Bearer abc",
        "Digest username=\"demo-service\"",
        "Basi",
        "Basic ",
        "Basic",
        "Basicx ZGVtbzo=",
        "Negotiate YII=",
        "ZGVtby1zZXJ2aWNlOng=",
    ] {
        let res = post(
            &app,
            "token",
            Some(FORM),
            Some(HeaderValue::from_static(auth)),
            form(),
        )
        .await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // Two Authorization headers: two methods at once.
    let res = app
        .http
        .post(app.endpoint("demo", "token"))
        .header(CONTENT_TYPE, FORM)
        .header(AUTHORIZATION, basic("demo-service", &app.demo_secret))
        .header(AUTHORIZATION, basic("demo-service", &app.demo_secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn basic_and_client_secret_in_the_body_together_are_invalid_request_even_when_both_are_right()
{
    let app = spawn_app().await;
    let secret = app.demo_secret.clone();
    for (ep, extra) in [
        ("token", vec![("grant_type", "client_credentials")]),
        ("token/introspect", vec![("token", "x")]),
        ("revoke", vec![("token", "x")]),
    ] {
        let mut form = extra.clone();
        form.push(("client_secret", secret.as_str()));
        let res = app
            .post_basic("demo", ep, "demo-service", &secret, &form)
            .await;
        assert_oauth_error(res, 400, "invalid_request").await;
        // A body client_id naming another client than the Basic header.
        let mut form = extra;
        form.push(("client_id", "tessera-admin"));
        let res = app
            .post_basic("demo", ep, "demo-service", &secret, &form)
            .await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn other_methods_on_token_introspect_and_revoke_are_405_json_with_allow_post() {
    let app = spawn_app().await;
    for ep in ["token", "token/introspect", "revoke"] {
        for m in [
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ] {
            let res = app
                .http
                .request(m.clone(), app.endpoint("demo", ep))
                .basic_auth("demo-service", Some(&app.demo_secret))
                .header(CONTENT_TYPE, FORM)
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{m} {ep}");
            assert_eq!(res.headers()["allow"], "POST", "{m} {ep}");
            assert_oauth_error(res, 405, "invalid_request").await;
        }
        let res = app
            .http
            .head(app.endpoint("demo", ep))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "HEAD {ep}");
    }
    // A GET with the credentials in the query string does not issue a token either.
    let url = format!(
        "{}?grant_type=client_credentials&client_id=demo-service&client_secret={}",
        app.endpoint("demo", "token"),
        app.demo_secret
    );
    let res = app.http.get(url).send().await.unwrap();
    assert_oauth_error(res, 405, "invalid_request").await;
}

#[tokio::test]
async fn token_without_grant_type_is_invalid_request() {
    let app = spawn_app().await;
    let secret = app.demo_secret.clone();
    for form in [
        vec![],
        vec![("grant_type", "")],
        vec![("scope", "api:read")],
    ] {
        let res = app
            .post_basic("demo", "token", "demo-service", &secret, &form)
            .await;
        let b = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(
            b["error_description"]
                .as_str()
                .unwrap()
                .contains("grant_type"),
            "{b}"
        );
    }
}

#[tokio::test]
async fn unknown_grant_types_and_password_are_unsupported_grant_type_bcp_9() {
    let app = spawn_app().await;
    let secret = app.demo_secret.clone();
    let long = "g".repeat(5000);
    for grant in [
        "password",
        "implicit",
        "CLIENT_CREDENTIALS",
        "client_credentials ",
        " client_credentials",
        "client_credentials\u{0}",
        "urn:ietf:params:oauth:grant-type:saml2-bearer",
        "urn:ietf:params:oauth:grant-type:device_code ",
        "urn:openid:params:grant-type:CIBA",
        "\u{202e}slaitnederc_tneilc",
        long.as_str(),
    ] {
        let res = app
            .post_basic(
                "demo",
                "token",
                "demo-service",
                &secret,
                &[("grant_type", grant), ("username", "u"), ("password", "p")],
            )
            .await;
        assert_oauth_error(res, 400, "unsupported_grant_type").await;
    }
    // A grant we support but the client was not given (RFC 6749 §5.2).
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-service",
            &secret,
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", "a.b.c"),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn absurd_values_get_4xx_never_5xx() {
    let app = spawn_app().await;
    let secret = app.demo_secret.clone();

    // A 10 KB scope: one huge token, and thousands of small ones.
    let huge = "s".repeat(10 * 1024);
    let many = (0..1100)
        .map(|i| format!("s{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let quoted = "a\"b \\ c".to_owned();
    for scope in [
        huge.as_str(),
        many.as_str(),
        quoted.as_str(),
        "api:read  api:write",
        " ",
        "\u{0}\u{1}\u{7f}",
    ] {
        let res = app
            .post_basic(
                "demo",
                "token",
                "demo-service",
                &secret,
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        assert_oauth_error(res, 400, "invalid_scope").await;
    }

    // Control characters, NUL, huge and non-ASCII client ids: unknown client, 401.
    let long_id = "c".repeat(10 * 1024);
    for id in [
        "demo-service\u{0}",
        "demo\r\nservice",
        "\u{1b}[31m",
        "démo",
        "demo service",
        long_id.as_str(),
        "%00",
    ] {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret.as_str()),
        ];
        let res = app
            .http
            .post(app.endpoint("demo", "token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_oauth_error(res, 401, "invalid_client").await;
        if id.len() < 1000 {
            let res = app
                .post_basic(
                    "demo",
                    "token",
                    id,
                    &secret,
                    &[("grant_type", "client_credentials")],
                )
                .await;
            assert_oauth_error(res, 401, "invalid_client").await;
        }
    }

    // A 200 KB token at introspection exceeds the body limit: 400, not 500.
    let big = "t".repeat(200 * 1024);
    let res = app
        .post_basic(
            "demo",
            "token/introspect",
            "demo-service",
            &secret,
            &[("token", &big)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Just under the limit, and JWS-shaped garbage of every kind: inactive.
    let near = "t".repeat(15 * 1024);
    let jws_big = format!(
        "{}.{}.{}",
        "a".repeat(5000),
        "b".repeat(5000),
        "c".repeat(5000)
    );
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let no_kid = format!(
        "{}.{}.",
        enc(json!({"alg": "none", "typ": "at+jwt"})),
        enc(json!({"iss": issuer("demo")}))
    );
    let weird_header = format!(
        "{}.e30.AAAA",
        enc(json!({"alg": 1, "kid": ["x"], "typ": {"a": 1}}))
    );
    let array_payload = format!(
        "{}.{}.AAAA",
        enc(json!({"alg": "RS256", "typ": "at+jwt", "kid": "x"})),
        enc(json!([1, 2]))
    );
    for token in [
        near.as_str(),
        jws_big.as_str(),
        no_kid.as_str(),
        weird_header.as_str(),
        array_payload.as_str(),
        "..",
        "a.b.c",
        "\u{0}.\u{0}.\u{0}",
        "e30.e30.e30",
        "é.é.é",
        "%",
        "null",
        "Bearer x",
    ] {
        let v = app.introspect("demo", "demo-service", &secret, token).await;
        assert_eq!(v, json!({"active": false}), "{:.40}", token);
        // Revocation of garbage is a no-op success (RFC 7009 §2.2).
        let res = app
            .post_basic(
                "demo",
                "revoke",
                "demo-service",
                &secret,
                &[("token", token)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{:.40}", token);
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn introspection_and_revocation_without_token_are_invalid_request() {
    let app = spawn_app().await;
    let secret = app.demo_secret.clone();
    for ep in ["token/introspect", "revoke"] {
        for form in [
            vec![],
            vec![("token", "")],
            vec![("token_type_hint", "access_token")],
        ] {
            let res = app
                .post_basic("demo", ep, "demo-service", &secret, &form)
                .await;
            assert_oauth_error(res, 400, "invalid_request").await;
        }
    }
}

#[tokio::test]
async fn a_barrage_of_malformed_requests_never_gets_a_5xx_and_always_gets_a_json_error() {
    let app = spawn_app().await;
    let good = basic("demo-service", &app.demo_secret);
    let b64 = |raw: &[u8]| format!("Basic {}", STANDARD.encode(raw));
    let auths: Vec<Option<HeaderValue>> = vec![
        None,
        Some(HeaderValue::from_str(&good).unwrap()),
        Some(HeaderValue::from_static("Basic %%%")),
        Some(HeaderValue::from_str(&b64(b"\x00:\x00")).unwrap()),
        Some(HeaderValue::from_bytes(b"Basic \x80\x81").unwrap()),
        Some(HeaderValue::from_static("Bearer x.y.z")),
        Some(HeaderValue::from_str(&b64(&[b'a'; 3000])).unwrap()),
    ];
    let long_value = format!("grant_type=client_credentials&scope={}", "%41".repeat(4000));
    let bodies: Vec<Vec<u8>> = vec![
        vec![],
        b"&&&&".to_vec(),
        b"====".to_vec(),
        b"=x".to_vec(),
        b"grant_type".to_vec(),
        b"grant_type=".to_vec(),
        b"grant_type=%".to_vec(),
        b"grant_type=%4".to_vec(),
        b"grant_type=%zz".to_vec(),
        b"grant_type=client_credentials&scope=%ff".to_vec(),
        b"grant_type=client_credentials&grant_type=client_credentials".to_vec(),
        b"grant_type=password&username=admin&password=admin".to_vec(),
        b"grant_type=authorization_code&code=x&redirect_uri=https://evil.example/cb".to_vec(),
        b"grant_type=refresh_token&refresh_token=x".to_vec(),
        b"grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=x".to_vec(),
        b"grant_type=client_credentials&client_id=\x00".to_vec(),
        b"grant_type=client_credentials&client_id=demo-service&client_secret=".to_vec(),
        b"grant_type=client_credentials&client_secret=only-a-secret".to_vec(),
        b"{\"grant_type\":\"client_credentials\"}".to_vec(),
        b"<?xml version=\"1.0\"?><grant_type/>".to_vec(),
        b"grant_type=client_credentials\r\n\r\nGET / HTTP/1.1".to_vec(),
        b"token=x&token=y".to_vec(),
        b"token=%00".to_vec(),
        b"\x00\x00\x00\x00".to_vec(),
        b"grant_type=client_credentials&scope=\"><script>".to_vec(),
        long_value.into_bytes(),
    ];
    let cts = [FORM, "text/plain", "application/json"];
    let mut n = 0;
    for ep in ["token", "token/introspect", "revoke"] {
        for (i, body) in bodies.iter().enumerate() {
            for (j, auth) in auths.iter().enumerate() {
                // Every body with every auth at the token endpoint; a sample elsewhere.
                if ep != "token" && (i + j) % 3 != 0 {
                    continue;
                }
                // Mostly the form type, sometimes a wrong one.
                let ct = if (i + j) % 5 == 4 {
                    cts[1 + (i + j) % 2]
                } else {
                    FORM
                };
                let res = post(&app, ep, Some(ct), auth.clone(), body.clone()).await;
                if res.status() == StatusCode::OK {
                    // Only well-formed requests by demo-service may succeed.
                    assert!(j == 1, "{ep} body {i} auth {j} succeeded");
                    continue;
                }
                let what = format!("{ep} body {i} auth {j} ct {ct}");
                let no_store = res
                    .headers()
                    .get("cache-control")
                    .is_some_and(|v| v.to_str().unwrap().contains("no-store"));
                let (_, b) = assert_json_4xx(res, &what).await;
                assert!(no_store, "{what}: {b}");
                n += 1;
            }
        }
    }
    assert!(n >= 40, "only {n} malformed variants tried");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn concurrent_garbage_does_not_take_the_server_down() {
    let app = spawn_app().await;
    let futs = (0..64).map(|i| {
        let body = if i % 2 == 0 {
            vec![b'x'; 64 * 1024]
        } else {
            vec![0xff; 100]
        };
        post(&app, "token", Some(FORM), None, body)
    });
    for res in futures::future::join_all(futs).await {
        assert_json_4xx(res, "concurrent").await;
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn unknown_paths_are_404_json() {
    let app = spawn_app().await;
    for path in [
        "/nope",
        "/realms",
        "/realms/demo",
        "/realms/demo/protocol",
        "/realms/demo/protocol/openid-connect/nope",
        "/realms/demo/protocol/openid-connect/token/extra",
        "/realms/demo/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/admin",
        "/admin/nope",
        "/admin/realms/demo/nope",
        "/admin/realms/demo/clients/x/y/z",
        "/static/../Cargo.toml",
        "/static/nope.css",
        "/health",
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let (_, b) = assert_json_4xx(res, path).await;
        assert_eq!(b["error"], "not_found", "{path}");
        // POST too.
        let res = app
            .http
            .post(app.url(path))
            .header(CONTENT_TYPE, FORM)
            .body("a=b")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {path}");
        assert_json_4xx(res, path).await;
    }
    // Unknown or malformed realm at the protocol endpoints: 404 not_found, never 5xx.
    let long = "r".repeat(300);
    for realm in ["nope", "a%20b", "%ff", "%00", "..", "a.b", long.as_str()] {
        let res = app
            .http
            .post(app.endpoint(realm, "token"))
            .header(CONTENT_TYPE, FORM)
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        let what = format!("realm {realm:.20}");
        let status = res.status().as_u16();
        assert_eq!(status, 404, "{what}");
        let (_, b) = assert_json_4xx(res, &what).await;
        assert_eq!(b["error"], "not_found", "{what}");
    }
}

#[tokio::test]
async fn admin_api_rejects_malformed_json_and_queries_with_400_never_5xx() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let send = |m: Method, path: &str, ct: Option<&str>, body: Vec<u8>| {
        let mut req = app
            .http
            .request(m, app.url(path))
            .bearer_auth(&token)
            .body(body);
        if let Some(ct) = ct {
            req = req.header(CONTENT_TYPE, ct);
        }
        req.send()
    };
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(3000), "}".repeat(3000));
    let huge = format!("{{\"name\":\"{}\"}}", "x".repeat(100 * 1024));
    let bodies: Vec<Vec<u8>> = vec![
        vec![],
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"name\"".to_vec(),
        b"{\"name\": 1}".to_vec(),
        b"{\"name\": \"x\", \"name\": \"y\"}".to_vec(),
        b"{\"name\": \"\xff\"}".to_vec(),
        b"{\"name\": \"\\ud800\"}".to_vec(),
        b"{\"name\": \"ok1\", \"access_token_lifetime_secs\": 1e400}".to_vec(),
        b"{\"name\": \"ok2\", \"access_token_lifetime_secs\": 99999999999999999999999}".to_vec(),
        b"{\"name\": \"ok3\", \"access_token_lifetime_secs\": -9223372036854775808}".to_vec(),
        b"{\"name\": \"ok4\", \"access_token_alg\": null, \"enabled\": \"yes\"}".to_vec(),
        b"{\"name\": \"ok5\", \"is_admin\": true}".to_vec(),
        b"{\"name\": \"\"}".to_vec(),
        b"{\"name\": \"a/b\"}".to_vec(),
        b"{\"name\": \"..\"}".to_vec(),
        b"{\"name\": \"\\u0000\"}".to_vec(),
        deep.into_bytes(),
        deep_obj.into_bytes(),
        huge.into_bytes(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let res = send(
            Method::POST,
            "/admin/realms",
            Some("application/json"),
            body.clone(),
        )
        .await
        .unwrap();
        let (status, b) = assert_json_4xx(res, &format!("realm body {i}")).await;
        assert_eq!(status, 400, "realm body {i}: {b}");
        assert_eq!(b["error"], "invalid_request", "realm body {i}");
        let res = send(
            Method::POST,
            "/admin/realms/demo/clients",
            Some("application/json"),
            body.clone(),
        )
        .await
        .unwrap();
        let (status, _) = assert_json_4xx(res, &format!("client body {i}")).await;
        assert_eq!(status, 400, "client body {i}");
        let res = send(
            Method::PUT,
            "/admin/realms/demo",
            Some("application/json"),
            body.clone(),
        )
        .await
        .unwrap();
        assert_json_4xx(res, &format!("realm update body {i}")).await;
    }
    // Not JSON at all.
    for ct in [None, Some("text/plain"), Some(FORM)] {
        let res = send(Method::POST, "/admin/realms", ct, b"name=x".to_vec())
            .await
            .unwrap();
        let (status, b) = assert_json_4xx(res, &format!("{ct:?}")).await;
        assert_eq!(
            (status, b["error"].as_str().unwrap()),
            (400, "invalid_request"),
            "{ct:?}"
        );
    }
    // Bad queries.
    for q in [
        "limit=abc",
        "limit=-1",
        "limit=99999999999999999999999",
        "limit=1&limit=2",
        "unknown=1",
        "limit=%00",
        // Outside the documented 1..=500: refused, not clamped.
        "limit=0",
        "limit=501",
        "limit=100000",
    ] {
        for path in ["/admin/realms", "/admin/realms/demo/clients"] {
            let res = send(Method::GET, &format!("{path}?{q}"), None, vec![])
                .await
                .unwrap();
            let (status, _) = assert_json_4xx(res, &format!("{path}?{q}")).await;
            assert_eq!(status, 400, "{path}?{q}");
        }
    }
    // Odd but well-formed queries work.
    let long_after = "z".repeat(5000);
    for q in [
        "limit=1".to_owned(),
        "limit=500".to_owned(),
        format!("after={long_after}"),
        "after=%27%20OR%201%3D1%20--".to_owned(),
        "after=%ff".to_owned(),
    ] {
        let res = send(Method::GET, &format!("/admin/realms?{q}"), None, vec![])
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{q}");
        let v: Value = res.json().await.unwrap();
        assert!(v["items"].is_array(), "{q}");
    }
    assert_healthy(&app).await;
}

/// Sends raw bytes over a fresh TCP connection and returns the response status, if any
/// (the server may also just close a connection it cannot parse).
async fn raw_http(app: &TestApp, request: &[u8], half_close: bool) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let _ = s.write_all(request).await;
    if half_close {
        let _ = s.shutdown().await;
    }
    let mut buf = Vec::new();
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(15), s.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok() || !buf.is_empty(),
        "no answer and no close within 15 s: {:.80?}",
        String::from_utf8_lossy(request)
    );
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| text.strip_prefix("HTTP/1.0 "))?
        .get(..3)?
        .parse()
        .ok()?;
    Some((status, text))
}

#[tokio::test]
async fn malformed_http_framing_never_gets_a_5xx_and_chunked_bodies_obey_the_limit() {
    let app = spawn_app().await;
    let head = "POST /realms/demo/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n";

    // A chunked body within the limit is read like any other (no credentials: 401 JSON).
    let body = "grant_type=client_credentials";
    let req = format!(
        "{head}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let (status, text) = raw_http(&app, req.as_bytes(), false)
        .await
        .expect("a response");
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("invalid_client"), "{text}");

    // A chunked body of 200 KiB, with no Content-Length to check up front: 400 at the limit.
    let mut req = format!("{head}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    for _ in 0..200 {
        req.extend_from_slice(format!("400\r\n{}\r\n", "x".repeat(1024)).as_bytes());
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let (status, text) = raw_http(&app, &req, false).await.expect("a response");
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("invalid_request") && text.contains("too large"),
        "{text}"
    );

    let big_header = format!("{head}X-Big: {}\r\n\r\n", "h".repeat(128 * 1024));
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (format!("{head}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n").into_bytes(), true),
        (format!("{head}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n").into_bytes(), true),
        (format!("{head}Transfer-Encoding: chunked\r\n\r\n10\r\nabc").into_bytes(), true),
        (format!("{head}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes(), true),
        (format!("{head}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n").into_bytes(), true),
        (format!("{head}Content-Length: 100\r\n\r\ngrant_type").into_bytes(), true),
        (format!("{head}Content-Length: -1\r\n\r\n").into_bytes(), true),
        (format!("{head}Content-Length: 99999999999999999999999\r\n\r\n").into_bytes(), true),
        (format!("{head}Content-Length: 10\r\nContent-Length: 20\r\n\r\ngrant_type").into_bytes(), true),
        (format!("{head}Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n").into_bytes(), true),
        ([format!("{head}Content-Length: 4\r\nContent-Encoding: gzip\r\n\r\n").as_bytes(), b"\x1f\x8b\x08\x00"].concat(), true),
        (format!("{head}Content-Length: 4\r\nContent-Encoding: br\r\n\r\nabcd").into_bytes(), true),
        (b"GARBAGE\r\n\r\n".to_vec(), true),
        (b"POST /realms/\xff\xfe/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".to_vec(), true),
        (b"GET /realms/demo/.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n".to_vec(), true),
        (b"GET /%%%%/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), true),
        (b"GET /admin/realms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n".to_vec(), true),
        (b"POST /admin/realms HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 6\r\n\r\n\x1f\x8b\x08\x00ab".to_vec(), true),
        (b"GET / HTTP/1.0\r\n\r\n".to_vec(), true),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(), true),
        (big_header.into_bytes(), true),
    ];
    for (i, (req, half_close)) in cases.iter().enumerate() {
        if let Some((status, text)) = raw_http(&app, req, *half_close).await {
            assert!(status < 500, "case {i}: {text:.300}");
        }
    }
    assert_healthy(&app).await;
}
