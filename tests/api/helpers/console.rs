//! The console kit: a browser signed in to a console (`/admin/console` or
//! `/realms/{realm}/console`) through the realm's own login page, reading pages and
//! posting their forms with the session's CSRF token.

use super::*;

/// A browser with a console session.
pub struct ConsoleBrowser {
    pub agent: Agent,
    /// The CSRF token the console's forms carry.
    pub csrf: String,
}

/// The local URL of a URL under the public URL.
pub fn local(app: &TestApp, url: &str) -> String {
    app.url(url.strip_prefix(PUBLIC_URL).expect("a URL of this server"))
}

impl ConsoleBrowser {
    /// Signs `user` of `realm` in to the console at `home`: the console sends the browser
    /// to the realm's authorization endpoint, the login form answers with the code, the
    /// callback sets the session.
    pub async fn sign_in(app: &TestApp, home: &str, realm: &str, user: &str, pw: &str) -> Self {
        let mut agent = Agent::default();
        let res = agent.get(app, &app.url(&format!("{home}/"))).await;
        assert_eq!(
            res.status(),
            StatusCode::FOUND,
            "the console asks to sign in"
        );
        let to = header(&res, "location").unwrap();
        assert!(
            to.starts_with(&format!(
                "{PUBLIC_URL}/realms/{realm}/protocol/openid-connect/auth?client_id=tessera-console"
            )),
            "{to}"
        );
        assert!(to.contains("code_challenge_method=S256"), "{to}");
        let page = agent.get(app, &local(app, &to)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let state = hidden(&page.text().await.unwrap(), "state").expect("a login page");
        let res = agent
            .post(
                app,
                &app.url(&format!("/realms/{realm}/login-actions/authenticate")),
                &[("state", &state), ("username", user), ("password", pw)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in");
        let cb = header(&res, "location").unwrap();
        assert!(
            cb.starts_with(&format!("{PUBLIC_URL}{home}/callback?")),
            "{cb}"
        );
        let res = agent.get(app, &local(app, &cb)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(agent.cookies.contains_key("tessera_console"));
        let mut c = Self {
            agent,
            csrf: String::new(),
        };
        // The start page (or where it leads) carries the session's CSRF token.
        let (_, body) = c.follow(app, &format!("{home}/")).await;
        c.csrf = hidden(&body, "csrf").expect("a console page");
        c
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let res = self.agent.get(app, &app.url(path)).await;
        (res.status(), res.text().await.unwrap())
    }

    /// GETs `path` and follows the console's redirects within this server.
    pub async fn follow(&mut self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let mut url = app.url(path);
        for _ in 0..5 {
            let res = self.agent.get(app, &url).await;
            if res.status() != StatusCode::SEE_OTHER {
                return (res.status(), res.text().await.unwrap());
            }
            let to = header(&res, "location").unwrap();
            url = if to.starts_with('/') {
                app.url(&to)
            } else {
                local(app, &to)
            };
        }
        panic!("too many redirects from {path}");
    }

    /// Posts a console form with the session's CSRF token.
    pub async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Response {
        let mut f: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        f.extend_from_slice(form);
        self.agent.post(app, &app.url(path), &f).await
    }
}

/// The seeded realm administrator (`admin` of realm `master`) in the realm console.
pub async fn realm_admin(app: &TestApp) -> ConsoleBrowser {
    ConsoleBrowser::sign_in(
        app,
        "/admin/console",
        "master",
        "admin",
        &app.seeded("admin"),
    )
    .await
}

/// The seeded user `demo`, administrator of organization `acme` of realm `demo`, in the
/// realm's organization console.
pub async fn demo_org_admin(app: &TestApp) -> ConsoleBrowser {
    ConsoleBrowser::sign_in(
        app,
        "/realms/demo/console",
        "demo",
        "demo",
        &app.seeded("demo"),
    )
    .await
}
