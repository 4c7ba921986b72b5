//! The browser kit: [`Agent`], a cookie-keeping browser, and what a browser reads off and
//! checks on the server's HTML pages (hidden fields, form actions, framing).

use super::*;
use reqwest::{Method, Response, StatusCode};
use std::collections::{BTreeMap, HashMap};

/// A test browser: keeps cookies by name (ignoring their `Path`, so it also shows what a
/// server does with a cookie of another realm) and adds `headers` to every request.
#[derive(Default, Clone)]
pub struct Agent {
    pub cookies: BTreeMap<String, String>,
    pub headers: Vec<(String, String)>,
}

impl Agent {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: &Response) {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            let removed = val.is_empty() || v.to_ascii_lowercase().contains("max-age=0");
            if removed {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().to_owned(), val.to_owned());
            }
        }
    }

    fn request(&self, app: &TestApp, method: Method, url: &str) -> reqwest::RequestBuilder {
        let mut req = app.http.request(method, url);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req
    }

    pub async fn get(&mut self, app: &TestApp, url: &str) -> Response {
        let res = self.request(app, Method::GET, url).send().await.unwrap();
        self.keep(&res);
        res
    }

    pub async fn post(&mut self, app: &TestApp, url: &str, form: &[(&str, &str)]) -> Response {
        let res = self
            .request(app, Method::POST, url)
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }
}

/// Decodes the HTML character references askama emits (named and numeric).
pub fn html_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The (unescaped) value of the first `<input … name="{name}" value="…">` in a page.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let pat = format!("name=\"{name}\" value=\"");
    let i = page.find(&pat)? + pat.len();
    Some(html_unescape(&page[i..i + page[i..].find('"')?]))
}

/// Every hidden field of a page, by name (values unescaped).
pub fn form_params(page: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = page;
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + 27..];
        let name = &rest[..rest.find('"').unwrap()];
        out.insert(name.to_owned(), hidden(page, name).unwrap());
    }
    out
}

/// The `action` of the first form in a page, unescaped.
pub fn form_action(page: &str) -> String {
    let i = page.find("action=\"").expect("a form") + 8;
    html_unescape(&page[i..i + page[i..].find('"').unwrap()])
}

/// Pages must not be framed (RFC 9700 §4.16) nor cached.
pub fn assert_unframeable(res: &Response, what: &str) {
    assert_eq!(
        header(res, "x-frame-options").as_deref(),
        Some("DENY"),
        "{what}"
    );
    let csp = header(res, "content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'") || csp.contains("frame-ancestors 'self'"),
        "{what}: CSP {csp:?}"
    );
}

/// An error page: 4xx HTML, never a redirect (RFC 6749 §4.1.2.1), unframeable. Returns the body.
pub async fn assert_error_page(res: Response, what: &str) -> String {
    assert_error_page_with(res, what, StatusCode::is_client_error).await
}

/// [`assert_error_page`] with a status that `allowed` (e.g. 502 for a server we depend on).
pub async fn assert_error_page_with(
    res: Response,
    what: &str,
    allowed: impl Fn(&StatusCode) -> bool,
) -> String {
    assert!(allowed(&res.status()), "{what}: status {}", res.status());
    assert!(
        res.headers().get("location").is_none(),
        "{what}: redirected to {:?}",
        header(&res, "location")
    );
    assert!(
        header(&res, "content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{what}"
    );
    assert_unframeable(&res, what);
    assert_no_store(&res);
    res.text().await.unwrap()
}

/// The local URL of a URL this server sent (absolute under its public URL, or a path).
pub fn local_url(app: &TestApp, to: &str) -> String {
    if to.starts_with('/') {
        app.url(to)
    } else if let Some(path) = to.strip_prefix(PUBLIC_URL) {
        app.url(path)
    } else {
        to.to_owned()
    }
}

/// GETs `url` and follows this server's redirects: the final response.
pub async fn follow(app: &TestApp, agent: &mut Agent, url: &str) -> reqwest::Response {
    let mut url = url.to_owned();
    for _ in 0..6 {
        let res = agent.get(app, &url).await;
        if !res.status().is_redirection() {
            return res;
        }
        url = local_url(app, &header(&res, "location").unwrap());
    }
    panic!("too many redirects");
}

/// Submits the realm's login page `page` as `user` with `pw`: the server's answer.
pub async fn submit_login(
    app: &TestApp,
    agent: &mut Agent,
    realm: &str,
    page: &str,
    user: &str,
    pw: &str,
) -> reqwest::Response {
    let state = hidden(page, "state").expect("a login page");
    agent
        .post(
            app,
            &app.url(&format!("/realms/{realm}/login-actions/authenticate")),
            &[("state", &state), ("username", user), ("password", pw)],
        )
        .await
}
