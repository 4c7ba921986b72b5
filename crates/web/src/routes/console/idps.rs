//! Identity providers in the console. Realm administrators add one from its issuer URL
//! (the discovery document is read and shown before any secret is entered), try it with a
//! fresh sign-in, and turn it on or off; an organization's administrators see the
//! providers linked to their organization and which of its domains route to them.

use super::{Console, ConsoleForm, Layout, done, html, outcome};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_domain::{DiscoveryPreview, IdpAlias, IdpSettings, OrgAlias, UpstreamAuthMethod};
use tessera_oidc::admin::idps::{IdpDraft, IdpView};
use tessera_oidc::{OAuthError, Params};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let r = "/admin/console/realms/{realm}/identity-providers";
    cfg.route(r, web::get().to(list))
        .route(r, web::post().to(create))
        .route(&format!("{r}/preview"), web::post().to(preview))
        .route(&format!("{r}/{{alias}}"), web::get().to(detail))
        .route(
            &format!("{r}/{{alias}}/enabled"),
            web::post().to(set_enabled),
        )
        .route(&format!("{r}/{{alias}}/delete"), web::post().to(delete));
    for base in [
        "/admin/console/realms/{realm}/organizations/{org}",
        "/realms/{realm}/console/organizations/{org}",
    ] {
        cfg.route(
            &format!("{base}/identity-providers"),
            web::get().to(org_list),
        );
    }
}

fn path(req: &HttpRequest, name: &str) -> String {
    req.match_info().get(name).unwrap_or_default().to_owned()
}

fn base(realm: &str) -> String {
    format!("/admin/console/realms/{realm}/identity-providers")
}

/// A provider as the console lists and shows it.
struct IdpRow {
    alias: String,
    name: String,
    issuer: String,
    client_id: String,
    organization: Option<String>,
    domains: String,
    redirect_on_domain: bool,
    enabled: bool,
    sign_in: bool,
    trust_email: bool,
    create_users: bool,
    redirect_uri: String,
    logout_uri: String,
}

impl From<&IdpView> for IdpRow {
    fn from(v: &IdpView) -> Self {
        let s = &v.settings;
        Self {
            alias: s.alias.to_string(),
            name: s
                .display_name
                .clone()
                .unwrap_or_else(|| s.alias.to_string()),
            issuer: s.issuer.clone(),
            client_id: s.client_id.clone(),
            organization: v.organization.as_ref().map(ToString::to_string),
            domains: s
                .domains
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            redirect_on_domain: s.redirect_on_domain,
            enabled: s.enabled,
            sign_in: !s.token_only(),
            trust_email: s.trust_email,
            create_users: s.create_users,
            redirect_uri: v.redirect_uri.clone(),
            logout_uri: v.backchannel_logout_uri.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/idps.html")]
struct ListPage {
    layout: Layout,
    base: String,
    idps: Vec<IdpRow>,
    /// The realm console (it adds providers); an organization's page only lists them.
    manage: bool,
    preview: Option<DiscoveryPreview>,
}

fn list_page(
    c: &Console,
    layout: Layout,
    base: String,
    idps: &[IdpView],
    preview: Option<DiscoveryPreview>,
) -> HttpResponse {
    html(
        StatusCode::OK,
        ListPage {
            layout,
            base,
            idps: idps.iter().map(IdpRow::from).collect(),
            manage: matches!(c.home, tessera_oidc::console::ConsoleHome::Realms),
            preview,
        }
        .render(),
    )
}

async fn realm_page(
    c: &Console,
    state: &AppState,
    req: &HttpRequest,
    preview: Option<DiscoveryPreview>,
) -> HttpResponse {
    let realm = path(req, "realm");
    match state.provider.list_idps(&c.principal, &realm).await {
        Ok(idps) => {
            let layout = super::realm::realm_layout(c, req, &realm, "identity-providers");
            list_page(c, layout, base(&realm), &idps, preview)
        }
        Err(e) => c.fail(req, e, "/admin/console/realms"),
    }
}

async fn list(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    realm_page(&c, &state, &req, None).await
}

/// Reads the issuer's discovery document and shows it beside the form that adds it.
async fn preview(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = path(&req, "realm");
    let issuer = params.get("issuer").unwrap_or_default().trim().to_owned();
    match state
        .provider
        .preview_idp(&c.principal, &realm, &issuer)
        .await
    {
        Ok(p) => realm_page(&c, &state, &req, Some(p)).await,
        Err(e) => c.fail(&req, e, &base(&realm)),
    }
}

/// The settings a form describes, over `IdpSettings`' defaults.
fn draft(params: &Params) -> Result<(IdpDraft, Option<String>), OAuthError> {
    let text = |name: &str| params.get(name).unwrap_or_default().trim().to_owned();
    let alias = IdpAlias::parse(&text("alias"))?;
    let mut s = IdpSettings::new(alias, text("issuer"), text("client_id"));
    let name = text("display_name");
    s.display_name = (!name.is_empty()).then_some(name);
    s.auth_method = UpstreamAuthMethod::parse(&text("auth_method"))?;
    s.trust_email = params.get("trust_email") == Some("on");
    s.create_users = params.get("create_users") == Some("on");
    let org = text("organization");
    let organization = match org.is_empty() {
        true => None,
        false => Some(OrgAlias::parse(&org)?),
    };
    let secret = Some(text("client_secret")).filter(|s| !s.is_empty());
    Ok((
        IdpDraft {
            settings: s,
            organization,
        },
        secret,
    ))
}

async fn create(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = path(&req, "realm");
    let created = async {
        let (draft, secret) = draft(&params)?;
        state
            .provider
            .create_idp(&c.principal, &realm, draft, secret.as_deref())
            .await
    }
    .await;
    match created {
        Ok(v) => done(&format!("{}/{}", base(&realm), v.settings.alias), "created"),
        Err(e) => c.fail(&req, e, &base(&realm)),
    }
}

#[derive(Template)]
#[template(path = "console/idp.html")]
struct DetailPage {
    layout: Layout,
    base: String,
    idp: IdpRow,
    test_url: String,
}

fn alias_of(req: &HttpRequest) -> Result<IdpAlias, OAuthError> {
    IdpAlias::parse(&path(req, "alias"))
        .map_err(|_| OAuthError::NotFound("identity provider".into()))
}

async fn detail(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = path(&req, "realm");
    let loaded = async {
        let alias = alias_of(&req)?;
        state.provider.get_idp(&c.principal, &realm, &alias).await
    }
    .await;
    match loaded {
        Ok(v) => {
            let mut layout = super::realm::realm_layout(&c, &req, &realm, "identity-providers");
            let idp = IdpRow::from(&v);
            layout.title = format!("Identity provider {}", idp.name);
            html(
                StatusCode::OK,
                DetailPage {
                    layout,
                    base: base(&realm),
                    test_url: format!("/realms/{realm}/console/sign-in/{}", idp.alias),
                    idp,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, &base(&realm)),
    }
}

/// Turns a provider on or off; every other setting, and the stored secret, stay.
async fn set_enabled(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = path(&req, "realm");
    let back = format!("{}/{}", base(&realm), path(&req, "alias"));
    let p = &state.provider;
    let res = async {
        let alias = alias_of(&req)?;
        let v = p.get_idp(&c.principal, &realm, &alias).await?;
        let mut settings = v.settings;
        settings.enabled = params.get("enabled") == Some("on");
        let draft = IdpDraft {
            settings,
            organization: v.organization,
        };
        p.update_idp(&c.principal, &realm, draft, None).await
    }
    .await;
    outcome(&c, &req, res, &back, "saved")
}

async fn delete(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = path(&req, "realm");
    let res = async {
        let alias = alias_of(&req)?;
        state
            .provider
            .delete_idp(&c.principal, &realm, &alias)
            .await
    }
    .await;
    match res {
        Ok(()) => done(&base(&realm), "removed"),
        Err(e) => c.fail(&req, e, &base(&realm)),
    }
}

/// An organization's providers and the domains that route to them.
async fn org_list(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (realm, org) = (path(&req, "realm"), path(&req, "org"));
    let page_base = req
        .path()
        .trim_end_matches("/identity-providers")
        .to_owned();
    let p = &state.provider;
    let loaded = async {
        let (o, _) = p.get_org(&c.principal, &realm, &org).await?;
        let idps = p.org_idps(&c.principal, &realm, &org).await?;
        Ok::<_, OAuthError>((o, idps))
    }
    .await;
    match loaded {
        Ok((o, idps)) => {
            let layout =
                super::org::org_layout(&c, &req, &realm, &o.name, &page_base, "identity-providers");
            list_page(&c, layout, base(&realm), &idps, None)
        }
        Err(e) => c.fail(&req, e, &page_base),
    }
}
