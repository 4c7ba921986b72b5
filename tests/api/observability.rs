//! What an operator sees: `/metrics` on its own listener (histograms per route template,
//! tokens by grant, login outcomes, cache hits and misses, the pool, `# HELP`/`# TYPE`),
//! request ids, and the binary's log output (quiet commands, `-v`, JSON lines). The log
//! lines' contents are checked in `log_scrubbing.rs`, where the capture is.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const TOKEN_ROUTE: &str = "/realms/{realm}/protocol/openid-connect/token";

/// The value of one exact series (`name{labels}`) in Prometheus text, 0 when absent.
fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_the_public_one_answers_404() {
    let app = spawn_app().await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_ne!(app.metrics_base, app.base);
    assert!(app.metrics().await.contains("# TYPE"));
}

#[tokio::test]
async fn metrics_have_token_route_latency_tokens_by_grant_logins_and_cache_hits_and_misses() {
    let app = spawn_app().await;
    let issued = r#"tessera_tokens_issued_total{grant_type="client_credentials"}"#;
    let token_2xx = format!(
        r#"tessera_http_request_duration_seconds_count{{route="{TOKEN_ROUTE}",method="POST",status_class="2xx"}}"#
    );
    let client_miss = r#"tessera_cache_requests_total{cache="client",result="miss"}"#;
    let client_hit = r#"tessera_cache_requests_total{cache="client",result="hit"}"#;
    let before = app.metrics().await;
    // The first request loads demo-service into this app's cache, the second finds it.
    app.demo_token().await;
    app.demo_token().await;
    let rp = Rp::demo_app(&app);
    let cb = rp.login_demo(&app, &mut Agent::default(), &[]).await;
    rp.tokens(&app, &cb["code"]).await;
    let after = app.metrics().await;

    // Other tests of this process count too: the counters only grow by at least ours.
    assert!(
        value(&after, issued) >= value(&before, issued) + 2.0,
        "{after}"
    );
    assert!(value(&after, &token_2xx) >= value(&before, &token_2xx) + 3.0);
    assert!(value(&after, client_miss) >= value(&before, client_miss) + 1.0);
    assert!(value(&after, client_hit) >= value(&before, client_hit) + 1.0);
    assert!(
        value(
            &after,
            r#"tessera_tokens_issued_total{grant_type="authorization_code"}"#
        ) >= 1.0
    );
    assert!(value(&after, r#"tessera_logins_total{outcome="success"}"#) >= 1.0);
    assert!(value(&after, r#"tessera_db_pool_connections{state="max"}"#) >= 1.0);
    assert!(value(&after, "tessera_db_statement_duration_seconds_count") >= 1.0);
    for line in [
        "# TYPE tessera_http_request_duration_seconds histogram",
        "# HELP tessera_http_request_duration_seconds HTTP request latency",
        "# TYPE tessera_tokens_issued_total counter",
        "# HELP tessera_tokens_issued_total",
        "# HELP tessera_logins_total",
        "# TYPE tessera_cache_requests_total counter",
        "# HELP tessera_cache_requests_total",
        "# TYPE tessera_db_pool_connections gauge",
        "# TYPE tessera_db_statement_duration_seconds histogram",
    ] {
        assert!(after.contains(line), "missing {line:?} in\n{after}");
    }
    // Buckets, not a summary, so latencies aggregate across instances.
    assert!(after.contains(&format!(
        r#"tessera_http_request_duration_seconds_bucket{{route="{TOKEN_ROUTE}",method="POST",status_class="2xx",le="0.1"}}"#
    )));
    // Paths are not labels: a probe of random paths adds no series.
    let probe = format!("/no-such-{}", uuid::Uuid::new_v4().simple());
    app.http.get(app.url(&probe)).send().await.unwrap();
    assert!(!app.metrics().await.contains(&probe));
}

#[tokio::test]
async fn a_plain_request_id_is_echoed_and_anything_else_is_replaced_by_ours() {
    let app = spawn_app().await;
    let get = |id: Option<String>| {
        let mut req = app.http.get(app.url("/health/live"));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        async move {
            let res = req.send().await.unwrap();
            res.headers()
                .get("x-request-id")
                .expect("every response has a request id")
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(get(Some("edge-7f3a.42:1".into())).await, "edge-7f3a.42:1");
    for bad in [
        "two words".into(),
        "x\"y".into(),
        String::new(),
        "a".repeat(65),
    ] {
        let id = get(Some(bad.clone())).await;
        assert_ne!(id, bad);
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    let (a, b) = (get(None).await, get(None).await);
    assert_ne!(a, b);
}

#[test]
fn cli_commands_print_only_their_result_unless_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = tessera_cmd()
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // The first run applies every migration and writes the master key: all INFO lines.
    let (stdout, stderr) = run(&["migrate"]);
    assert_eq!(stdout, "migrations applied\n");
    assert_eq!(stderr, "");
    let (stdout, stderr) = run(&["realm", "create", "obs"]);
    assert!(stdout.contains("obs"), "{stdout}");
    assert_eq!(stderr, "");
    let (stdout, stderr) = run(&["-v", "migrate"]);
    assert_eq!(stdout, "migrations applied\n");
    assert!(
        stderr.contains("INFO") && stderr.contains("migration"),
        "{stderr}"
    );
}

#[tokio::test]
async fn serve_with_json_format_writes_one_json_object_per_line_with_request_lines() {
    let mut serve = ServeProcess::start(&["--log-format", "json"]).await;
    let (http, base) = (reqwest::Client::new(), serve.base.clone());
    let res = http
        .post(format!("{base}/realms/demo/protocol/openid-connect/token"))
        .basic_auth("demo-service", Some("not-the-secret"))
        .header("x-request-id", "json-test-1")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    let metrics = http
        .get(format!("{}/metrics", serve.metrics_base))
        .send()
        .await;
    serve.kill();
    assert_eq!(res.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(metrics.unwrap().status(), StatusCode::OK);
    let log = serve.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["timestamp"].is_string() && l["level"].is_string())
    );
    assert!(lines.iter().any(|l| l["message"] == "tessera is serving"));
    let ours = |l: &&Value| l["span"]["request_id"] == "json-test-1";
    let request = lines
        .iter()
        .filter(ours)
        .find(|l| l["message"] == "request")
        .unwrap_or_else(|| panic!("no request line in\n{log}"));
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["route"], TOKEN_ROUTE);
    assert_eq!(request["status"], 401);
    assert_eq!(request["method"], "POST");
    assert_eq!(request["span"]["realm"], "demo");
    assert!(request["latency_ms"].is_f64());
    let warn = lines
        .iter()
        .filter(ours)
        .find(|l| l["event"] == "invalid_client")
        .unwrap_or_else(|| panic!("no invalid_client line in\n{log}"));
    assert_eq!(warn["level"], "WARN");
    assert_eq!(warn["reason"], "bad_secret");
    assert_eq!(warn["client_id"], "demo-service");
    assert!(!log.contains("not-the-secret"));
}
