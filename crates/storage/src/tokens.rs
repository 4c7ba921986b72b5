use crate::entity::{opaque_token, revoked_token};
use crate::{Store, StoreResult, join_list, split_list};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use tessera_domain::{
    ClientId, ClientUuid, GrantId, OpaqueToken, OrgId, RealmId, ScopeSet, UnixTime,
};

fn to_domain(m: opaque_token::Model) -> StoreResult<OpaqueToken> {
    Ok(OpaqueToken {
        realm_id: RealmId(m.realm_id),
        token_hash: m.token_hash,
        jti: m.jti,
        client: ClientUuid(m.client_uuid),
        client_id: ClientId::parse(&m.client_id)?,
        subject: m.subject,
        scope: ScopeSet::parse(&m.scope)?,
        audience: split_list(&m.audience, |s| Ok(s.to_owned()))?,
        roles: split_list(&m.roles, |s| Ok(s.to_owned()))?,
        grant_id: m.grant_id.map(GrantId),
        sid: m.sid,
        org_claim: m.org_claim,
        org_id: m.org_id.map(OrgId),
        act: m.act,
        lineage: split_list(m.lineage.as_deref().unwrap_or_default(), |s| {
            Ok(s.to_owned())
        })?,
        issued_at: UnixTime(m.issued_at),
        expires_at: UnixTime(m.expires_at),
    })
}

impl Store {
    pub async fn insert_opaque_token(&self, t: &OpaqueToken) -> StoreResult<()> {
        opaque_token::Entity::insert(opaque_token::ActiveModel {
            realm_id: Set(t.realm_id.0),
            token_hash: Set(t.token_hash.clone()),
            jti: Set(t.jti.clone()),
            client_uuid: Set(t.client.0),
            client_id: Set(t.client_id.as_str().to_owned()),
            subject: Set(t.subject.clone()),
            scope: Set(t.scope.to_string()),
            audience: Set(join_list(&t.audience)),
            roles: Set(join_list(&t.roles)),
            grant_id: Set(t.grant_id.map(|g| g.0)),
            sid: Set(t.sid.clone()),
            org_claim: Set(t.org_claim.clone()),
            org_id: Set(t.org_id.map(|o| o.0)),
            act: Set(t.act.clone()),
            lineage: Set((!t.lineage.is_empty()).then(|| join_list(&t.lineage))),
            issued_at: Set(t.issued_at.0),
            expires_at: Set(t.expires_at.0),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Looks an opaque token up by the SHA-256 of its value. The hash is the primary key,
    /// so the equality test happens inside the index, not on attacker-timed bytes here.
    pub async fn find_opaque_token(
        &self,
        realm: RealmId,
        hash: &[u8],
    ) -> StoreResult<Option<OpaqueToken>> {
        opaque_token::Entity::find_by_id((realm.0, hash.to_vec()))
            .one(&self.db)
            .await?
            .map(to_domain)
            .transpose()
    }

    /// Returns whether a token was deleted.
    pub async fn delete_opaque_token(&self, realm: RealmId, hash: &[u8]) -> StoreResult<bool> {
        let res = opaque_token::Entity::delete_many()
            .filter(opaque_token::Column::RealmId.eq(realm.0))
            .filter(opaque_token::Column::TokenHash.eq(hash.to_vec()))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Records a revoked JWT `jti` until the token would have expired anyway. Idempotent.
    pub async fn revoke_jti(
        &self,
        realm: RealmId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            realm_id: Set(realm.0),
            jti: Set(jti.to_owned()),
            expires_at: Set(expires_at.0),
        })
        .on_conflict(
            OnConflict::columns([revoked_token::Column::RealmId, revoked_token::Column::Jti])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    pub async fn is_jti_revoked(&self, realm: RealmId, jti: &str) -> StoreResult<bool> {
        Ok(revoked_token::Entity::find_by_id((realm.0, jti.to_owned()))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Whether any of `jtis` is revoked: a token and its exchange ancestors in one lookup,
    /// so revoking a token deactivates everything exchanged from it without a cascade.
    pub async fn any_jti_revoked(&self, realm: RealmId, jtis: &[&str]) -> StoreResult<bool> {
        if let [one] = jtis {
            return self.is_jti_revoked(realm, one).await;
        }
        let found: Option<String> = revoked_token::Entity::find()
            .filter(revoked_token::Column::RealmId.eq(realm.0))
            .filter(revoked_token::Column::Jti.is_in(jtis.iter().copied()))
            .select_only()
            .column(revoked_token::Column::Jti)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(found.is_some())
    }

    /// Drops revocation entries, opaque tokens, failed-login budgets, used client
    /// assertion ids, console sessions and mailed account links that have expired;
    /// returns rows removed.
    pub async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64> {
        let a = revoked_token::Entity::delete_many()
            .filter(revoked_token::Column::ExpiresAt.lt(now.0))
            .exec(&self.db)
            .await?;
        let b = opaque_token::Entity::delete_many()
            .filter(opaque_token::Column::ExpiresAt.lt(now.0))
            .exec(&self.db)
            .await?;
        // Followers read a change within a second; an hour leaves room for a stalled one.
        let c = self.purge_changes(UnixTime(now.0 - 3600)).await?;
        let d = self.purge_login_throttles(now).await?;
        let e = self.purge_federation(now).await?;
        let f = self.purge_initial_tokens(now).await?;
        let g = self.purge_client_assertions(now).await?;
        // No console session outlives a day without use (the console caps its timeouts).
        let h = self
            .purge_console_sessions(UnixTime(now.0 - 86_400))
            .await?;
        let i = self.purge_account_tokens(now).await?;
        let j = self.purge_audit_events(now).await?;
        let k = self.purge_approval_requests(now).await?;
        Ok(a.rows_affected + b.rows_affected + c + d + e + f + g + h + i + j + k)
    }
}

#[cfg(test)]
mod tests {
    use crate::clients::tests::new_client;
    use crate::test_util::{realm, test_store};
    use tessera_domain::{ClientUuid, OpaqueToken, ScopeSet, UnixTime};

    #[tokio::test]
    async fn opaque_token_lookup_is_keyed_by_realm_and_hash_iso_1() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        let c = s
            .insert_client(
                a.id,
                ClientUuid::new_v7(),
                &new_client("svc"),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        let t = OpaqueToken {
            realm_id: a.id,
            token_hash: vec![9; 32],
            jti: "j1".into(),
            client: c.id,
            client_id: c.client_id.clone(),
            subject: "s".into(),
            scope: ScopeSet::parse("api:read").unwrap(),
            audience: vec!["x".into(), "y".into()],
            roles: vec![],
            grant_id: None,
            sid: None,
            org_claim: Some(r#"{"acme":{"id":"x"}}"#.into()),
            org_id: Some(tessera_domain::OrgId::new_v7()),
            act: Some(r#"{"sub":"a"}"#.into()),
            lineage: vec!["p1".into(), "p2".into()],
            issued_at: UnixTime(1),
            expires_at: UnixTime(100),
        };
        s.insert_opaque_token(&t).await.unwrap();
        assert_eq!(s.find_opaque_token(a.id, &[9; 32]).await.unwrap(), Some(t));
        assert_eq!(s.find_opaque_token(b.id, &[9; 32]).await.unwrap(), None);
        assert!(!s.delete_opaque_token(b.id, &[9; 32]).await.unwrap());
        assert!(s.delete_opaque_token(a.id, &[9; 32]).await.unwrap());
        assert_eq!(s.find_opaque_token(a.id, &[9; 32]).await.unwrap(), None);
    }

    #[tokio::test]
    async fn revoked_jti_is_per_realm_idempotent_and_purged_after_expiry() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        s.revoke_jti(a.id, "j", UnixTime(10)).await.unwrap();
        s.revoke_jti(a.id, "j", UnixTime(10)).await.unwrap();
        assert!(s.is_jti_revoked(a.id, "j").await.unwrap());
        assert!(!s.is_jti_revoked(b.id, "j").await.unwrap());
        assert_eq!(s.purge_expired(UnixTime(5)).await.unwrap(), 0);
        assert_eq!(s.purge_expired(UnixTime(11)).await.unwrap(), 1);
        assert!(!s.is_jti_revoked(a.id, "j").await.unwrap());
    }
}
