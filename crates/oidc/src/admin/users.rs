//! Administration of a realm's users, shared by the admin REST API and the CLI. Passwords
//! are hashed with the realm's Argon2id parameters on the bounded pool; the hash never
//! leaves storage.

use super::AdminPrincipal;
use crate::accounts::{validate_password, validate_user};
use crate::admin::{conflict, not_found, page};
use crate::{OAuthError, Provider};
use tessera_domain::{NewUser, REALM_ADMIN_ROLE, Session, User, UserId, Username};

/// Longest search term.
pub const MAX_SEARCH_CHARS: usize = 256;

impl Provider {
    /// Creates a user, with a password (hashed with the realm's parameters) or without
    /// (no password login until one is set).
    pub async fn create_user(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        u: NewUser,
        password: Option<String>,
    ) -> Result<User, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        self.insert_account(&ctx, u, password).await
    }

    pub async fn get_user(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
    ) -> Result<User, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .get_user(realm_id, id)
            .await
            .map_err(|_| not_found("user"))
    }

    /// Finds a user by username (CLI convenience).
    pub async fn find_user(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        username: &str,
    ) -> Result<User, OAuthError> {
        caller.require_realm_admin()?;
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
        caller: &AdminPrincipal,
        realm: &str,
        search: Option<&str>,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<User>, OAuthError> {
        caller.require_realm_admin()?;
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
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
        u: NewUser,
    ) -> Result<User, OAuthError> {
        caller.require_realm_admin()?;
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

    pub async fn delete_user(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .delete_user(realm_id, id)
            .await
            .map_err(|_| not_found("user"))
    }

    /// Replaces a user's password, hashed with the realm's current parameters.
    pub async fn set_user_password(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
        password: &str,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
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

    /// A user's live sessions, newest first (realm administrators).
    pub async fn user_sessions(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
    ) -> Result<Vec<Session>, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .list_user_sessions(realm_id, id, self.clock().now(), 100)
            .await?)
    }

    /// Signs a user out everywhere: ends every session (clients with a back-channel
    /// logout URI are told), revokes every grant, offline ones too, and ends their console
    /// sessions. Returns how many sessions ended.
    pub async fn sign_out_everywhere(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
    ) -> Result<usize, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        self.store()
            .get_user(ctx.realm.id, id)
            .await
            .map_err(|_| not_found("user"))?;
        self.end_user_sessions(&ctx, id, None, true).await
    }

    /// The realm roles a user holds (realm `master`'s `admin`: a realm administrator).
    pub async fn user_realm_roles(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
    ) -> Result<Vec<String>, OAuthError> {
        let u = self.get_user(caller, realm, id).await?;
        Ok(self.store().user_roles(u.realm_id, u.id).await?)
    }

    /// Gives and takes realm roles (names of 1 to 64 lowercase letters, digits, `-`, `_`
    /// or `:`); returns the user's roles after. Taking `admin` from the last realm
    /// administrator of realm `master` is refused: the console would have nobody.
    pub async fn set_user_realm_roles(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        id: UserId,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        let realm_id = ctx.realm.id;
        self.store()
            .get_user(realm_id, id)
            .await
            .map_err(|_| not_found("user"))?;
        let valid = |r: &String| {
            (1..=64).contains(&r.len())
                && r.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b':')
                })
        };
        if let Some(bad) = add.iter().chain(remove).find(|r| !valid(r)) {
            return Err(OAuthError::InvalidRequest(
                format!("{bad:?} is not a role name").into(),
            ));
        }
        let held = self.store().user_roles(realm_id, id).await?;
        if ctx.realm.name.as_str() == tessera_domain::RealmName::MASTER
            && remove.iter().any(|r| r == REALM_ADMIN_ROLE)
            && held.iter().any(|r| r == REALM_ADMIN_ROLE)
            && self
                .store()
                .count_users_with_role(realm_id, REALM_ADMIN_ROLE, 2)
                .await?
                < 2
        {
            return Err(OAuthError::Conflict(
                "realm master keeps at least one administrator".into(),
            ));
        }
        for r in add {
            self.store().add_user_role(realm_id, id, r).await?;
        }
        for r in remove {
            self.store().remove_user_role(realm_id, id, r).await?;
        }
        Ok(self.store().user_roles(realm_id, id).await?)
    }
}
