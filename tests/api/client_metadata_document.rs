//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): a
//! `client_id` that is a URL names a document describing the client, fetched on first use.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn document(url: &str) -> Value {
    json!({
        "client_id": url,
        "client_name": "Inspector Gadget",
        "client_uri": "https://gadget.example",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    })
}

/// A document served as given, and the public client it describes.
async fn served(doc: impl FnOnce(&str) -> Value) -> (JsonServer, Rp) {
    let server = JsonServer::start().await;
    let url = server.url("/client.json");
    server.put("/client.json", &doc(&url));
    let rp = Rp::new("demo", &url, None, REDIRECT);
    (server, rp)
}

#[tokio::test]
async fn a_metadata_document_client_signs_in_with_pkce_after_consent_naming_it_and_its_host() {
    let app = spawn_app().await;
    let (server, rp) = served(document).await;
    let mut agent = Agent::default();
    let res = rp
        .sign_in(&app, &mut agent, "demo", &app.seeded("demo"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK, "a consent page");
    let page = res.text().await.unwrap();
    assert!(page.contains("Inspector Gadget"), "{page}");
    assert!(
        page.contains("127.0.0.1"),
        "the document's host is shown: {page}"
    );
    let state = hidden(&page, "state").unwrap();
    let res = agent
        .post(
            &app,
            &rp.consent_action(&app),
            &[("state", &state), ("decision", "allow")],
        )
        .await;
    let cb = rp.callback(&res);
    let tokens = rp.tokens(&app, &cb["code"]).await;
    assert_eq!(claims(&s(&tokens, "id_token"))["aud"], rp.client_id);
    assert_eq!(server.hits("/client.json"), 1, "fetched once, then cached");
}

#[tokio::test]
async fn a_document_that_names_another_client_id_is_refused() {
    let app = spawn_app().await;
    let (_server, rp) = served(|url| {
        let mut d = document(url);
        d["client_id"] = format!("{url}x").into();
        d
    })
    .await;
    let res = Agent::default().get(&app, &rp.auth_url(&app, &[])).await;
    assert_error_page(res, "client_id mismatch").await;
}

#[tokio::test]
async fn a_redirect_uri_the_document_does_not_list_gets_an_error_page() {
    let app = spawn_app().await;
    let (_server, rp) = served(document).await;
    let url = rp.auth_url(&app, &[("redirect_uri", "http://127.0.0.1:9999/other")]);
    let res = Agent::default().get(&app, &url).await;
    assert_error_page(res, "unlisted redirect_uri").await;
}

#[tokio::test]
async fn an_oversized_document_is_refused() {
    let app = spawn_app().await;
    let (_server, rp) = served(|url| {
        let mut d = document(url);
        d["padding"] = "x".repeat(64 * 1024).into();
        d
    })
    .await;
    let res = Agent::default().get(&app, &rp.auth_url(&app, &[])).await;
    assert_error_page(res, "oversized document").await;
}

#[tokio::test]
async fn a_document_on_a_private_http_address_is_refused_unless_allowed() {
    let app = spawn_configured(database_url().await, None, |s| {
        s.outbound_allow_private = false;
    })
    .await;
    let (server, rp) = served(document).await;
    let res = Agent::default().get(&app, &rp.auth_url(&app, &[])).await;
    assert_error_page(res, "http document on loopback").await;
    assert_eq!(server.hits("/client.json"), 0, "never called");
}

#[tokio::test]
async fn discovery_says_client_id_metadata_documents_are_supported() {
    let app = spawn_app().await;
    let d = app.discovery_document("demo").await;
    assert_eq!(d["client_id_metadata_document_supported"], true);
}
