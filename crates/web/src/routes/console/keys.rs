//! Scoped admin keys in the console: a realm's (`/admin/console/realms/{realm}/admin-keys`)
//! and an organization's (`…/organizations/{org}/admin-keys`, in both consoles). Minting
//! answers with the key on that response only; the list never shows one.

use super::{Console, ConsoleForm, Layout, done, html, utc};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_oidc::OAuthError;
use tessera_oidc::admin::admin_keys::NewAdminKey;

pub(super) fn configure(cfg: &mut web::ServiceConfig, base: &str) {
    cfg.route(&format!("{base}/admin-keys"), web::get().to(list))
        .route(&format!("{base}/admin-keys"), web::post().to(mint))
        .route(
            &format!("{base}/admin-keys/{{id}}/revoke"),
            web::post().to(revoke),
        );
}

struct KeyRow {
    id: String,
    name: String,
    rights: &'static str,
    expires: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "console/admin_keys.html")]
struct KeysPage {
    layout: Layout,
    base: String,
    org_scoped: bool,
    keys: Vec<KeyRow>,
    minted: Option<String>,
    minted_id: String,
    public_key: String,
}

/// The realm, the organization (if the path names one), and the page's base path.
fn scope(req: &HttpRequest) -> (String, Option<String>, String) {
    let p = req.match_info();
    let realm = p.get("realm").unwrap_or_default().to_owned();
    let org = p.get("org").map(str::to_owned);
    let path = req.path();
    let base = path[..path.rfind("/admin-keys").unwrap_or(path.len())].to_owned();
    (realm, org, base)
}

async fn page(
    state: &AppState,
    c: &Console,
    req: &HttpRequest,
    minted: Option<(String, String)>,
) -> HttpResponse {
    let (realm, org, base) = scope(req);
    let p = &state.provider;
    let loaded = async {
        let keys = p
            .list_admin_keys(&c.principal, &realm, org.as_deref())
            .await?;
        let public_key = p
            .admin_key_public_key(&c.principal, &realm, org.as_deref())
            .await?;
        let layout = match &org {
            Some(o) => {
                let (org, _) = p.get_org(&c.principal, &realm, o).await?;
                super::org::org_layout(c, req, &realm, &org.name, &base, "admin-keys")
            }
            None => super::realm::realm_layout(c, req, &realm, "admin-keys"),
        };
        Ok::<_, OAuthError>((keys, public_key, layout))
    }
    .await;
    let (keys, public_key, layout) = match loaded {
        Ok(x) => x,
        Err(e) => return c.fail(req, e, &base),
    };
    let keys = keys
        .into_iter()
        .map(|k| KeyRow {
            name: k.name.unwrap_or_else(|| "unnamed".into()),
            rights: if k.read_only {
                "read"
            } else {
                "read and write"
            },
            expires: k
                .expires_at
                .map(|t| utc(t.0))
                .unwrap_or_else(|| "never".into()),
            revoked: k.revoked_at.is_some(),
            id: k.revocation_id,
        })
        .collect();
    let (minted, minted_id) = match minted {
        Some((key, id)) => (Some(key), id),
        None => (None, String::new()),
    };
    html(
        StatusCode::OK,
        KeysPage {
            layout,
            base,
            org_scoped: org.is_some(),
            keys,
            minted,
            minted_id,
            public_key,
        }
        .render(),
    )
}

async fn list(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    page(&state, &c, &req, None).await
}

async fn mint(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org, base) = scope(&req);
    let res = async {
        let expires_in = match params.get("expires_in").map(str::trim).unwrap_or_default() {
            "" => None,
            n => Some(n.parse::<u64>().map_err(|_| {
                OAuthError::invalid_request("expires in must be a number of seconds")
            })?),
        };
        let new = NewAdminKey {
            read_only: params.get("read_only") == Some("on"),
            expires_in,
            name: params
                .get("name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        };
        state
            .provider
            .mint_admin_key(&c.principal, &realm, org.as_deref(), new)
            .await
    }
    .await;
    match res {
        Ok(m) => page(&state, &c, &req, Some((m.key, m.record.revocation_id))).await,
        Err(e) => c.fail(&req, e, &format!("{base}/admin-keys")),
    }
}

async fn revoke(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org, _) = scope(&req);
    let id = req.match_info().get("id").unwrap_or_default().to_owned();
    let path = req.path();
    let back = path[..path.rfind('/').unwrap_or(0)]
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or_default();
    match state
        .provider
        .revoke_admin_key(&c.principal, &realm, org.as_deref(), &id)
        .await
    {
        Ok(()) => done(&back, "revoked"),
        Err(e) => c.fail(&req, e, &back),
    }
}
