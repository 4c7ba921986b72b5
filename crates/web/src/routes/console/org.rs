//! An organization's pages, the same for both consoles: a realm administrator reaches
//! them under `/admin/console/realms/{realm}/organizations/{org}`, the organization's own
//! administrators under `/realms/{realm}/console/organizations/{org}`. Another
//! organization's pages are 404 (the principal decides).

use super::{Console, ConsoleForm, Layout, done, html, outcome, query, utc};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_domain::{
    ConsoleSession, DomainName, Email, InvitationId, Membership, OrgDomain, OrgRoleName, UserId,
};
use tessera_oidc::OAuthError;
use tessera_oidc::admin::domains::DomainRow;
use tessera_oidc::console::views::{MembersView, PAGE, next_cursor};

pub(super) fn configure(cfg: &mut web::ServiceConfig, base: &str) {
    cfg.route(base, web::get().to(org_root))
        .route(&format!("{base}/members"), web::get().to(members))
        .route(
            &format!("{base}/members/{{user}}/roles"),
            web::post().to(set_roles),
        )
        .route(
            &format!("{base}/members/{{user}}/remove"),
            web::post().to(remove_member),
        )
        .route(&format!("{base}/invitations"), web::get().to(invitations))
        .route(&format!("{base}/invitations"), web::post().to(invite))
        .route(
            &format!("{base}/invitations/{{id}}/{{action}}"),
            web::post().to(invitation_action),
        )
        .route(&format!("{base}/domains"), web::get().to(domains))
        .route(&format!("{base}/domains"), web::post().to(add_domain))
        .route(
            &format!("{base}/domains/{{domain}}/remove"),
            web::post().to(remove_domain),
        )
        .route(
            &format!("{base}/domains/{{domain}}/verify"),
            web::post().to(verify_domain),
        )
        .route(&format!("{base}/events"), web::get().to(events))
        .route(&format!("{base}/profile"), web::get().to(profile))
        .route(&format!("{base}/profile"), web::post().to(save_profile))
        .route(&format!("{base}/delete"), web::post().to(delete_org));
}

/// The path of the organization's pages in the console the request came through.
fn org_base(c: &Console, realm: &str, org: &str) -> String {
    match c.home {
        tessera_oidc::console::ConsoleHome::Realms => {
            format!("/admin/console/realms/{realm}/organizations/{org}")
        }
        tessera_oidc::console::ConsoleHome::Orgs(_) => {
            format!("/realms/{realm}/console/organizations/{org}")
        }
    }
}

fn path(req: &HttpRequest) -> (String, String) {
    let p = req.match_info();
    (
        p.get("realm").unwrap_or_default().to_owned(),
        p.get("org").unwrap_or_default().to_owned(),
    )
}

/// The frame of an organization page: its sections, the current one marked.
pub(super) fn org_layout(
    c: &Console,
    req: &HttpRequest,
    realm: &str,
    org_name: &str,
    base: &str,
    section: &str,
) -> Layout {
    const SECTIONS: [(&str, &str); 8] = [
        ("profile", "Profile"),
        ("members", "Members"),
        ("invitations", "Invitations"),
        ("domains", "Domains"),
        ("identity-providers", "Identity providers"),
        ("clients", "Clients"),
        ("admin-keys", "Admin keys"),
        ("events", "Audit log"),
    ];
    let mut l = c.sectioned(req, &SECTIONS, base, section);
    l.realm = Some(realm.to_owned());
    l.realm_href = match c.home {
        tessera_oidc::console::ConsoleHome::Realms => {
            format!("/admin/console/realms/{realm}/organizations")
        }
        tessera_oidc::console::ConsoleHome::Orgs(_) => format!("/realms/{realm}/console/"),
    };
    l.org_name = Some(org_name.to_owned());
    l
}

#[derive(Template)]
#[template(path = "console/org_home.html")]
struct HomePage {
    layout: Layout,
    orgs: Vec<Membership>,
}

/// An organization console's start: straight to the one organization the person
/// administers, else the list to choose from (or why there is none).
pub(super) async fn home(state: &AppState, req: &HttpRequest, s: ConsoleSession) -> HttpResponse {
    let orgs = match state.provider.administered_orgs(&s).await {
        Ok(o) => o,
        Err(e) => return crate::routes::browser::error_page(&e),
    };
    let home = super::home_of(req);
    if let [one] = orgs.as_slice() {
        return super::see_other(&format!(
            "{}/organizations/{}/members",
            home.path(),
            one.alias
        ));
    }
    let user = match state.provider.console_user(&s).await {
        Ok(u) => u.username.to_string(),
        Err(e) => return crate::routes::browser::error_page(&e),
    };
    let layout = Layout {
        title: "Your organizations".into(),
        home: home.path(),
        realm: Some(home.realm().to_owned()),
        realm_href: format!("{}/", home.path()),
        org_name: None,
        user,
        csrf: s.csrf.clone(),
        nav: vec![],
        notice: None,
        error: None,
    };
    html(StatusCode::OK, HomePage { layout, orgs }.render())
}

async fn org_root(req: HttpRequest) -> HttpResponse {
    super::see_other(&format!("{}/members", req.path().trim_end_matches('/')))
}

#[derive(Template)]
#[template(path = "console/members.html")]
struct MembersPage {
    layout: Layout,
    org_base: String,
    view: MembersView,
    q: String,
}

async fn members(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (realm, org) = path(&req);
    let q = query(&req);
    let search = q.get("q").cloned().unwrap_or_default();
    let view = state
        .provider
        .members_view(
            &c.principal,
            &realm,
            &org,
            Some(search.as_str()).filter(|s| !s.is_empty()),
            q.get("after").map(String::as_str),
        )
        .await;
    let base = org_base(&c, &realm, &org);
    match view {
        Ok(view) => {
            let layout = org_layout(&c, &req, &realm, &view.org.name, &base, "members");
            html(
                StatusCode::OK,
                MembersPage {
                    layout,
                    org_base: base,
                    view,
                    q: search,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, &format!("{base}/members")),
    }
}

fn roles_of(params: &tessera_oidc::Params) -> Result<Vec<OrgRoleName>, OAuthError> {
    params
        .get_all("role")
        .map(|r| OrgRoleName::parse(r).map_err(OAuthError::from))
        .collect()
}

fn member_id(req: &HttpRequest) -> Option<UserId> {
    req.match_info()
        .get("user")
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
        .map(UserId)
}

async fn set_roles(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let back = format!("{}/members", org_base(&c, &realm, &org));
    let Some(user) = member_id(&req) else {
        return crate::routes::browser::not_found_page();
    };
    let res = match roles_of(&params) {
        Ok(roles) => {
            state
                .provider
                .set_org_member_roles(&c.principal, &realm, &org, user, roles)
                .await
        }
        Err(e) => Err(e),
    };
    outcome(&c, &req, res, &back, "saved")
}

async fn remove_member(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let back = format!("{}/members", org_base(&c, &realm, &org));
    let Some(user) = member_id(&req) else {
        return crate::routes::browser::not_found_page();
    };
    match state
        .provider
        .remove_org_member(&c.principal, &realm, &org, user)
        .await
    {
        Ok(()) => done(&back, "removed"),
        Err(e) => c.fail(&req, e, &back),
    }
}

/// An invitation as its list shows it (never its link).
struct InvitationRow {
    id: String,
    email: String,
    roles: String,
    status: &'static str,
    pending: bool,
    expires: String,
}

#[derive(Template)]
#[template(path = "console/invitations.html")]
struct InvitationsPage {
    layout: Layout,
    org_base: String,
    invitations: Vec<InvitationRow>,
    next: Option<String>,
}

async fn invitations(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (realm, org) = path(&req);
    let base = org_base(&c, &realm, &org);
    let q = query(&req);
    let loaded = async {
        let (o, _) = state.provider.get_org(&c.principal, &realm, &org).await?;
        let list = state
            .provider
            .list_invitations(
                &c.principal,
                &realm,
                &org,
                q.get("after").map(String::as_str),
                Some(PAGE),
            )
            .await?;
        Ok::<_, OAuthError>((o, list))
    }
    .await;
    let (o, list) = match loaded {
        Ok(x) => x,
        Err(e) => return c.fail(&req, e, &base),
    };
    let now = state.provider.clock().now();
    let next = next_cursor(&list, |i| i.id.to_string());
    let invitations = list
        .iter()
        .map(|i| {
            let status = i.status_at(now);
            InvitationRow {
                id: i.id.to_string(),
                email: i.email.to_string(),
                roles: i
                    .roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                status: status.as_str(),
                pending: status == tessera_domain::InvitationStatus::Pending,
                expires: utc(i.expires_at.0),
            }
        })
        .collect();
    let layout = org_layout(&c, &req, &realm, &o.name, &base, "invitations");
    html(
        StatusCode::OK,
        InvitationsPage {
            layout,
            org_base: base,
            invitations,
            next,
        }
        .render(),
    )
}

async fn invite(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let base = org_base(&c, &realm, &org);
    let res = async {
        let email = Email::parse(params.get("email").unwrap_or_default())?;
        let roles = roles_of(&params)?;
        state
            .provider
            .create_invitation(&c.principal, &realm, &org, email, roles, None)
            .await
    }
    .await;
    match res {
        // The link went by e-mail; a realm without SMTP refuses an organization
        // administrator, and the console never shows a link either way.
        Ok(_) => done(&format!("{base}/invitations"), "invited"),
        Err(e) => c.fail(&req, e, &format!("{base}/members")),
    }
}

async fn invitation_action(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let back = format!("{}/invitations", org_base(&c, &realm, &org));
    let Some(id) = req
        .match_info()
        .get("id")
        .and_then(|i| uuid::Uuid::parse_str(i).ok())
        .map(InvitationId)
    else {
        return crate::routes::browser::not_found_page();
    };
    let p = &state.provider;
    let res = match req.match_info().get("action") {
        Some("resend") => p
            .resend_invitation(&c.principal, &realm, &org, id, None)
            .await
            .map(|_| "resent"),
        Some("revoke") => p
            .revoke_invitation(&c.principal, &realm, &org, id)
            .await
            .map(|_| "revoked"),
        _ => return crate::routes::browser::not_found_page(),
    };
    match res {
        Ok(notice) => done(&back, notice),
        Err(e) => c.fail(&req, e, &back),
    }
}

#[derive(Template)]
#[template(path = "console/domains.html")]
struct DomainsPage {
    layout: Layout,
    org_base: String,
    rows: Vec<DomainRow>,
}

async fn domains(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (realm, org) = path(&req);
    let base = org_base(&c, &realm, &org);
    match state
        .provider
        .org_domain_rows(&c.principal, &realm, &org)
        .await
    {
        Ok((o, rows)) => {
            let layout = org_layout(&c, &req, &realm, &o.name, &base, "domains");
            html(
                StatusCode::OK,
                DomainsPage {
                    layout,
                    org_base: base,
                    rows,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, &base),
    }
}

async fn add_domain(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let back = format!("{}/domains", org_base(&c, &realm, &org));
    let res = async {
        let name = DomainName::parse(params.get("domain").unwrap_or_default().trim())?;
        state
            .provider
            .put_org_domain(
                &c.principal,
                &realm,
                &org,
                OrgDomain {
                    name,
                    verified: false,
                },
            )
            .await
    }
    .await;
    outcome(&c, &req, res, &back, "created")
}

async fn remove_domain(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let back = format!("{}/domains", org_base(&c, &realm, &org));
    let domain = req
        .match_info()
        .get("domain")
        .unwrap_or_default()
        .to_owned();
    match state
        .provider
        .delete_org_domain(&c.principal, &realm, &org, &domain)
        .await
    {
        Ok(()) => done(&back, "removed"),
        Err(e) => c.fail(&req, e, &back),
    }
}

/// Checks the domain's TXT record now.
async fn verify_domain(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let back = format!("{}/domains", org_base(&c, &realm, &org));
    let domain = req
        .match_info()
        .get("domain")
        .unwrap_or_default()
        .to_owned();
    match state
        .provider
        .verify_org_domain(&c.principal, &realm, &org, &domain)
        .await
    {
        Ok(true) => done(&back, "verified"),
        Ok(false) => c.fail(
            &req,
            OAuthError::Conflict(
                "the TXT record is not there yet (or holds another value); DNS changes can take \
                 a few minutes to appear"
                    .into(),
            ),
            &back,
        ),
        Err(e) => c.fail(&req, e, &back),
    }
}

async fn events(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (realm, org) = path(&req);
    let base = org_base(&c, &realm, &org);
    let filter = match super::realm::audit_filter(&req) {
        Ok(f) => f,
        Err(e) => return c.fail(&req, e, &format!("{base}/events")),
    };
    match state
        .provider
        .org_events(&c.principal, &realm, &org, filter)
        .await
    {
        Ok((o, events)) => {
            let layout = org_layout(&c, &req, &realm, &o.name, &base, "events");
            super::realm::events_page(layout, &req, events)
        }
        Err(e) => c.fail(&req, e, &base),
    }
}

#[derive(Template)]
#[template(path = "console/org_profile.html")]
struct ProfilePage {
    layout: Layout,
    base: String,
    org: tessera_domain::Organization,
    attributes: String,
    /// A realm administrator: may change the status and delete the organization.
    realm_admin: bool,
}

async fn profile(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (realm, org) = path(&req);
    let base = org_base(&c, &realm, &org);
    match state.provider.get_org(&c.principal, &realm, &org).await {
        Ok((org, _)) => {
            let layout = org_layout(&c, &req, &realm, &org.name, &base, "profile");
            html(
                StatusCode::OK,
                ProfilePage {
                    layout,
                    base,
                    attributes: serde_json::to_string_pretty(&org.attributes).unwrap_or_default(),
                    realm_admin: matches!(c.home, tessera_oidc::console::ConsoleHome::Realms),
                    org,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, &base),
    }
}

/// Saves the profile. An organization's administrators change what it shows people;
/// status and attributes (which tokens may carry) only from the realm console.
async fn save_profile(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    let base = org_base(&c, &realm, &org);
    let p = &state.provider;
    let res = async {
        let text = |name: &str| params.get(name).map(|v| v.trim().to_owned());
        let logo_uri = text("logo_uri")
            .map(|l| tessera_domain::LogoUri::parse(&l))
            .transpose()?;
        let name = text("name").unwrap_or_default();
        let description = text("description");
        if let tessera_oidc::console::ConsoleHome::Orgs(_) = c.home {
            return p
                .update_org_profile(&c.principal, &realm, &org, name, description, logo_uri)
                .await;
        }
        let (old, _) = p.get_org(&c.principal, &realm, &org).await?;
        let attributes = match text("attributes") {
            None => Default::default(),
            Some(a) => serde_json::from_str(&a)
                .map_err(|_| OAuthError::invalid_request("attributes must be a JSON object"))?,
        };
        let o = tessera_domain::NewOrganization {
            name,
            description,
            enabled: params.get("enabled") == Some("on"),
            attributes,
            logo_uri,
            alias: old.alias,
            external_id: old.external_id,
        };
        p.update_org(&c.principal, &realm, &org, o).await
    }
    .await;
    outcome(&c, &req, res, &format!("{base}/profile"), "saved")
}

/// Deletes the organization (realm administrators only): its managed members' accounts
/// go with it, other members are unlinked.
async fn delete_org(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org) = path(&req);
    match state.provider.delete_org(&c.principal, &realm, &org).await {
        Ok(()) => done(
            &format!("/admin/console/realms/{realm}/organizations"),
            "removed",
        ),
        Err(e) => c.fail(&req, e, &format!("{}/profile", org_base(&c, &realm, &org))),
    }
}
