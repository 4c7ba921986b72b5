//! Organizations of a realm: the organizations themselves and their domains and the
//! realm's role templates (realm administrators), and each organization's members and
//! invitations (realm administrators, or the organization's own admins).

use super::{Caller, Page, page_limit, schema};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use crate::extract::{invitation_id, user_id};
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use tessera_domain::{
    DomainName, Email, Invitation, LogoUri, Member, Membership, NewOrganization, OrgAlias,
    OrgDomain, OrgRole, OrgRoleName, Organization, UserAttributes, UserId,
};
use tessera_oidc::OAuthError;
use tessera_oidc::admin::orgs::UserRef;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the handlers; each one's route and OpenAPI path come from its own attributes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_orgs)
        .service(create_org)
        .service(get_org)
        .service(update_org)
        .service(delete_org)
        .service(put_org_domain)
        .service(delete_org_domain)
        .service(list_org_members)
        .service(add_org_member)
        .service(remove_org_member)
        .service(set_org_member_roles)
        .service(list_org_roles)
        .service(list_invitations)
        .service(create_invitation)
        .service(resend_invitation)
        .service(revoke_invitation)
        .service(list_roles)
        .service(create_role)
        .service(delete_role)
        .service(user_orgs);
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainRep {
    /// A DNS name such as `acme.com`; stored lower-cased.
    #[schema(schema_with = schema::domain_name)]
    pub name: String,
    /// Only verified domains route logins (`login_hint`) to the organization.
    #[serde(default)]
    pub verified: bool,
}

impl From<OrgDomain> for DomainRep {
    fn from(d: OrgDomain) -> Self {
        Self {
            name: d.name.as_str().to_owned(),
            verified: d.verified,
        }
    }
}

impl DomainRep {
    fn parse(self) -> Result<OrgDomain, ApiError> {
        Ok(OrgDomain {
            name: DomainName::parse(&self.name)?,
            verified: self.verified,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgRep {
    /// Server-assigned id; admin URLs take it or the alias.
    pub id: String,
    pub alias: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    #[schema(value_type = Object)]
    pub attributes: UserAttributes,
    /// The organization's id at its own identity provider: what the `org_id` claim of
    /// the organization-admin exchange must name.
    pub external_id: Option<String>,
    /// The logo its members' sign-in pages show (https).
    pub logo_uri: Option<String>,
    /// On single-organization responses; absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<DomainRep>>,
    pub created_at: i64,
}

fn org_rep(o: Organization, domains: Option<Vec<OrgDomain>>) -> OrgRep {
    OrgRep {
        id: o.id.to_string(),
        alias: o.alias.to_string(),
        name: o.name,
        description: o.description,
        enabled: o.enabled,
        attributes: o.attributes,
        external_id: o.external_id,
        logo_uri: o.logo_uri.map(|l| l.as_str().to_owned()),
        domains: domains.map(|d| d.into_iter().map(Into::into).collect()),
        created_at: o.created_at.0,
    }
}

/// Creates an organization with its domains.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgBody {
    /// 1 to 64 characters of a-z, 0-9 and '-', not starting with '-', not UUID-shaped;
    /// unique per realm.
    #[schema(schema_with = schema::org_alias)]
    pub alias: String,
    /// 1 to 1000 characters, not only spaces, no control characters.
    #[schema(schema_with = schema::org_name)]
    pub name: String,
    /// At most 1000 characters, no control characters.
    #[schema(schema_with = schema::optional_description)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A JSON object of at most 16 KiB.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: UserAttributes,
    /// The organization's id at its own identity provider, unique within the realm.
    #[schema(schema_with = schema::optional_external_id)]
    pub external_id: Option<String>,
    /// The logo its members' sign-in pages show: an https URL of at most 2048 characters.
    #[schema(schema_with = schema::optional_logo_uri)]
    pub logo_uri: Option<String>,
    /// At most 100; a domain belongs to one organization of the realm.
    #[serde(default)]
    #[schema(schema_with = schema::domains)]
    pub domains: Vec<DomainRep>,
}

/// Replaces an organization's profile; its domains have their own endpoints.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUpdateBody {
    #[schema(schema_with = schema::org_alias)]
    pub alias: String,
    #[schema(schema_with = schema::org_name)]
    pub name: String,
    #[schema(schema_with = schema::optional_description)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: UserAttributes,
    /// The organization's id at its own identity provider, unique within the realm.
    #[schema(schema_with = schema::optional_external_id)]
    pub external_id: Option<String>,
    /// The logo its members' sign-in pages show: an https URL of at most 2048 characters.
    #[schema(schema_with = schema::optional_logo_uri)]
    pub logo_uri: Option<String>,
}

fn yes() -> bool {
    true
}

impl OrgUpdateBody {
    fn parse(self) -> Result<NewOrganization, ApiError> {
        Ok(NewOrganization {
            alias: OrgAlias::parse(&self.alias)?,
            name: self.name,
            description: self.description.filter(|d| !d.is_empty()),
            enabled: self.enabled,
            attributes: self.attributes,
            external_id: self.external_id,
            logo_uri: self.logo_uri.as_deref().map(LogoUri::parse).transpose()?,
        })
    }
}

impl OrgBody {
    fn parse(self) -> Result<(NewOrganization, Vec<OrgDomain>), ApiError> {
        let domains = self
            .domains
            .into_iter()
            .map(DomainRep::parse)
            .collect::<Result<_, _>>()?;
        let o = OrgUpdateBody {
            alias: self.alias,
            name: self.name,
            description: self.description,
            enabled: self.enabled,
            attributes: self.attributes,
            external_id: self.external_id,
            logo_uri: self.logo_uri,
        }
        .parse()?;
        Ok((o, domains))
    }
}

/// Keyset pagination over organizations sorted by alias, optionally filtered.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrgQuery {
    /// Part of the alias or name, ignoring case; at most 256 characters.
    #[param(max_length = 256)]
    pub search: Option<String>,
    /// Only the organization owning this domain.
    #[param(schema_with = schema::domain_name)]
    pub domain: Option<String>,
    /// Return organizations sorted after this alias (the `next` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// Keyset pagination over id-keyed items (members, invitations).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IdPageQuery {
    /// Return items sorted after this id (the `next` of the previous page).
    pub after: Option<Uuid>,
    /// Page size, 1 to 500 (default 100).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainBody {
    /// Default false.
    #[serde(default)]
    pub verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MemberRep {
    pub user_id: String,
    pub username: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    /// Created through the organization: deleted with it (others are only unlinked).
    pub managed: bool,
    /// When the user joined.
    pub created_at: i64,
}

impl From<Member> for MemberRep {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            username: m.username,
            email: m.email,
            roles: role_names(m.roles),
            managed: m.managed,
            created_at: m.created_at.0,
        }
    }
}

fn role_names(roles: Vec<OrgRoleName>) -> Vec<String> {
    roles.into_iter().map(|r| r.as_str().to_owned()).collect()
}

fn parse_roles(roles: &[String]) -> Result<Vec<OrgRoleName>, ApiError> {
    Ok(roles
        .iter()
        .map(|r| OrgRoleName::parse(r))
        .collect::<Result<_, _>>()?)
}

/// Adds an existing user, named by exactly one of `user_id` and `username` (the latter for
/// realm administrators only).
#[derive(Deserialize, ToSchema)]
#[serde(
    untagged,
    expecting = "an object with exactly one of user_id and username, and optional roles and managed"
)]
pub enum MemberBody {
    ById(MemberById),
    ByUsername(MemberByUsername),
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberById {
    pub user_id: Uuid,
    /// Role templates of the realm.
    #[serde(default)]
    #[schema(schema_with = schema::role_names)]
    pub roles: Vec<String>,
    /// The user's account is deleted with the organization. Default false.
    #[serde(default)]
    pub managed: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberByUsername {
    #[schema(schema_with = schema::username)]
    pub username: String,
    /// Role templates of the realm.
    #[serde(default)]
    #[schema(schema_with = schema::role_names)]
    pub roles: Vec<String>,
    /// The user's account is deleted with the organization. Default false.
    #[serde(default)]
    pub managed: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    /// Replaces the member's roles; role templates of the realm.
    #[schema(schema_with = schema::role_names)]
    pub roles: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RoleRep {
    pub name: String,
    pub description: Option<String>,
}

impl From<OrgRole> for RoleRep {
    fn from(r: OrgRole) -> Self {
        Self {
            name: r.name.as_str().to_owned(),
            description: r.description,
        }
    }
}

/// A role template, assignable to members of any organization of the realm. The role
/// `admin` lets a member administer their organization's members and invitations.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// 1 to 64 characters of A-Z, a-z, 0-9, '-', '_', '.' and ':'.
    #[schema(schema_with = schema::role_name)]
    pub name: String,
    /// At most 1000 characters.
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationRep {
    pub id: String,
    pub email: String,
    pub roles: Vec<String>,
    /// pending, accepted, expired or revoked.
    pub status: String,
    pub expires_at: i64,
    pub created_at: i64,
    /// The acceptance link, only to a realm administrator of a realm that sends no e-mail
    /// (it does not verify the address). Otherwise the link was e-mailed to the invitee
    /// and is never shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The current link was e-mailed to the address.
    pub emailed: bool,
}

fn invitation_rep(state: &AppState, inv: Invitation, link: Option<String>) -> InvitationRep {
    InvitationRep {
        id: inv.id.to_string(),
        email: inv.email.as_str().to_owned(),
        status: inv
            .status_at(state.provider.clock().now())
            .as_str()
            .to_owned(),
        roles: role_names(inv.roles),
        expires_at: inv.expires_at.0,
        created_at: inv.created_at.0,
        link,
        emailed: inv.delivered,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    /// The invitee's address; they accept with an account of this address.
    #[schema(schema_with = schema::email)]
    pub email: String,
    /// Role templates of the realm given on acceptance.
    #[serde(default)]
    #[schema(schema_with = schema::role_names)]
    pub roles: Vec<String>,
    /// Validity of the link, 60 to 2592000 seconds (default 7 days).
    #[schema(minimum = 60, maximum = 2_592_000)]
    pub lifetime_secs: Option<i64>,
}

/// Optional: an empty body or `{}` keeps the default lifetime.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendBody {
    /// Validity of the new link, 60 to 2592000 seconds (default 7 days).
    #[schema(minimum = 60, maximum = 2_592_000)]
    pub lifetime_secs: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserOrgRep {
    /// The organization's id.
    pub id: String,
    pub alias: String,
    pub name: String,
    pub roles: Vec<String>,
    pub managed: bool,
}

impl From<Membership> for UserOrgRep {
    fn from(m: Membership) -> Self {
        Self {
            id: m.org_id.to_string(),
            alias: m.alias.to_string(),
            name: m.org_name,
            roles: role_names(m.roles),
            managed: m.managed,
        }
    }
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res
}

#[utoipa::path(tag = "organizations", params(OrgQuery),
    responses((status = 200, body = Page<OrgRep>), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations")]
pub async fn list_orgs(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    q: web::Query<OrgQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let orgs = state
        .provider
        .list_orgs(
            &caller,
            &realm,
            q.search.as_deref(),
            q.domain.as_deref(),
            q.after,
            q.limit,
        )
        .await?;
    let items: Vec<_> = orgs.into_iter().map(|o| org_rep(o, None)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, q.limit, |o| o.alias.clone())))
}

#[utoipa::path(tag = "organizations", request_body = OrgBody,
    responses((status = 201, body = OrgRep), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
#[post("/{realm}/organizations")]
pub async fn create_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<OrgBody>,
) -> Result<HttpResponse, ApiError> {
    let (o, domains) = body.into_inner().parse()?;
    let org = state
        .provider
        .create_org(&caller, &realm, o, domains.clone())
        .await?;
    Ok(HttpResponse::Created().json(org_rep(org, Some(domains))))
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 200, body = OrgRep), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}")]
pub async fn get_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let (org, domains) = state.provider.get_org(&caller, &realm, &org).await?;
    Ok(HttpResponse::Ok().json(org_rep(org, Some(domains))))
}

#[utoipa::path(tag = "organizations", request_body = OrgUpdateBody,
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 200, body = OrgRep), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
#[put("/{realm}/organizations/{org}")]
pub async fn update_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<OrgUpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let o = body.into_inner().parse()?;
    let org = state.provider.update_org(&caller, &realm, &org, o).await?;
    let (org, domains) = state
        .provider
        .get_org(&caller, &realm, &org.id.to_string())
        .await?;
    Ok(HttpResponse::Ok().json(org_rep(org, Some(domains))))
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 204, description = "Deleted; managed members' accounts with it"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/organizations/{org}")]
pub async fn delete_org(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    state.provider.delete_org(&caller, &realm, &org).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    request_body = DomainBody,
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"),
        ("domain" = String, Path, min_length = 3, max_length = 253,
            pattern = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")),
    responses((status = 204, description = "Added or updated"), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, description = "another organization owns the domain", body = super::ErrorBody)))]
#[put("/{realm}/organizations/{org}/domains/{domain}")]
pub async fn put_org_domain(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: AdminJson<DomainBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, domain) = path.into_inner();
    let d = OrgDomain {
        name: DomainName::parse(&domain)?,
        verified: body.verified,
    };
    state
        .provider
        .put_org_domain(&caller, &realm, &org, d)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), ("domain" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/organizations/{org}/domains/{domain}")]
pub async fn delete_org_domain(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, domain) = path.into_inner();
    state
        .provider
        .delete_org_domain(&caller, &realm, &org, &domain)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), IdPageQuery),
    responses((status = 200, description = "Sorted by user id; `after` is a user id", body = Page<MemberRep>),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}/members")]
pub async fn list_org_members(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<IdPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let q = q.into_inner();
    let members = state
        .provider
        .list_org_members(
            &caller,
            &realm,
            &org,
            None,
            q.after.map(|a| a.to_string()).as_deref(),
            q.limit,
        )
        .await?;
    let items: Vec<MemberRep> = members.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, q.limit, |m| m.user_id.clone())))
}

#[utoipa::path(tag = "organizations", request_body = MemberBody,
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 204, description = "Added"), (status = 400, body = super::ErrorBody),
        (status = 403, description = "organization admins invite people instead (realm administrators only)", body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, description = "already a member", body = super::ErrorBody)))]
#[post("/{realm}/organizations/{org}/members")]
pub async fn add_org_member(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<MemberBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let (user, roles, managed) = match body.into_inner() {
        MemberBody::ById(b) => (UserRef::Id(UserId(b.user_id)), b.roles, b.managed),
        MemberBody::ByUsername(b) => (UserRef::Username(b.username), b.roles, b.managed),
    };
    let roles = parse_roles(&roles)?;
    state
        .provider
        .add_org_member(&caller, &realm, &org, user, roles, managed)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    request_body = RolesBody,
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), ("user_id" = String, Path)),
    responses((status = 204), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
#[put("/{realm}/organizations/{org}/members/{user_id}/roles")]
pub async fn set_org_member_roles(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: AdminJson<RolesBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, user) = path.into_inner();
    let user = Uuid::parse_str(&user)
        .map(UserId)
        .map_err(|_| ApiError(OAuthError::NotFound("member not found".into())))?;
    let roles = parse_roles(&body.roles)?;
    state
        .provider
        .set_org_member_roles(&caller, &realm, &org, user, roles)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), ("user_id" = String, Path)),
    responses((status = 204, description = "Removed (a managed member's account stays)"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/organizations/{org}/members/{user_id}")]
pub async fn remove_org_member(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, user) = path.into_inner();
    let user = Uuid::parse_str(&user)
        .map(UserId)
        .map_err(|_| ApiError(OAuthError::NotFound("member not found".into())))?;
    state
        .provider
        .remove_org_member(&caller, &realm, &org, user)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 200, description = "The realm's role templates, assignable to members", body = Vec<RoleRep>),
        (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}/roles")]
pub async fn list_org_roles(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    // The extractor authorized the caller for some organization; make sure it is this one.
    state.provider.get_org(&caller, &realm, &org).await?;
    let roles = state.provider.list_org_roles(&caller, &realm).await?;
    let roles: Vec<RoleRep> = roles.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(roles))
}

#[utoipa::path(tag = "organizations",
    responses((status = 200, body = Vec<RoleRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organization-roles")]
pub async fn list_roles(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let roles = state.provider.list_org_roles(&caller, &realm).await?;
    let roles: Vec<RoleRep> = roles.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(roles))
}

#[utoipa::path(tag = "organizations", request_body = RoleBody,
    responses((status = 201, body = RoleRep), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
#[post("/{realm}/organization-roles")]
pub async fn create_role(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<RoleBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let name = OrgRoleName::parse(&b.name)?;
    let role = state
        .provider
        .create_org_role(
            &caller,
            &realm,
            name,
            b.description.filter(|d| !d.is_empty()),
        )
        .await?;
    Ok(HttpResponse::Created().json(RoleRep::from(role)))
}

#[utoipa::path(tag = "organizations",
    responses((status = 204, description = "Deleted, and taken from every member holding it"), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/organization-roles/{name}")]
pub async fn delete_role(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, name) = path.into_inner();
    state
        .provider
        .delete_org_role(&caller, &realm, &name)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), IdPageQuery),
    responses((status = 200, description = "Sorted by id; `after` is an invitation id", body = Page<InvitationRep>),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/organizations/{org}/invitations")]
pub async fn list_invitations(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<IdPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let q = q.into_inner();
    let invitations = state
        .provider
        .list_invitations(
            &caller,
            &realm,
            &org,
            q.after.map(|a| a.to_string()).as_deref(),
            q.limit,
        )
        .await?;
    let items: Vec<_> = invitations
        .into_iter()
        .map(|i| invitation_rep(&state, i, None))
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(items, q.limit, |i| i.id.clone())))
}

#[utoipa::path(tag = "organizations",
    request_body = InvitationBody,
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias")),
    responses((status = 201, description = "Created; the link is e-mailed (or, for a realm administrator of a realm without SMTP, returned as `link`)", body = InvitationRep), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/organizations/{org}/invitations")]
pub async fn create_invitation(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<InvitationBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org) = path.into_inner();
    let b = body.into_inner();
    let email = Email::parse(&b.email)?;
    let roles = parse_roles(&b.roles)?;
    let (inv, link) = state
        .provider
        .create_invitation(&caller, &realm, &org, email, roles, b.lifetime_secs)
        .await?;
    Ok(no_store(
        HttpResponse::Created().json(invitation_rep(&state, inv, link)),
    ))
}

#[utoipa::path(tag = "organizations",
    request_body(content = ResendBody, description = "Optional: an empty body keeps the default lifetime"),
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), ("id" = String, Path)),
    responses((status = 200, description = "A new link; earlier links stop working", body = InvitationRep),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, description = "no longer pending", body = super::ErrorBody)))]
#[post("/{realm}/organizations/{org}/invitations/{id}/resend")]
pub async fn resend_invitation(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, id) = path.into_inner();
    let b: ResendBody = if body.iter().all(u8::is_ascii_whitespace) {
        ResendBody::default()
    } else {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError(OAuthError::invalid_request("invalid JSON body: not UTF-8")))?;
        crate::extract::admin_json(text)?
    };
    let (inv, link) = state
        .provider
        .resend_invitation(&caller, &realm, &org, invitation_id(&id)?, b.lifetime_secs)
        .await?;
    Ok(no_store(
        HttpResponse::Ok().json(invitation_rep(&state, inv, link)),
    ))
}

#[utoipa::path(tag = "organizations",
    params(("realm" = String, Path), ("org" = String, Path, description = "Organization id or alias"), ("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = super::ErrorBody),
        (status = 409, description = "no longer pending", body = super::ErrorBody)))]
#[delete("/{realm}/organizations/{org}/invitations/{id}")]
pub async fn revoke_invitation(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, org, id) = path.into_inner();
    state
        .provider
        .revoke_invitation(&caller, &realm, &org, invitation_id(&id)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "organizations",
    responses((status = 200, description = "The user's organizations, disabled ones included", body = Vec<UserOrgRep>),
        (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/users/{id}/organizations")]
pub async fn user_orgs(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let orgs = state
        .provider
        .user_orgs(&caller, &realm, user_id(&id)?)
        .await?;
    let orgs: Vec<UserOrgRep> = orgs.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(orgs))
}
