//! The realm administrators' pages under `/admin/console/realms`: realms, and in each
//! realm its organizations, users, clients, signing keys and audit log.

use super::{Console, ConsoleForm, Layout, done, html, outcome, query, utc};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_domain::{
    AuditEvent, AuditKind, Email, Membership, NewOrganization, NewUser, OrgAlias, Realm,
    RealmSettings, RegistrationMode, SigningAlg, SmtpSecurity, SmtpSettings, User, UserId,
    Username,
};
use tessera_oidc::OAuthError;
use tessera_oidc::admin::audit::AuditFilter;
use tessera_oidc::admin::exchange::ExchangeFilter;
use tessera_oidc::admin::smtp::SmtpView;
use tessera_oidc::console::views::{PAGE, next_cursor};

const BASE: &str = "/admin/console/realms";

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let r = "/admin/console/realms/{realm}";
    cfg.route(BASE, web::get().to(realms))
        .route(BASE, web::post().to(create_realm))
        .route(r, web::get().to(realm_root))
        .route(&format!("{r}/organizations"), web::get().to(orgs))
        .route(&format!("{r}/organizations"), web::post().to(create_org))
        .route(&format!("{r}/users"), web::get().to(users))
        .route(&format!("{r}/users"), web::post().to(create_user))
        .route(&format!("{r}/users/{{id}}"), web::get().to(user))
        .route(
            &format!("{r}/users/{{id}}/{{action}}"),
            web::post().to(user_action),
        )
        .route(&format!("{r}/keys"), web::get().to(keys))
        .route(&format!("{r}/keys/rotate"), web::post().to(rotate_keys))
        .route(
            &format!("{r}/keys/{{kid}}/retire"),
            web::post().to(retire_key),
        )
        .route(&format!("{r}/events"), web::get().to(events))
        .route(&format!("{r}/approvals"), web::get().to(approvals))
        .route(&format!("{r}/exchanges"), web::get().to(exchanges))
        .route(&format!("{r}/settings"), web::get().to(settings))
        .route(&format!("{r}/settings"), web::post().to(save_settings))
        .route(&format!("{r}/settings/smtp"), web::post().to(save_smtp))
        .route(
            &format!("{r}/settings/smtp/test"),
            web::post().to(test_smtp),
        );
}

fn realm_of(req: &HttpRequest) -> String {
    req.match_info().get("realm").unwrap_or_default().to_owned()
}

/// The frame of a realm's page: its sections, the current one marked.
pub(super) fn realm_layout(c: &Console, req: &HttpRequest, realm: &str, section: &str) -> Layout {
    const SECTIONS: [(&str, &str); 11] = [
        ("organizations", "Organizations"),
        ("users", "Users"),
        ("clients", "Clients"),
        ("identity-providers", "Identity providers"),
        ("registration", "Client registration"),
        ("keys", "Signing keys"),
        ("admin-keys", "Admin keys"),
        ("exchanges", "Token exchanges"),
        ("approvals", "Waiting approvals"),
        ("events", "Audit log"),
        ("settings", "Settings"),
    ];
    let mut l = c.sectioned(req, &SECTIONS, &format!("{BASE}/{realm}"), section);
    l.realm = Some(realm.to_owned());
    l.realm_href = format!("{BASE}/{realm}/organizations");
    l
}

struct RealmRow {
    name: String,
    issuer: String,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "console/realms.html")]
struct RealmsPage {
    layout: Layout,
    realms: Vec<RealmRow>,
}

async fn realms(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match state
        .provider
        .list_realms(&c.principal, None, Some(tessera_oidc::admin::MAX_PAGE))
        .await
    {
        Ok(list) => {
            let realms = list
                .into_iter()
                .map(|r| RealmRow {
                    issuer: state.provider.issuer_for(&r.name),
                    name: r.name.to_string(),
                    enabled: r.enabled,
                })
                .collect();
            let layout = c.layout("Realms", &req);
            html(StatusCode::OK, RealmsPage { layout, realms }.render())
        }
        Err(e) => c.fail(&req, e, "/admin/console/"),
    }
}

async fn create_realm(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let name = params.get("name").unwrap_or_default().trim().to_owned();
    match state
        .provider
        .create_realm(&c.principal, &name, RealmSettings::default())
        .await
    {
        Ok(r) => done(&format!("{BASE}/{}/organizations", r.name), "created"),
        Err(e) => c.fail(&req, e, BASE),
    }
}

async fn realm_root(req: HttpRequest) -> HttpResponse {
    super::see_other(&format!("{BASE}/{}/organizations", realm_of(&req)))
}

struct OrgRow {
    alias: String,
    name: String,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "console/orgs.html")]
struct OrgsPage {
    layout: Layout,
    base: String,
    orgs: Vec<OrgRow>,
    q: String,
    next: Option<String>,
}

async fn orgs(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    let q = query(&req);
    let search = q.get("q").cloned().unwrap_or_default();
    let base = format!("{BASE}/{realm}");
    let listed = state
        .provider
        .list_orgs(
            &c.principal,
            &realm,
            Some(search.as_str()).filter(|s| !s.is_empty()),
            None,
            q.get("after").cloned(),
            Some(PAGE),
        )
        .await;
    match listed {
        Ok(list) => {
            let next = next_cursor(&list, |o| o.alias.to_string());
            let orgs = list
                .into_iter()
                .map(|o| OrgRow {
                    alias: o.alias.to_string(),
                    name: o.name,
                    enabled: o.enabled,
                })
                .collect();
            let layout = realm_layout(&c, &req, &realm, "organizations");
            html(
                StatusCode::OK,
                OrgsPage {
                    layout,
                    base,
                    orgs,
                    q: search,
                    next,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, BASE),
    }
}

async fn create_org(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let base = format!("{BASE}/{realm}");
    let res = async {
        let alias = OrgAlias::parse(params.get("alias").unwrap_or_default().trim())?;
        let name = params.get("name").unwrap_or_default().trim().to_owned();
        let o = NewOrganization {
            name: if name.is_empty() {
                alias.to_string()
            } else {
                name
            },
            alias,
            description: None,
            enabled: true,
            attributes: Default::default(),
            external_id: None,
            logo_uri: None,
        };
        state
            .provider
            .create_org(&c.principal, &realm, o, vec![])
            .await
    }
    .await;
    match res {
        Ok(o) => done(
            &format!("{base}/organizations/{}/members", o.alias),
            "created",
        ),
        Err(e) => c.fail(&req, e, &format!("{base}/organizations")),
    }
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    layout: Layout,
    base: String,
    users: Vec<User>,
    q: String,
    next: Option<String>,
}

async fn users(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    let q = query(&req);
    let search = q.get("q").cloned().unwrap_or_default();
    let listed = state
        .provider
        .list_users(
            &c.principal,
            &realm,
            Some(search.as_str()).filter(|s| !s.is_empty()),
            q.get("after").cloned(),
            Some(PAGE),
        )
        .await;
    match listed {
        Ok(users) => {
            let next = next_cursor(&users, |u| u.username.to_string());
            let layout = realm_layout(&c, &req, &realm, "users");
            html(
                StatusCode::OK,
                UsersPage {
                    layout,
                    base: format!("{BASE}/{realm}"),
                    users,
                    q: search,
                    next,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, BASE),
    }
}

async fn create_user(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let base = format!("{BASE}/{realm}");
    let res = async {
        let mut u = NewUser::new(Username::parse(
            params.get("username").unwrap_or_default().trim(),
        )?);
        u.email = match params.get("email").map(str::trim).unwrap_or_default() {
            "" => None,
            e => Some(Email::parse(e)?),
        };
        let password = params
            .get("password")
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        state
            .provider
            .create_user(&c.principal, &realm, u, password)
            .await
    }
    .await;
    match res {
        Ok(u) => done(&format!("{base}/users/{}", u.id), "created"),
        Err(e) => c.fail(&req, e, &format!("{base}/users")),
    }
}

fn user_id(req: &HttpRequest) -> Option<UserId> {
    req.match_info()
        .get("id")
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
        .map(UserId)
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    layout: Layout,
    base: String,
    user: User,
    orgs: Vec<Membership>,
    links: Vec<String>,
    /// Signed in, last seen, how.
    sessions: Vec<(String, String, String)>,
    realm_roles: Vec<String>,
    /// A user of realm `master`: the page offers the realm administrator role.
    master: bool,
    realm_admin: bool,
}

async fn user(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    let base = format!("{BASE}/{realm}");
    let Some(id) = user_id(&req) else {
        return crate::routes::browser::not_found_page();
    };
    let p = &state.provider;
    let loaded = async {
        let user = p.get_user(&c.principal, &realm, id).await?;
        let orgs = p.user_orgs(&c.principal, &realm, id).await?;
        let links = p.user_links(&c.principal, &realm, id).await?;
        let sessions = p.user_sessions(&c.principal, &realm, id).await?;
        let roles = p.user_realm_roles(&c.principal, &realm, id).await?;
        Ok::<_, OAuthError>((user, orgs, links, sessions, roles))
    }
    .await;
    match loaded {
        Ok((user, orgs, links, sessions, realm_roles)) => {
            let mut layout = realm_layout(&c, &req, &realm, "users");
            layout.title = format!("User {}", user.username);
            let links = links
                .into_iter()
                .map(|l| match l.username {
                    Some(u) => format!("{} ({u})", l.alias),
                    None => l.alias.to_string(),
                })
                .collect();
            let sessions = sessions
                .into_iter()
                .map(|s| {
                    let how = match &s.upstream {
                        Some(_) => "through an identity provider",
                        None => "with a password",
                    };
                    (utc(s.auth_time.0), utc(s.last_seen.0), how.to_owned())
                })
                .collect();
            html(
                StatusCode::OK,
                UserPage {
                    layout,
                    base,
                    user,
                    orgs,
                    links,
                    sessions,
                    master: realm == tessera_domain::RealmName::MASTER,
                    realm_admin: realm == tessera_domain::RealmName::MASTER
                        && realm_roles
                            .iter()
                            .any(|r| r == tessera_domain::REALM_ADMIN_ROLE),
                    realm_roles,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, &format!("{base}/users")),
    }
}

async fn user_action(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let Some(id) = user_id(&req) else {
        return crate::routes::browser::not_found_page();
    };
    let back = format!("{BASE}/{realm}/users/{id}");
    let p = &state.provider;
    let res = match req.match_info().get("action") {
        Some(a @ ("disable" | "enable")) => {
            async {
                let u = p.get_user(&c.principal, &realm, id).await?;
                let mut n = NewUser::from(&u);
                n.enabled = a == "enable";
                p.update_user(&c.principal, &realm, id, n).await?;
                if a == "disable" {
                    // A disabled person's sessions end with it.
                    p.sign_out_everywhere(&c.principal, &realm, id).await?;
                }
                Ok("saved")
            }
            .await
        }
        Some("password") => p
            .set_user_password(
                &c.principal,
                &realm,
                id,
                params.get("password").unwrap_or_default(),
            )
            .await
            .map(|_| "password"),
        Some("sign-out") => p
            .sign_out_everywhere(&c.principal, &realm, id)
            .await
            .map(|_| "signed-out"),
        // Realm master's administrators; the realm keeps at least one.
        Some("realm-admin") => {
            let role = [tessera_domain::REALM_ADMIN_ROLE.to_owned()];
            let (add, remove): (&[String], &[String]) = match params.get("grant") {
                Some("on") => (&role, &[]),
                _ => (&[], &role),
            };
            p.set_user_realm_roles(&c.principal, &realm, id, add, remove)
                .await
                .map(|_| "saved")
        }
        _ => return crate::routes::browser::not_found_page(),
    };
    match res {
        Ok(notice) => done(&back, notice),
        Err(e) => c.fail(&req, e, &back),
    }
}

struct KeyRow {
    kid: String,
    alg: &'static str,
    status: &'static str,
    retirable: bool,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    layout: Layout,
    base: String,
    keys: Vec<KeyRow>,
}

async fn keys(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    match state.provider.list_keys(&c.principal, &realm).await {
        Ok(list) => {
            let keys = list
                .into_iter()
                .map(|k| KeyRow {
                    alg: k.alg.as_str(),
                    status: k.status.as_str(),
                    retirable: k.status == tessera_domain::KeyStatus::Passive,
                    kid: k.kid,
                })
                .collect();
            let layout = realm_layout(&c, &req, &realm, "keys");
            html(
                StatusCode::OK,
                KeysPage {
                    layout,
                    base: format!("{BASE}/{realm}"),
                    keys,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, BASE),
    }
}

async fn rotate_keys(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let back = format!("{BASE}/{realm}/keys");
    match state.provider.rotate_keys(&c.principal, &realm).await {
        Ok(_) => done(&back, "rotated"),
        Err(e) => c.fail(&req, e, &back),
    }
}

async fn retire_key(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let back = format!("{BASE}/{realm}/keys");
    let kid = req.match_info().get("kid").unwrap_or_default().to_owned();
    match state.provider.retire_key(&c.principal, &realm, &kid).await {
        Ok(()) => done(&back, "retired"),
        Err(e) => c.fail(&req, e, &back),
    }
}

/// The audit log's filters from the query string: `kind`, `actor`, `before`.
pub(super) fn audit_filter(req: &HttpRequest) -> Result<AuditFilter, OAuthError> {
    let q = query(req);
    let kind =
        match q.get("kind").map(String::as_str).unwrap_or_default() {
            "" => None,
            k => Some(AuditKind::parse(k).ok_or_else(|| {
                OAuthError::invalid_request("kind must be admin_change or security")
            })?),
        };
    let before = match q.get("before").map(String::as_str).unwrap_or_default() {
        "" => None,
        b => Some(
            uuid::Uuid::parse_str(b)
                .map_err(|_| OAuthError::invalid_request("before must be an entry id"))?,
        ),
    };
    Ok(AuditFilter {
        kind,
        actor: q.get("actor").filter(|a| !a.is_empty()).cloned(),
        before,
        ..Default::default()
    })
}

struct EventRow {
    at: String,
    kind: &'static str,
    action: String,
    target: String,
    principal: String,
    actor: String,
    source: String,
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct EventsPage {
    layout: Layout,
    events: Vec<EventRow>,
    kind: String,
    actor: String,
    next: Option<String>,
}

/// An audit log page, for a realm or an organization.
pub(super) fn events_page(
    layout: Layout,
    req: &HttpRequest,
    events: Vec<AuditEvent>,
) -> HttpResponse {
    let q = query(req);
    let next = next_cursor(&events, |e| e.id.to_string());
    let events = events
        .into_iter()
        .map(|e| EventRow {
            at: utc(e.at.0),
            kind: e.kind.as_str(),
            action: e.action,
            target: e.target,
            principal: e.principal,
            actor: e.actor,
            source: e.source,
        })
        .collect();
    html(
        StatusCode::OK,
        EventsPage {
            layout,
            events,
            kind: q.get("kind").cloned().unwrap_or_default(),
            actor: q.get("actor").cloned().unwrap_or_default(),
            next,
        }
        .render(),
    )
}

async fn events(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    let back = format!("{BASE}/{realm}/events");
    let filter = match audit_filter(&req) {
        Ok(f) => f,
        Err(e) => return c.fail(&req, e, &back),
    };
    match state
        .provider
        .audit_events(&c.principal, &realm, filter, Some(PAGE))
        .await
    {
        Ok(list) => events_page(realm_layout(&c, &req, &realm, "events"), &req, list),
        Err(e) => c.fail(&req, e, BASE),
    }
}

/// A waiting device or CIBA request as the page lists it.
struct ApprovalRow {
    created: String,
    kind: &'static str,
    client: String,
    client_id: String,
    person: String,
    message: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "console/approvals.html")]
struct ApprovalsPage {
    layout: Layout,
    rows: Vec<ApprovalRow>,
}

/// Device and CIBA requests waiting for a person (three statements, one page).
async fn approvals(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    match state
        .provider
        .pending_approvals(&c.principal, &realm, Some(PAGE))
        .await
    {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|p| ApprovalRow {
                    created: utc(p.request.created_at.0),
                    kind: match p.request.kind {
                        tessera_domain::ApprovalKind::Device => "device code",
                        tessera_domain::ApprovalKind::Ciba => "CIBA",
                    },
                    client: p.client_name,
                    client_id: p.client_id,
                    person: p
                        .username
                        .unwrap_or_else(|| "whoever types the code".into()),
                    message: p.request.binding_message.unwrap_or_default(),
                    expires: utc(p.request.expires_at.0),
                })
                .collect();
            let layout = realm_layout(&c, &req, &realm, "approvals");
            html(StatusCode::OK, ApprovalsPage { layout, rows }.render())
        }
        Err(e) => c.fail(&req, e, BASE),
    }
}

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    layout: Layout,
    base: String,
    realm: Realm,
    algs: Vec<&'static str>,
    alg: &'static str,
    modes: Vec<&'static str>,
    mode: &'static str,
    smtp: Option<SmtpView>,
    smtp_host: String,
    smtp_port: u16,
    smtp_security: &'static str,
    smtp_username: String,
    smtp_has_password: bool,
    smtp_from: String,
    me_email: String,
}

async fn settings(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    let p = &state.provider;
    let loaded = async {
        let r = p.get_realm(&c.principal, &realm).await?;
        let smtp = p.get_realm_smtp(&c.principal, &realm).await?;
        let me = p.console_user(&c.session).await?;
        Ok::<_, OAuthError>((r, smtp, me))
    }
    .await;
    let (r, smtp, me) = match loaded {
        Ok(x) => x,
        Err(e) => return c.fail(&req, e, BASE),
    };
    let s = smtp.as_ref().map(|v| &v.settings);
    let page = SettingsPage {
        layout: realm_layout(&c, &req, &realm, "settings"),
        base: format!("{BASE}/{realm}"),
        algs: SigningAlg::ALL.iter().map(|a| a.as_str()).collect(),
        alg: r.access_token_alg.as_str(),
        modes: RegistrationMode::ALL.iter().map(|m| m.as_str()).collect(),
        mode: r.registration.mode.as_str(),
        smtp_host: s.map(|s| s.host.clone()).unwrap_or_default(),
        smtp_port: s.map(|s| s.port).unwrap_or(587),
        smtp_security: s.map(|s| s.security.as_str()).unwrap_or("starttls"),
        smtp_username: s.and_then(|s| s.username.clone()).unwrap_or_default(),
        smtp_has_password: smtp.as_ref().is_some_and(|v| v.has_password),
        smtp_from: s.map(|s| s.from.to_string()).unwrap_or_default(),
        me_email: me.email.map(|e| e.to_string()).unwrap_or_default(),
        smtp,
        realm: r,
    };
    html(StatusCode::OK, page.render())
}

fn number(params: &tessera_oidc::Params, name: &str) -> Result<i64, OAuthError> {
    params
        .get(name)
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| OAuthError::InvalidRequest(format!("{name} must be a whole number").into()))
}

async fn save_settings(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let back = format!("{BASE}/{realm}/settings");
    let p = &state.provider;
    let res = async {
        let r = p.get_realm(&c.principal, &realm).await?;
        let mut s = RealmSettings::from(&r);
        s.access_token_alg = SigningAlg::parse(params.get("access_token_alg").unwrap_or_default())?;
        s.access_token_lifetime_secs = number(&params, "access_token_lifetime_secs")?;
        s.lifetimes.session_idle_secs = number(&params, "session_idle_secs")?;
        s.lifetimes.session_max_secs = number(&params, "session_max_secs")?;
        s.lifetimes.refresh_idle_secs = number(&params, "refresh_idle_secs")?;
        s.lifetimes.refresh_max_secs = number(&params, "refresh_max_secs")?;
        s.organizations_enabled = params.get("organizations_enabled") == Some("on");
        if params.get("audit_retention_days").is_some() {
            s.audit_retention_days = number(&params, "audit_retention_days")?;
        }
        let a = &mut s.approvals;
        for (field, value) in [
            (
                "device_code_lifetime_secs",
                &mut a.device_code_lifetime_secs,
            ),
            (
                "device_poll_interval_secs",
                &mut a.device_poll_interval_secs,
            ),
            ("ciba_lifetime_secs", &mut a.ciba_lifetime_secs),
            ("ciba_poll_interval_secs", &mut a.ciba_poll_interval_secs),
        ] {
            if params.get(field).is_some() {
                *value = number(&params, field)?;
            }
        }
        s.registration.mode =
            RegistrationMode::parse(params.get("registration").unwrap_or_default())?;
        p.update_realm(&c.principal, &realm, s).await
    }
    .await;
    outcome(&c, &req, res, &back, "saved")
}

async fn save_smtp(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let back = format!("{BASE}/{realm}/settings");
    let res = async {
        let text = |n: &str| params.get(n).unwrap_or_default().trim().to_owned();
        let settings = SmtpSettings {
            host: text("host"),
            port: text("port")
                .parse()
                .map_err(|_| OAuthError::invalid_request("port must be 1 to 65535"))?,
            security: SmtpSecurity::parse(&text("security"))?,
            username: Some(text("username")).filter(|u| !u.is_empty()),
            from: Email::parse(&text("from"))?,
        };
        let password = params
            .get("password")
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        state
            .provider
            .put_realm_smtp(&c.principal, &realm, settings, password)
            .await
    }
    .await;
    outcome(&c, &req, res, &back, "saved")
}

async fn test_smtp(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let back = format!("{BASE}/{realm}/settings");
    let res = match Email::parse(params.get("to").unwrap_or_default().trim()) {
        Ok(to) => {
            state
                .provider
                .send_test_mail(&c.principal, &realm, &to)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&c, &req, res, &back, "mail-sent")
}

struct ExchangeRow {
    at: String,
    subject: String,
    client: String,
    actors: String,
    /// The external issuer of the subject token, or "this realm".
    from: String,
}

#[derive(Template)]
#[template(path = "console/exchanges.html")]
struct ExchangesPage {
    layout: Layout,
    rows: Vec<ExchangeRow>,
    subject: String,
    client: String,
    actor: String,
}

/// The exchange log, filtered by subject, client or actor.
async fn exchanges(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    let q = query(&req);
    let field = |k: &str| q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (subject, client, actor) = (field("subject"), field("client"), field("actor"));
    let filter = ExchangeFilter {
        subject: Some(subject.clone()).filter(|s| !s.is_empty()),
        client_id: Some(client.clone()).filter(|s| !s.is_empty()),
        actor: Some(actor.clone()).filter(|s| !s.is_empty()),
    };
    match state
        .provider
        .list_exchanges(&c.principal, &realm, filter, Some(PAGE))
        .await
    {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|r| ExchangeRow {
                    at: utc(r.created_at.0),
                    subject: r.subject,
                    client: r.client_id,
                    actors: r.actors.join(" → "),
                    from: r.external_issuer.unwrap_or_else(|| "this realm".into()),
                })
                .collect();
            let layout = realm_layout(&c, &req, &realm, "exchanges");
            html(
                StatusCode::OK,
                ExchangesPage {
                    layout,
                    rows,
                    subject,
                    client,
                    actor,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, BASE),
    }
}
