//! People's accounts, whoever creates them (administrators, invitations; later upstream
//! providers and registration): the same checks, the same uniqueness, passwords hashed
//! with the realm's parameters on the bounded pool.

use crate::interaction::passwords::MAX_PASSWORD_CHARS;
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{Email, NewUser, RealmId, User, UserId, Username};

/// Shortest password an administrator may set.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest given or family name.
pub const MAX_NAME_CHARS: usize = 200;
/// Largest `attributes` object, as JSON.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
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

pub(crate) fn validate_user(u: &NewUser) -> Result<(), OAuthError> {
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
    pub(crate) async fn check_user_unique(
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
        // Usernames and e-mails are one namespace for sign-in: a username may not be
        // another person's e-mail, nor an e-mail another person's username, or one could
        // sign in as the other by typing the shared identifier.
        if let Ok(as_email) = Email::parse(u.username.as_str())
            && other(self.store().find_user_by_email(realm, &as_email).await?)
        {
            return Err(OAuthError::Conflict(
                "this username is another user's e-mail".into(),
            ));
        }
        if let Some(email) = &u.email
            && let Ok(as_username) = Username::parse(email.normalized())
            && other(
                self.store()
                    .find_user_by_username(realm, &as_username)
                    .await?,
            )
        {
            return Err(OAuthError::Conflict(
                "this e-mail is another user's username".into(),
            ));
        }
        Ok(())
    }

    /// Creates an account in `ctx`'s realm, with a password (hashed with the realm's
    /// parameters) or without (no password login until one is set).
    pub(crate) async fn insert_account(
        &self,
        ctx: &RealmCtx,
        u: NewUser,
        password: Option<String>,
    ) -> Result<User, OAuthError> {
        validate_user(&u)?;
        if let Some(p) = &password {
            validate_password(p)?;
        }
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
            .map_err(|e| match e {
                tessera_storage::StoreError::Conflict => {
                    OAuthError::Conflict("a user with this username or email exists".into())
                }
                e => e.into(),
            })
    }
}

/// The organization role whose last holder an organization keeps.
pub(crate) fn org_admin_role() -> tessera_domain::OrgRoleName {
    tessera_domain::OrgRoleName::parse(tessera_domain::OrgRoleName::ADMIN)
        .expect("a valid role name")
}

/// A membership change refused because it would leave the organization without an
/// administrator (whoever makes it: an administrator, or the person leaving).
pub(crate) fn keeping_an_admin(e: tessera_storage::StoreError) -> OAuthError {
    match e {
        tessera_storage::StoreError::Conflict => {
            OAuthError::Conflict("an organization keeps at least one administrator".into())
        }
        tessera_storage::StoreError::NotFound => OAuthError::NotFound("member".into()),
        e => e.into(),
    }
}
