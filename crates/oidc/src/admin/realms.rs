//! Realms: create (with fresh keys), read, update, delete.

use super::AdminPrincipal;
use super::{conflict, page};
use crate::{OAuthError, Provider};
use tessera_domain::{OrgRole, OrgRoleId, OrgRoleName, Realm, RealmId, RealmName, RealmSettings};

fn validate_settings(s: &RealmSettings) -> Result<(), OAuthError> {
    let l = &s.lifetimes;
    let ok = |v: i64| (60..=31_536_000).contains(&v);
    if !(ok(l.session_idle_secs)
        && ok(l.session_max_secs)
        && ok(l.refresh_idle_secs)
        && ok(l.refresh_max_secs))
    {
        return Err(OAuthError::invalid_request(
            "session and refresh lifetimes must be within 60..=31536000 seconds",
        ));
    }
    if !(10..=86_400).contains(&s.access_token_lifetime_secs) {
        return Err(OAuthError::invalid_request(
            "access_token_lifetime_secs must be within 10..=86400",
        ));
    }
    if let Some(p) = &s.password_params {
        p.validate()?;
    }
    if !(1..=10).contains(&s.max_delegation_depth) {
        return Err(OAuthError::invalid_request(
            "max_delegation_depth must be within 1..=10",
        ));
    }
    if !(1..=3650).contains(&s.audit_retention_days) {
        return Err(OAuthError::invalid_request(
            "audit_retention_days must be within 1..=3650",
        ));
    }
    s.registration.open.validate()?;
    s.approvals.validate()?;
    Ok(())
}

impl Provider {
    /// Creates a realm with fresh RS256, ES256 and EdDSA keys.
    pub async fn create_realm(
        &self,
        caller: &AdminPrincipal,
        name: &str,
        settings: RealmSettings,
    ) -> Result<Realm, OAuthError> {
        caller.require_realm_admin()?;
        let name = RealmName::parse(name)?;
        validate_settings(&settings)?;
        let now = self.clock().now();
        let realm = Realm {
            id: RealmId::new_v7(),
            name: name.clone(),
            enabled: settings.enabled,
            access_token_alg: settings.access_token_alg,
            access_token_lifetime_secs: settings.access_token_lifetime_secs,
            password_params: settings.password_params,
            lifetimes: settings.lifetimes,
            organizations_enabled: settings.organizations_enabled,
            max_delegation_depth: settings.max_delegation_depth,
            registration: settings.registration,
            branding: settings.branding,
            audit_retention_days: settings.audit_retention_days,
            approvals: settings.approvals,
            created_at: now,
        };
        self.store()
            .insert_realm(&realm)
            .await
            .map_err(conflict("realm with this name"))?;
        if let Err(e) = self.add_keys_and_roles(realm.id).await {
            // Leave no realm without keys behind.
            let _ = self.store().delete_realm(realm.id).await;
            return Err(e);
        }
        self.forget_realm(&name).await;
        Ok(realm)
    }

    /// Fresh signing keys, and the organization role templates every realm starts with.
    async fn add_keys_and_roles(&self, realm: RealmId) -> Result<(), OAuthError> {
        self.add_keys(realm).await?;
        for (name, description) in OrgRoleName::TEMPLATES {
            let role = OrgRole {
                id: OrgRoleId::new_v7(),
                realm_id: realm,
                name: OrgRoleName::parse(name)?,
                description: Some(description.into()),
            };
            self.store()
                .insert_org_role(&role, self.clock().now())
                .await?;
        }
        Ok(())
    }

    pub async fn list_realms(
        &self,
        caller: &AdminPrincipal,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<Realm>, OAuthError> {
        caller.require_realm_admin()?;
        Ok(self.store().list_realms(&page(after, limit)).await?)
    }

    pub async fn get_realm(
        &self,
        caller: &AdminPrincipal,
        name: &str,
    ) -> Result<Realm, OAuthError> {
        caller.require_realm_admin()?;
        Ok(self.admin_realm(name).await?.realm.clone())
    }

    pub async fn update_realm(
        &self,
        caller: &AdminPrincipal,
        name: &str,
        settings: RealmSettings,
    ) -> Result<Realm, OAuthError> {
        caller.require_realm_admin()?;
        validate_settings(&settings)?;
        let ctx = self.admin_realm(name).await?;
        if ctx.realm.name.as_str() == RealmName::MASTER && !settings.enabled {
            // A well-formed request the realm's state refuses: 409, as documented.
            return Err(OAuthError::Conflict(
                "the master realm cannot be disabled".into(),
            ));
        }
        let realm = self.store().update_realm(ctx.realm.id, &settings).await?;
        self.forget_realm(&realm.name).await;
        Ok(realm)
    }

    /// Deletes a realm and everything in it; its tokens stop verifying at once (ISO-13).
    pub async fn delete_realm(
        &self,
        caller: &AdminPrincipal,
        name: &str,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(name).await?;
        if ctx.realm.name.as_str() == RealmName::MASTER {
            // A well-formed request the realm's state refuses: 409, as documented.
            return Err(OAuthError::Conflict(
                "the master realm cannot be deleted".into(),
            ));
        }
        self.store().delete_realm(ctx.realm.id).await?;
        self.forget_realm(&ctx.realm.name).await;
        Ok(())
    }
}
