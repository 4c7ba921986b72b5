use crate::entity::realm;
use crate::{PageRequest, Store, StoreError, StoreResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use tessera_domain::{
    ApprovalSettings, Branding, DisplayName, DomainError, Lifetimes, LogoUri, OpenRegistration,
    PasswordParams, Realm, RealmId, RealmName, RealmSettings, RegistrationMode, RegistrationPolicy,
    SigningAlg, UnixTime,
};

fn to_domain(m: realm::Model) -> StoreResult<Realm> {
    Ok(Realm {
        id: RealmId(m.id),
        name: RealmName::parse(&m.name)?,
        enabled: m.enabled,
        access_token_alg: SigningAlg::parse(&m.access_token_alg)?,
        access_token_lifetime_secs: m.access_token_lifetime_secs,
        password_params: m
            .password_params
            .as_deref()
            .map(params_from_json)
            .transpose()?,
        lifetimes: Lifetimes {
            session_idle_secs: m.session_idle_secs,
            session_max_secs: m.session_max_secs,
            refresh_idle_secs: m.refresh_idle_secs,
            refresh_max_secs: m.refresh_max_secs,
        },
        organizations_enabled: m.organizations_enabled,
        max_delegation_depth: m.max_delegation_depth,
        audit_retention_days: m.audit_retention_days,
        approvals: ApprovalSettings {
            device_code_lifetime_secs: m.device_code_lifetime_secs,
            device_poll_interval_secs: m.device_poll_interval_secs,
            ciba_lifetime_secs: m.ciba_lifetime_secs,
            ciba_poll_interval_secs: m.ciba_poll_interval_secs,
        },
        registration: RegistrationPolicy {
            mode: RegistrationMode::parse(&m.registration_mode)?,
            open: match m.registration_policy.as_deref() {
                Some(p) => serde_json::from_str(p)
                    .map_err(|e| DomainError::new("registration_policy", e.to_string()))?,
                None => OpenRegistration::default(),
            },
        },
        branding: Branding {
            display_name: m
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?,
            logo_uri: m.logo_uri.as_deref().map(LogoUri::parse).transpose()?,
        },
        created_at: UnixTime(m.created_at),
    })
}

fn display_name_of(b: &Branding) -> Option<String> {
    b.display_name.as_ref().map(|n| n.as_str().to_owned())
}

fn logo_of(b: &Branding) -> Option<String> {
    b.logo_uri.as_ref().map(|l| l.as_str().to_owned())
}

fn policy_to_json(p: &OpenRegistration) -> Option<String> {
    // The defaults stay NULL, so that a later default applies to realms that never chose.
    (p != &OpenRegistration::default())
        .then(|| serde_json::to_string(p).ok())
        .flatten()
}

fn params_from_json(s: &str) -> Result<PasswordParams, DomainError> {
    let p: PasswordParams =
        serde_json::from_str(s).map_err(|e| DomainError::new("password_params", e.to_string()))?;
    p.validate()?;
    Ok(p)
}

fn params_to_json(p: &Option<PasswordParams>) -> Option<String> {
    // Serializing four integers cannot fail.
    p.as_ref().and_then(|p| serde_json::to_string(p).ok())
}

impl Store {
    pub async fn insert_realm(&self, realm: &Realm) -> StoreResult<()> {
        realm::ActiveModel {
            id: Set(realm.id.0),
            name: Set(realm.name.as_str().to_owned()),
            enabled: Set(realm.enabled),
            access_token_alg: Set(realm.access_token_alg.as_str().to_owned()),
            access_token_lifetime_secs: Set(realm.access_token_lifetime_secs),
            password_params: Set(params_to_json(&realm.password_params)),
            session_idle_secs: Set(realm.lifetimes.session_idle_secs),
            session_max_secs: Set(realm.lifetimes.session_max_secs),
            refresh_idle_secs: Set(realm.lifetimes.refresh_idle_secs),
            refresh_max_secs: Set(realm.lifetimes.refresh_max_secs),
            organizations_enabled: Set(realm.organizations_enabled),
            max_delegation_depth: Set(realm.max_delegation_depth),
            registration_mode: Set(realm.registration.mode.as_str().to_owned()),
            registration_policy: Set(policy_to_json(&realm.registration.open)),
            display_name: Set(display_name_of(&realm.branding)),
            logo_uri: Set(logo_of(&realm.branding)),
            audit_retention_days: Set(realm.audit_retention_days),
            device_code_lifetime_secs: Set(realm.approvals.device_code_lifetime_secs),
            device_poll_interval_secs: Set(realm.approvals.device_poll_interval_secs),
            ciba_lifetime_secs: Set(realm.approvals.ciba_lifetime_secs),
            ciba_poll_interval_secs: Set(realm.approvals.ciba_poll_interval_secs),
            created_at: Set(realm.created_at.0),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn find_realm_by_name(&self, name: &RealmName) -> StoreResult<Option<Realm>> {
        realm::Entity::find()
            .filter(realm::Column::Name.eq(name.as_str()))
            .one(&self.db)
            .await?
            .map(to_domain)
            .transpose()
    }

    pub async fn list_realms(&self, page: &PageRequest) -> StoreResult<Vec<Realm>> {
        let mut q = realm::Entity::find().order_by_asc(realm::Column::Name);
        if let Some(after) = &page.after {
            q = q.filter(realm::Column::Name.gt(after.as_str()));
        }
        q.limit(page.limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    pub async fn count_realms(&self) -> StoreResult<u64> {
        use sea_orm::PaginatorTrait;
        Ok(realm::Entity::find().count(&self.db).await?)
    }

    pub async fn update_realm(&self, id: RealmId, s: &RealmSettings) -> StoreResult<Realm> {
        let mut m = realm::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?
            .into_active_model();
        m.enabled = Set(s.enabled);
        m.access_token_alg = Set(s.access_token_alg.as_str().to_owned());
        m.access_token_lifetime_secs = Set(s.access_token_lifetime_secs);
        m.password_params = Set(params_to_json(&s.password_params));
        m.session_idle_secs = Set(s.lifetimes.session_idle_secs);
        m.session_max_secs = Set(s.lifetimes.session_max_secs);
        m.refresh_idle_secs = Set(s.lifetimes.refresh_idle_secs);
        m.refresh_max_secs = Set(s.lifetimes.refresh_max_secs);
        m.organizations_enabled = Set(s.organizations_enabled);
        m.max_delegation_depth = Set(s.max_delegation_depth);
        m.registration_mode = Set(s.registration.mode.as_str().to_owned());
        m.registration_policy = Set(policy_to_json(&s.registration.open));
        m.display_name = Set(display_name_of(&s.branding));
        m.logo_uri = Set(logo_of(&s.branding));
        m.audit_retention_days = Set(s.audit_retention_days);
        m.device_code_lifetime_secs = Set(s.approvals.device_code_lifetime_secs);
        m.device_poll_interval_secs = Set(s.approvals.device_poll_interval_secs);
        m.ciba_lifetime_secs = Set(s.approvals.ciba_lifetime_secs);
        m.ciba_poll_interval_secs = Set(s.approvals.ciba_poll_interval_secs);
        to_domain(m.update(&self.db).await?)
    }

    /// Deletes the realm and, by cascade, everything below it.
    pub async fn delete_realm(&self, id: RealmId) -> StoreResult<()> {
        let res = realm::Entity::delete_by_id(id.0).exec(&self.db).await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::{realm, test_store};
    use crate::{PageRequest, StoreError};
    use tessera_domain::{RealmSettings, SigningAlg};

    #[tokio::test]
    async fn realm_names_are_unique() {
        let s = test_store().await;
        s.insert_realm(&realm("a")).await.unwrap();
        assert!(matches!(
            s.insert_realm(&realm("a")).await,
            Err(StoreError::Conflict)
        ));
    }

    #[tokio::test]
    async fn realm_list_pages_by_name() {
        let s = test_store().await;
        for n in ["c", "a", "b"] {
            s.insert_realm(&realm(n)).await.unwrap();
        }
        let p1 = s
            .list_realms(&PageRequest {
                after: None,
                limit: 2,
            })
            .await
            .unwrap();
        assert_eq!(
            p1.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let p2 = s
            .list_realms(&PageRequest {
                after: Some("b".into()),
                limit: 2,
            })
            .await
            .unwrap();
        assert_eq!(
            p2.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
    }

    #[tokio::test]
    async fn realm_update_and_delete_report_missing_rows() {
        let s = test_store().await;
        let r = realm("a");
        s.insert_realm(&r).await.unwrap();
        let settings = RealmSettings {
            access_token_alg: SigningAlg::EdDsa,
            ..Default::default()
        };
        assert_eq!(
            s.update_realm(r.id, &settings)
                .await
                .unwrap()
                .access_token_alg,
            SigningAlg::EdDsa
        );
        s.delete_realm(r.id).await.unwrap();
        assert!(matches!(
            s.delete_realm(r.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(s.find_realm_by_name(&r.name).await.unwrap().is_none());
    }
}
