//! Administration of a realm's users, shared by the admin REST API and the CLI. Passwords
//! are hashed with the realm's Argon2id parameters on the bounded pool; the hash never
//! leaves storage.

use crate::admin::{conflict, not_found, page};
use crate::interaction::passwords::MAX_PASSWORD_CHARS;
use crate::{OAuthError, Provider};
use tessera_domain::{NewUser, RealmId, User, UserId, Username};

/// Shortest password an administrator may set.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest given or family name.
pub const MAX_NAME_CHARS: usize = 200;
/// Largest `attributes` object, as JSON.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
/// Longest search term.
pub const MAX_SEARCH_CHARS: usize = 256;

/// 8 to 1024 characters; anything else is up to the realm's users.
pub fn validate_password(password: &str) -> Result<(), OAuthError> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(OAuthError::InvalidRequest(
            format!("a password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
                .into(),
        ))
    }
}

fn validate_user(u: &NewUser) -> Result<(), OAuthError> {
    for (field, value) in [
        ("given_name", &u.given_name),
        ("family_name", &u.family_name),
    ] {
        if let Some(v) = value
            && (v.chars().count() > MAX_NAME_CHARS || v.chars().any(char::is_control))
        {
            return Err(OAuthError::InvalidRequest(
                format!(
                    "{field} must be at most {MAX_NAME_CHARS} characters without control characters"
                )
                .into(),
            ));
        }
    }
    let attributes = serde_json::Value::Object(u.attributes.clone()).to_string();
    if attributes.len() > MAX_ATTRIBUTES_BYTES {
        return Err(OAuthError::invalid_request(
            "attributes are larger than 16 KiB",
        ));
    }
    if u.email_verified && u.email.is_none() {
        return Err(OAuthError::invalid_request("email_verified needs an email"));
    }
    Ok(())
}

impl Provider {
    /// Names the collision precisely when another user already holds `u`'s username or
    /// e-mail (the unique indexes still decide under races).
    async fn check_user_unique(
        &self,
        realm: RealmId,
        u: &NewUser,
        except: Option<UserId>,
    ) -> Result<(), OAuthError> {
        let other = |found: Option<User>| found.is_some_and(|f| Some(f.id) != except);
        if other(
            self.store()
                .find_user_by_username(realm, &u.username)
                .await?,
        ) {
            return Err(OAuthError::Conflict(
                "a user with this username exists".into(),
            ));
        }
        if let Some(email) = &u.email
            && other(self.store().find_user_by_email(realm, email).await?)
        {
            return Err(OAuthError::Conflict("a user with this email exists".into()));
        }
        Ok(())
    }

    /// Creates a user, with a password (hashed with the realm's parameters) or without
    /// (no password login until one is set).
    pub async fn create_user(
        &self,
        realm: &str,
        u: NewUser,
        password: Option<String>,
    ) -> Result<User, OAuthError> {
        validate_user(&u)?;
        if let Some(p) = &password {
            validate_password(p)?;
        }
        let ctx = self.admin_realm(realm).await?;
        let realm_id = ctx.realm.id;
        self.check_user_unique(realm_id, &u, None).await?;
        let hash = match &password {
            Some(p) => Some(
                self.passwords
                    .hash(p, ctx.realm.password_params.unwrap_or_default())
                    .await?,
            ),
            None => None,
        };
        self.store()
            .insert_user(realm_id, UserId::new_v7(), &u, hash, self.clock().now())
            .await
            .map_err(conflict("user with this username or email"))
    }

    pub async fn get_user(&self, realm: &str, id: UserId) -> Result<User, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .get_user(realm_id, id)
            .await
            .map_err(|_| not_found("user"))
    }

    /// Finds a user by username (CLI convenience).
    pub async fn find_user(&self, realm: &str, username: &str) -> Result<User, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        let name = Username::parse(username).map_err(|_| not_found("user"))?;
        self.store()
            .find_user_by_username(realm_id, &name)
            .await?
            .ok_or_else(|| not_found("user"))
    }

    /// One page of a realm's users by username; `search` matches part of the username,
    /// e-mail, given or family name, ignoring case.
    pub async fn list_users(
        &self,
        realm: &str,
        search: Option<&str>,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<User>, OAuthError> {
        if search.is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
            return Err(OAuthError::invalid_request(
                "search is longer than 256 characters",
            ));
        }
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .list_users(realm_id, search, &page(after, limit))
            .await?)
    }

    /// Replaces a user's profile; the password stays.
    pub async fn update_user(
        &self,
        realm: &str,
        id: UserId,
        u: NewUser,
    ) -> Result<User, OAuthError> {
        validate_user(&u)?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .get_user(realm_id, id)
            .await
            .map_err(|_| not_found("user"))?;
        self.check_user_unique(realm_id, &u, Some(id)).await?;
        self.store()
            .update_user(realm_id, id, &u)
            .await
            .map_err(conflict("user with this username or email"))
    }

    pub async fn delete_user(&self, realm: &str, id: UserId) -> Result<(), OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .delete_user(realm_id, id)
            .await
            .map_err(|_| not_found("user"))
    }

    /// Replaces a user's password, hashed with the realm's current parameters.
    pub async fn set_user_password(
        &self,
        realm: &str,
        id: UserId,
        password: &str,
    ) -> Result<(), OAuthError> {
        validate_password(password)?;
        let ctx = self.admin_realm(realm).await?;
        let realm_id = ctx.realm.id;
        self.store()
            .get_user(realm_id, id)
            .await
            .map_err(|_| not_found("user"))?;
        let hash = self
            .passwords
            .hash(password, ctx.realm.password_params.unwrap_or_default())
            .await?;
        self.store()
            .set_user_password_hash(realm_id, id, Some(hash))
            .await
            .map_err(|_| not_found("user"))
    }
}
