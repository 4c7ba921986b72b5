//! The guarded outbound client, driven directly against small raw-HTTP servers on
//! loopback: what it refuses before connecting, and how it bounds what a peer sends back.

use crate::helpers::*;
use openidconnect::IssuerUrl;
use openidconnect::core::CoreProviderMetadata;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tessera_oidc::outbound::{Outbound, OutboundConfig, OutboundError, Refusal};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CAP: usize = 1024;

fn outbound(allow_private: bool) -> Outbound {
    Outbound::new(OutboundConfig {
        allow_private,
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(500),
        max_response_bytes: CAP,
        extra_roots_pem: None,
        dns_server: None,
    })
}

fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).unwrap()
}

/// Whether anything connected to `listener` (it is never accepted otherwise).
async fn saw_a_connection(listener: &TcpListener) -> bool {
    tokio::time::timeout(Duration::from_millis(100), listener.accept())
        .await
        .is_ok()
}

/// A loopback server answering the first request of each connection with `reply(path)`,
/// then holding the connection open (so a short reply with a longer promised body stalls).
/// A client making several calls needs `connection: close` in the replies to reconnect.
struct RawServer {
    base: String,
    requests: Arc<AtomicUsize>,
}

async fn raw_server(reply: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let requests = Arc::new(AtomicUsize::new(0));
    let (reply, counted) = (Arc::new(reply), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (reply, counted) = (reply.clone(), counted.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&head);
                let path = head.split(' ').nth(1).unwrap_or("/");
                let _ = sock.write_all(&reply(path)).await;
                tokio::time::sleep(Duration::from_secs(10)).await;
            });
        }
    });
    RawServer { base, requests }
}

fn response(head: &str, body: &[u8]) -> Vec<u8> {
    [format!("HTTP/1.1 {head}\r\n\r\n").as_bytes(), body].concat()
}

fn json_response(body: &serde_json::Value) -> Vec<u8> {
    let body = body.to_string();
    response(
        &format!(
            "200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}",
            body.len()
        ),
        body.as_bytes(),
    )
}

#[tokio::test]
async fn outbound_refuses_loopback_literals_and_names_resolving_to_loopback_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let guarded = outbound(false);
    for url in [
        format!("https://127.0.0.1:{port}/"),
        format!("https://[::ffff:127.0.0.1]:{port}/"),
        format!("https://localhost:{port}/"),
    ] {
        let res = guarded.send("test", get(&url)).await;
        assert!(
            matches!(res, Err(OutboundError::Refused(Refusal::PrivateAddress))),
            "{url}: {res:?}"
        );
    }
    assert!(!saw_a_connection(&listener).await);
}

#[tokio::test]
async fn outbound_refuses_plain_http_unless_private_addresses_are_allowed() {
    for url in ["http://example.com/", "ftp://example.com/"] {
        let res = outbound(false).send("test", get(url)).await;
        assert!(
            matches!(res, Err(OutboundError::Refused(Refusal::Scheme))),
            "{url}: {res:?}"
        );
    }
    let res = outbound(true).send("test", get("ftp://example.com/")).await;
    assert!(matches!(res, Err(OutboundError::Refused(Refusal::Scheme))));
}

#[tokio::test]
async fn outbound_returns_a_redirect_to_the_caller_without_following_it() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let location = format!("http://127.0.0.1:{}/", target.local_addr().unwrap().port());
    let server = raw_server(move |_| {
        response(
            &format!("302 Found\r\nlocation: {location}\r\ncontent-length: 0"),
            b"",
        )
    })
    .await;
    let res = outbound(true)
        .send("test", get(&format!("{}/start", server.base)))
        .await
        .unwrap();
    assert_eq!(res.status(), http::StatusCode::FOUND);
    assert!(!saw_a_connection(&target).await);
}

#[tokio::test]
async fn outbound_cuts_off_bodies_over_the_cap_whether_declared_or_chunked() {
    let big = vec![b'a'; CAP + 1];
    let declared = raw_server({
        let big = big.clone();
        move |_| response(&format!("200 OK\r\ncontent-length: {}", big.len()), &big)
    })
    .await;
    let chunked = raw_server(move |_| {
        let chunks: Vec<u8> = big
            .chunks(300)
            .flat_map(|c| [format!("{:x}\r\n", c.len()).as_bytes(), c, b"\r\n"].concat())
            .chain(b"0\r\n\r\n".iter().copied())
            .collect();
        response("200 OK\r\ntransfer-encoding: chunked", &chunks)
    })
    .await;
    let guarded = outbound(true);
    for server in [&declared, &chunked] {
        let res = guarded.send("test", get(&server.base)).await;
        assert!(matches!(res, Err(OutboundError::TooLarge)), "{res:?}");
    }
    // Up to the cap is fine.
    let at_cap = raw_server(|_| response("200 OK\r\ncontent-length: 1024", &[b'a'; CAP])).await;
    let res = guarded.send("test", get(&at_cap.base)).await.unwrap();
    assert_eq!(res.body().len(), CAP);
}

#[tokio::test]
async fn outbound_times_out_a_peer_that_stalls_after_the_headers() {
    let server = raw_server(|_| response("200 OK\r\ncontent-length: 100", b"partial")).await;
    let started = Instant::now();
    let res = outbound(true).send("test", get(&server.base)).await;
    assert!(matches!(res, Err(OutboundError::Timeout)), "{res:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn get_json_rejects_a_successful_response_that_is_not_json() {
    let server = raw_server(|_| response("200 OK\r\ncontent-length: 6", b"<html>")).await;
    let res = outbound(true).get_json("test", &server.base, None).await;
    assert!(matches!(res, Err(OutboundError::NotJson)), "{res:?}");
}

#[tokio::test]
async fn openidconnect_discovery_runs_through_the_guarded_client() {
    let issuer = discovery_server().await;
    let guarded = outbound(true);
    let client = guarded.oidc_client("idp:test/discovery");
    let found =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.clone()).unwrap(), &client)
            .await
            .unwrap();
    assert_eq!(found.issuer().as_str(), issuer);
}

/// An upstream serving a discovery document and an empty key set; returns its issuer.
async fn discovery_server() -> String {
    let issuer = Arc::new(std::sync::OnceLock::<String>::new());
    let named = issuer.clone();
    let server = raw_server(move |path| {
        let iss = named.get().unwrap();
        match path {
            "/.well-known/openid-configuration" => json_response(&json!({
                "issuer": iss,
                "authorization_endpoint": format!("{iss}/authorize"),
                "jwks_uri": format!("{iss}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })),
            _ => json_response(&json!({ "keys": [] })),
        }
    })
    .await;
    issuer.set(server.base.clone()).unwrap();
    server.base
}

#[tokio::test]
async fn outbound_calls_are_counted_per_peer_and_outcome() {
    let app = spawn_app().await;
    let server = raw_server(|_| json_response(&json!({ "ok": true }))).await;
    let (status, body) = app
        .provider
        .outbound()
        .get_json("metrics-test", &server.base, Some("token"))
        .await
        .unwrap();
    assert_eq!(
        (status, body),
        (http::StatusCode::OK, json!({ "ok": true }))
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    let text = app.metrics().await;
    let line = |name: &str, labels: &[&str]| {
        text.lines()
            .any(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
    };
    assert!(
        line(
            "tessera_outbound_requests_total{",
            &["peer=\"metrics-test\"", "outcome=\"ok\""]
        ),
        "{text}"
    );
    assert!(line(
        "tessera_outbound_request_duration_seconds_count{",
        &["peer=\"metrics-test\""]
    ));
}

#[tokio::test]
async fn backchannel_logout_to_a_loopback_receiver_is_refused_when_private_addresses_are_not_allowed()
 {
    let app = spawn_configured(database_url().await, None, |s| {
        s.outbound_allow_private = false;
    })
    .await;
    let (url, mut received) = backchannel_receiver().await;
    let rp = browser_client(&app, "rp", false, json!({ "backchannel_logout_uri": url })).await;
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let t = rp.tokens(&app, &cb["code"]).await;
    let logout = format!(
        "{}?id_token_hint={}",
        app.endpoint("demo", "logout"),
        s(&t, "id_token")
    );
    agent.get(&app, &logout).await;
    let refused = "outcome=\"refused\"";
    let mut seen = false;
    for _ in 0..50 {
        let text = app.metrics().await;
        seen = text.lines().any(|l| {
            l.starts_with("tessera_outbound_requests_total{")
                && l.contains("peer=\"backchannel\"")
                && l.contains(refused)
        });
        if seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen);
    assert!(received.try_recv().is_err());
}
