//! The people's own pages (the account page, the approval of requests made on another
//! device) speak for whoever the realm's browser session names; without one the browser
//! signs in through the pages' built-in client and comes back to the page it asked for.

use crate::AppState;
use crate::routes::browser::{cookies, realm_error_page};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use tessera_oidc::OAuthError;
use tessera_oidc::interaction::account::Person;
use tessera_oidc::interaction::builtin_client::{PENDING_LIFETIME_SECS, PersonPages};

fn cookie_name(pages: PersonPages) -> &'static str {
    match pages {
        PersonPages::Account => "tessera_account_login",
        PersonPages::Device => "tessera_device_login",
    }
}

pub(crate) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn pending_cookie<'a>(
    state: &AppState,
    realm: &str,
    pages: PersonPages,
    value: String,
) -> Cookie<'a> {
    Cookie::build(cookie_name(pages), value)
        .path(pages.home(realm))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.provider.public_url_is_https())
        .finish()
}

/// The signed-in person, or the response that signs the browser in (a GET) or sends it
/// back to the pages' start (a post whose session has ended).
pub(crate) async fn person(
    state: &AppState,
    req: &HttpRequest,
    realm: &str,
    pages: PersonPages,
) -> Result<Person, HttpResponse> {
    let c = cookies(req);
    match state
        .provider
        .account_person(realm, c.session_token())
        .await
    {
        Ok(Some(p)) => Ok(p),
        Ok(None) if req.method() == actix_web::http::Method::GET => {
            let back = match req.query_string() {
                "" => req.path().to_owned(),
                q => format!("{}?{q}", req.path()),
            };
            match state.provider.pages_login(pages, realm, &back).await {
                Ok(start) => {
                    let mut cookie = pending_cookie(state, realm, pages, start.pending);
                    cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
                        PENDING_LIFETIME_SECS,
                    ));
                    Err(HttpResponse::Found()
                        .insert_header((header::LOCATION, start.authorize_url))
                        .insert_header((header::CACHE_CONTROL, "no-store"))
                        .cookie(cookie)
                        .finish())
                }
                Err(e) => Err(realm_error_page(state, realm, &e).await),
            }
        }
        Ok(None) => Err(see_other(&pages.home(realm))),
        Err(e) => Err(realm_error_page(state, realm, &e).await),
    }
}

/// The built-in client's callback: the code redeemed, back to the page that asked.
pub(crate) async fn callback(
    state: &AppState,
    realm: &str,
    req: &HttpRequest,
    pages: PersonPages,
) -> HttpResponse {
    let q = crate::routes::console::query(req);
    if q.contains_key("error") {
        let e = OAuthError::AccessDenied("the sign-in did not complete".into());
        return realm_error_page(state, realm, &e).await;
    }
    let pending = req.cookie(cookie_name(pages)).map(|c| c.value().to_owned());
    let finished = state
        .provider
        .pages_callback(
            pages,
            realm,
            pending.as_deref(),
            q.get("state").map(String::as_str),
            q.get("code").map(String::as_str),
        )
        .await;
    match finished {
        Ok(back) => {
            let mut res = see_other(&back);
            let _ = res.add_removal_cookie(&pending_cookie(state, realm, pages, String::new()));
            res
        }
        Err(e) => realm_error_page(state, realm, &e).await,
    }
}
