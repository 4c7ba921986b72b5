//! The person's side of a request approved elsewhere (device grant, CIBA): signing in on
//! the approval pages, typing a user code, answering.

use super::*;
use reqwest::StatusCode;

/// Signs `agent` in at `url` (one of the approval pages) as `user` when asked: the page.
pub async fn open_signed_in(
    app: &TestApp,
    agent: &mut Agent,
    r: &str,
    url: &str,
    user: &str,
) -> (StatusCode, String) {
    let res = follow(app, agent, url).await;
    let status = res.status();
    let body = res.text().await.unwrap();
    if hidden(&body, "state").is_none() || !body.contains("password") {
        return (status, body);
    }
    let res = submit_login(app, agent, r, &body, user, PW).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in");
    let res = follow(
        app,
        agent,
        &local_url(app, &header(&res, "location").unwrap()),
    )
    .await;
    let status = res.status();
    (status, res.text().await.unwrap())
}

/// Types `code` on the verification page: the answer.
pub async fn enter_code(
    app: &TestApp,
    agent: &mut Agent,
    r: &str,
    page: &str,
    code: &str,
) -> reqwest::Response {
    let csrf = hidden(page, "csrf").expect("the code page");
    agent
        .post(
            app,
            &app.url(&format!("/realms/{r}/device")),
            &[("csrf", &csrf), ("user_code", code)],
        )
        .await
}

/// Answers an approval page.
pub async fn decide(
    app: &TestApp,
    agent: &mut Agent,
    r: &str,
    page: &str,
    decision: &str,
) -> reqwest::Response {
    let (csrf, ticket) = (
        hidden(page, "csrf").unwrap(),
        hidden(page, "ticket").expect("an approval page"),
    );
    agent
        .post(
            app,
            &app.url(&format!("/realms/{r}/device/decide")),
            &[("csrf", &csrf), ("ticket", &ticket), ("decision", decision)],
        )
        .await
}

/// Approves the device request of `code` as `user` (password [`PW`]) through the pages.
pub async fn approve_user_code(app: &TestApp, r: &str, user: &str, code: &str) {
    let mut agent = Agent::default();
    let (_, page) = open_signed_in(
        app,
        &mut agent,
        r,
        &app.url(&format!("/realms/{r}/device")),
        user,
    )
    .await;
    let res = enter_code(app, &mut agent, r, &page, code).await;
    let page = expect_status(res, StatusCode::OK).await;
    let res = decide(app, &mut agent, r, &page, "allow").await;
    let done = expect_status(res, StatusCode::OK).await;
    assert!(done.contains("Allowed"), "{done}");
}
