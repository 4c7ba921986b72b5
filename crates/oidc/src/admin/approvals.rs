//! Requests approved elsewhere as administrators see them: a realm's device and CIBA
//! requests still waiting for a person (never their codes, which only hashes keep).

use super::{AdminPrincipal, MAX_PAGE};
use crate::{OAuthError, Provider};

pub use tessera_storage::NamedApproval as PendingApproval;

impl Provider {
    /// A realm's waiting requests, newest first (realm administrators).
    pub async fn pending_approvals(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        limit: Option<u64>,
    ) -> Result<Vec<PendingApproval>, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .list_pending_approvals_named(
                realm_id,
                None,
                self.clock().now(),
                limit.unwrap_or(100).clamp(1, MAX_PAGE),
            )
            .await?)
    }
}
