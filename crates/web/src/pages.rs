//! What every page says about itself: a Content-Security-Policy that allows only our own
//! scripts and styles and forms to this server (plus, for the pages of an authorization
//! flow, the client the flow ends at), no framing, and no referrer, so tokens in a page's
//! URL (invitation links) never leave in a `Referer`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// Swagger UI styles its elements inline; nothing else is relaxed.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// JSON and other non-pages: only the framing rule matters.
const API_CSP: &str = "frame-ancestors 'none'";

/// The policy of a page whose form, or the redirect that answers it, leads to the client
/// at `redirect_uri` (a registered URI: an origin, or a private-use scheme).
pub fn csp_for_client(redirect_uri: &str) -> String {
    let source = match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => return PAGE_CSP.to_owned(),
    };
    PAGE_CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {source}"),
    )
}

/// [`csp_for_client`], with the origins of upstream providers the page may send the
/// browser to.
pub fn csp_for_flow(redirect_uri: &str, upstreams: &[&str]) -> String {
    let csp = csp_for_client(redirect_uri);
    let extra: Vec<&str> = upstreams
        .iter()
        .copied()
        .filter(|o| o.starts_with("https://") || o.starts_with("http://"))
        .collect();
    if extra.is_empty() {
        return csp;
    }
    csp.replacen(
        "form-action 'self'",
        &format!("form-action 'self' {}", extra.join(" ")),
        1,
    )
}

/// `csp` with the origins of a realm's or organization's logos added to `img-src`, and
/// nothing else: logos are https URLs the administrator chose (`LogoUri`), so only those
/// hosts, never `https:` at large.
pub fn with_images(csp: &str, origins: &[String]) -> String {
    if origins.is_empty() {
        return csp.to_owned();
    }
    csp.replacen(
        "img-src 'self' data:",
        &format!("img-src 'self' data: {}", origins.join(" ")),
        1,
    )
}

/// Sets `Referrer-Policy` on every response and the policy that fits it where the handler
/// set none.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let docs = req.path().starts_with("/admin/docs");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let html = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html"));
        let csp = match (docs, html) {
            (true, _) => DOCS_CSP,
            (false, true) => PAGE_CSP,
            (false, false) => API_CSP,
        };
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_pages_may_post_to_us_and_to_the_clients_origin_only() {
        let csp = csp_for_client("https://app.example:8443/cb?x=1");
        assert!(csp.contains("form-action 'self' https://app.example:8443;"));
        assert!(
            csp_for_client("com.example.app:/cb").contains("form-action 'self' com.example.app:;")
        );
        assert!(csp.contains("script-src 'self';") && csp.contains("base-uri 'none'"));
    }

    #[test]
    fn logos_open_img_src_to_their_own_origins_only() {
        let csp = with_images(PAGE_CSP, &["https://cdn.example".into()]);
        assert!(csp.contains("img-src 'self' data: https://cdn.example;"));
        assert!(!csp.contains("https:;") && csp.contains("script-src 'self';"));
        assert_eq!(with_images(PAGE_CSP, &[]), PAGE_CSP);
    }
}
