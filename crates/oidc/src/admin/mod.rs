//! Administration, shared by the admin REST API and the CLI: one file per resource, every
//! operation taking the caller's [`AdminPrincipal`], resolved once in [`principal`].

pub mod admin_keys;
pub mod approvals;
pub mod audit;
pub mod clients;
pub mod domains;
pub mod exchange;
pub mod idps;
pub mod invitations;
pub mod keys;
pub mod orgs;
pub mod principal;
pub mod realms;
pub mod registration;
pub mod seed;
pub mod smtp;
pub mod users;

pub use principal::{AdminCredentials, AdminPrincipal, AdminTarget};

use crate::{OAuthError, Provider, RealmCtx};
use std::sync::Arc;
use tessera_domain::{RealmId, RealmName};
use tessera_storage::{PageRequest, StoreError};

/// The role a master-realm token must carry to use the admin API.
pub const ADMIN_ROLE: &str = "admin";
pub const MAX_PAGE: u64 = 500;

pub(crate) fn page(after: Option<String>, limit: Option<u64>) -> PageRequest {
    PageRequest {
        after,
        limit: limit.unwrap_or(100).clamp(1, MAX_PAGE),
    }
}

pub(crate) fn not_found(what: &'static str) -> OAuthError {
    OAuthError::NotFound(format!("{what} not found").into())
}

/// Maps a unique-constraint violation to a 409 that names what collided.
pub(crate) fn conflict(what: &'static str) -> impl Fn(StoreError) -> OAuthError {
    move |e| match e {
        StoreError::Conflict => OAuthError::Conflict(format!("a {what} exists").into()),
        e => e.into(),
    }
}

impl Provider {
    pub(crate) async fn admin_realm(&self, name: &str) -> Result<Arc<RealmCtx>, OAuthError> {
        let name = RealmName::parse(name).map_err(|_| not_found("realm"))?;
        self.realm_ctx(&name)
            .await?
            .ok_or_else(|| not_found("realm"))
    }

    pub(crate) async fn admin_realm_id(&self, name: &str) -> Result<RealmId, OAuthError> {
        Ok(self.admin_realm(name).await?.realm.id)
    }
}
