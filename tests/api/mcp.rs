//! An MCP client meets Tessera: the official MCP SDK's OAuth client (`tests/mcp`, run with
//! Node.js) discovers the realm from an MCP server's protected-resource metadata, identifies
//! itself by a Client ID Metadata Document (served over https with a certificate Tessera
//! trusts through `outbound_ca_file`) or registers dynamically, signs a person in with PKCE
//! and `resource`, and gets a token for that MCP server only.

use crate::helpers::{
    PW, TestApp, add_user, database_url, fast_realm, free_port, installed_node_package,
    spawn_configured,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// A CA and a certificate for `localhost` it signed: (CA file, key file, certificate file).
fn localhost_certificate(dir: &Path) -> (String, String, String) {
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &path("ca.key"),
        "-out",
        &path("ca.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &path("leaf.key"),
        "-out",
        &path("leaf.csr"),
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        &path("leaf.csr"),
        "-CA",
        &path("ca.pem"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-out",
        &path("leaf.pem"),
        "-days",
        "2",
        "-extfile",
        &path("leaf.ext"),
    ]);
    (path("ca.pem"), path("leaf.key"), path("leaf.pem"))
}

/// Runs the SDK's authorization in `mode` (`dcr` or `cimd`): its JSON report.
async fn run_sdk(app: &TestApp, realm: &str, mode: &str, port: u16, tls: (&str, &str)) -> Value {
    let dir = installed_node_package("tests/mcp", "mcp_auth.mjs").await;
    let issuer = format!("{}/realms/{realm}", app.base);
    let (mode, tls_key, tls_cert) = (mode.to_owned(), tls.0.to_owned(), tls.1.to_owned());
    // Off the test's runtime: the server's database connections (PostgreSQL) are driven by
    // it, and a blocking wait here would stall the server the client is talking to.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("mcp_auth.mjs")
            .current_dir(&dir)
            .env("ISSUER", issuer)
            .env("MCP_PORT", port.to_string())
            .env("MODE", mode)
            .env("LOGIN_USER", "bob")
            .env("LOGIN_PASSWORD", PW)
            .env("TLS_KEY", tls_key)
            .env("TLS_CERT", tls_cert)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "no report from the MCP client: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn aud(token: &str) -> Value {
    crate::helpers::claims(token)["aud"].clone()
}

#[tokio::test]
async fn the_mcp_sdk_authorizes_by_metadata_document_and_by_registration_for_its_server_only() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, key, cert) = localhost_certificate(certs.path());
    let port = free_port();
    let app = spawn_configured(database_url().await, None, |s| {
        s.listen = format!("127.0.0.1:{port}");
        s.public_url = format!("http://127.0.0.1:{port}");
        s.outbound_ca_file = Some(ca.clone().into());
    })
    .await;
    let realm = "mcp";
    fast_realm(&app, realm).await;
    add_user(&app, realm, "bob", PW).await;
    let mcp_port = free_port();
    let resource = format!("http://127.0.0.1:{mcp_port}/mcp");
    // The MCP server is an API of the realm; clients that register themselves may get
    // tokens for it, and for nothing else.
    app.create_client(
        realm,
        json!({ "client_id": "mcp-server", "resource_uris": [resource] }),
    )
    .await;
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{realm}"),
        Some(json!({ "registration": {
            "mode": "open",
            "allowed_hosts": ["127.0.0.1"],
            "allowed_scopes": ["mcp:tools"],
            "audiences": [resource],
        }})),
    )
    .await;
    let tls = (key.as_str(), cert.as_str());
    for mode in ["cimd", "dcr"] {
        let r = run_sdk(&app, realm, mode, mcp_port, tls).await;
        assert!(r["error"].is_null(), "{mode}: {r}");
        assert_eq!(r["first"], "REDIRECT", "{mode}: {r}");
        assert_eq!(r["second"], "AUTHORIZED", "{mode}: {r}");
        let url = r["authorization_url"].as_str().unwrap();
        assert!(url.starts_with(&issuer_of(&app, realm)), "{url}");
        assert!(url.contains("code_challenge_method=S256"), "{url}");
        let at = r["tokens"]["access_token"].as_str().unwrap();
        // For the named MCP server only: not even userinfo.
        assert_eq!(aud(at), json!(resource), "{mode}: {r}");
        assert_eq!(r["tokens"]["scope"], "mcp:tools", "{mode}: {r}");
        let client_id = r["client_id"].as_str().unwrap();
        match mode {
            "cimd" => {
                assert!(client_id.starts_with("https://localhost:"), "{r}");
                assert!(r["document_fetches"].as_u64().unwrap() >= 1, "{r}");
            }
            _ => assert!(!client_id.starts_with("https://"), "{r}"),
        }
        assert_eq!(crate::helpers::claims(at)["client_id"], client_id);
    }
}

fn issuer_of(app: &TestApp, realm: &str) -> String {
    format!("{}/realms/{realm}", app.base)
}
