use super::{Caller, Page, page_limit, schema};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use crate::extract::user_id;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use tessera_domain::{Email, NewUser, PasswordParams, User, UserAttributes, Username};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the handlers; each one's route and OpenAPI path come from its own attributes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(delete)
        .service(set_password);
}

/// A user as the admin API shows it. There is no password field, hashed or not.
#[derive(Serialize, ToSchema)]
pub struct UserRep {
    /// Server-assigned id used in admin URLs; the `sub` of the user's tokens.
    pub id: String,
    /// Lower-cased.
    pub username: String,
    /// As given.
    pub email: Option<String>,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub enabled: bool,
    #[schema(value_type = Object)]
    pub attributes: UserAttributes,
    pub created_at: i64,
}

impl From<User> for UserRep {
    fn from(u: User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.to_string(),
            email: u.email.map(|e| e.as_str().to_owned()),
            email_verified: u.email_verified,
            given_name: u.given_name,
            family_name: u.family_name,
            enabled: u.enabled,
            attributes: u.attributes,
            created_at: u.created_at.0,
        }
    }
}

/// Creates (POST) or replaces (PUT) a user's profile.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    /// 1 to 64 characters of a-z, 0-9, '.', '_', '@', '+' and '-'; stored lower-cased.
    #[schema(schema_with = schema::username)]
    pub username: String,
    /// One '@', at most 254 bytes. Unique per realm, ignoring case and Unicode
    /// normalization form. Empty or null: none.
    #[schema(schema_with = schema::optional_email)]
    pub email: Option<String>,
    /// Whether the administrator vouches for the address; without an e-mail, false.
    #[serde(default)]
    pub email_verified: bool,
    /// At most 200 characters, no control characters; empty: none.
    #[serde(alias = "first_name")]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub given_name: Option<String>,
    /// At most 200 characters, no control characters; empty: none.
    #[serde(alias = "last_name")]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub family_name: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A JSON object of at most 16 KiB.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: UserAttributes,
    /// 8 to 1024 characters; on create only (PUT `/users/{id}/password` changes it).
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
}

/// Replaces a user's profile: a [`UserBody`] without `password`.
#[derive(Deserialize)]
#[serde(try_from = "UserBody")]
pub struct UserProfileBody(UserBody);

impl TryFrom<UserBody> for UserProfileBody {
    type Error = &'static str;

    fn try_from(b: UserBody) -> Result<Self, Self::Error> {
        match b.password {
            Some(_) => Err("set passwords with PUT /admin/realms/{realm}/users/{id}/password"),
            None => Ok(Self(b)),
        }
    }
}

impl utoipa::PartialSchema for UserProfileBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{RefOr, schema::Schema};
        let mut s = UserBody::schema();
        if let RefOr::T(Schema::Object(o)) = &mut s {
            o.properties.remove("password");
            o.description = Some("A user's profile, replaced as a whole.".to_owned());
        }
        s
    }
}

impl ToSchema for UserProfileBody {}

fn yes() -> bool {
    true
}

/// An empty name is no name.
fn name(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

impl UserBody {
    fn parse(self) -> Result<(NewUser, Option<String>), ApiError> {
        let email = name(self.email).as_deref().map(Email::parse).transpose()?;
        let u = NewUser {
            username: Username::parse(&self.username)?,
            // Nothing to vouch for without an address.
            email_verified: self.email_verified && email.is_some(),
            email,
            given_name: name(self.given_name),
            family_name: name(self.family_name),
            enabled: self.enabled,
            attributes: self.attributes,
        };
        Ok((u, self.password))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

/// Keyset pagination over users sorted by username, optionally filtered.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Part of the username, e-mail, given or family name, ignoring case; at most 256
    /// characters.
    #[param(max_length = 256)]
    pub search: Option<String>,
    /// Return users sorted after this username (the `next` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// Argon2id costs of a realm's new password hashes (OWASP default: 19456, 2, 1).
#[derive(Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordParamsRep {
    /// Memory in KiB, 128 to 262144.
    #[schema(minimum = 128, maximum = 262_144)]
    pub m_cost: u32,
    /// Iterations, 1 to 16.
    #[schema(minimum = 1, maximum = 16)]
    pub t_cost: u32,
    /// Lanes, 1 to 16.
    #[schema(minimum = 1, maximum = 16)]
    pub p_cost: u32,
}

impl From<PasswordParams> for PasswordParamsRep {
    fn from(p: PasswordParams) -> Self {
        Self {
            m_cost: p.m_cost,
            t_cost: p.t_cost,
            p_cost: p.p_cost,
        }
    }
}

impl From<PasswordParamsRep> for PasswordParams {
    fn from(p: PasswordParamsRep) -> Self {
        Self {
            m_cost: p.m_cost,
            t_cost: p.t_cost,
            p_cost: p.p_cost,
        }
    }
}

/// For `Option<Option<T>>` fields: absent = `None` (keep), `null` = `Some(None)` (reset).
pub(super) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[utoipa::path(tag = "users", operation_id = "list_users", params(UserQuery),
    responses((status = 200, body = Page<UserRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/users")]
pub async fn list(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    q: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let users = state
        .provider
        .list_users(&caller, &realm, q.search.as_deref(), q.after, q.limit)
        .await?;
    let items: Vec<UserRep> = users.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, q.limit, |u| u.username.clone())))
}

#[utoipa::path(tag = "users", operation_id = "create_user", request_body = UserBody,
    responses((status = 201, body = UserRep), (status = 400, body = super::ErrorBody), (status = 409, body = super::ErrorBody),
        (status = 503, description = "the password hashing pool is saturated", body = super::ErrorBody)))]
#[post("/{realm}/users")]
pub async fn create(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let (u, password) = body.into_inner().parse()?;
    let user = state
        .provider
        .create_user(&caller, &realm, u, password)
        .await?;
    Ok(HttpResponse::Created().json(UserRep::from(user)))
}

#[utoipa::path(tag = "users", operation_id = "get_user",
    responses((status = 200, body = UserRep), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/users/{id}")]
pub async fn get(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let u = state
        .provider
        .get_user(&caller, &realm, user_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(UserRep::from(u)))
}

#[utoipa::path(tag = "users", operation_id = "update_user", request_body = UserProfileBody,
    responses((status = 200, body = UserRep), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
#[put("/{realm}/users/{id}")]
pub async fn update(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<UserProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let id = user_id(&id)?;
    let (u, _) = body.into_inner().0.parse()?;
    let u = state.provider.update_user(&caller, &realm, id, u).await?;
    Ok(HttpResponse::Ok().json(UserRep::from(u)))
}

#[utoipa::path(tag = "users", operation_id = "delete_user",
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/users/{id}")]
pub async fn delete(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    state
        .provider
        .delete_user(&caller, &realm, user_id(&id)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "users", request_body = PasswordBody,
    responses((status = 204), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 503, description = "the password hashing pool is saturated", body = super::ErrorBody)))]
#[put("/{realm}/users/{id}/password")]
pub async fn set_password(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    state
        .provider
        .set_user_password(&caller, &realm, user_id(&id)?, &body.password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
