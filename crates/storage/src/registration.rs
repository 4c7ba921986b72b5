//! Dynamic client registration (RFC 7591/7592): initial access tokens (hashes, counted
//! down by one conditional UPDATE), and clients written together with the hash of their
//! registration access token.

use crate::clients::{new_client_model, replace_client, to_domain};
use crate::entity::{client, initial_access_token as iat, realm};
use crate::{PageRequest, Store, StoreError, StoreResult};
use sea_orm::sea_query::{Expr, ExprTrait, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use tessera_domain::{Client, ClientUuid, InitialAccessToken, NewClient, OrgId, RealmId, UnixTime};
use uuid::Uuid;

fn to_token(m: iat::Model) -> InitialAccessToken {
    InitialAccessToken {
        id: m.id,
        realm_id: RealmId(m.realm_id),
        org_id: m.org_id.map(OrgId),
        remaining: m.remaining,
        expires_at: UnixTime(m.expires_at),
        created_at: UnixTime(m.created_at),
        created_by: m.created_by,
    }
}

/// How a registration is authorized, checked inside the transaction that inserts the client.
#[derive(Clone, Copy, Debug)]
pub enum RegistrationGrant<'a> {
    /// An initial access token, by its hash: one use is consumed atomically.
    InitialToken(&'a [u8]),
    /// Open registration: refused once the realm holds `max_clients` registered clients.
    Open { max_clients: u32 },
}

impl Store {
    pub async fn insert_initial_token(
        &self,
        t: &InitialAccessToken,
        token_hash: Vec<u8>,
    ) -> StoreResult<()> {
        iat::ActiveModel {
            id: Set(t.id),
            realm_id: Set(t.realm_id.0),
            token_hash: Set(token_hash),
            org_id: Set(t.org_id.map(|o| o.0)),
            remaining: Set(t.remaining),
            expires_at: Set(t.expires_at.0),
            created_at: Set(t.created_at.0),
            created_by: Set(t.created_by.clone()),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// A live token (uses left, not expired) of the realm, by its hash.
    pub async fn find_initial_token(
        &self,
        realm: RealmId,
        token_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<InitialAccessToken>> {
        Ok(iat::Entity::find()
            .filter(iat::Column::RealmId.eq(realm.0))
            .filter(iat::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(iat::Column::Remaining.gt(0))
            .filter(iat::Column::ExpiresAt.gt(now.0))
            .one(&self.db)
            .await?
            .map(to_token))
    }

    /// The realm's tokens (only `org`'s, when given) by id, one keyset page.
    pub async fn list_initial_tokens(
        &self,
        realm: RealmId,
        org: Option<OrgId>,
        page: &PageRequest,
    ) -> StoreResult<Vec<InitialAccessToken>> {
        let mut q = iat::Entity::find()
            .filter(iat::Column::RealmId.eq(realm.0))
            .order_by_asc(iat::Column::Id);
        if let Some(o) = org {
            q = q.filter(iat::Column::OrgId.eq(o.0));
        }
        if let Some(after) = page.after.as_deref().and_then(|a| Uuid::parse_str(a).ok()) {
            q = q.filter(iat::Column::Id.gt(after));
        }
        Ok(q.limit(page.limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_token)
            .collect())
    }

    /// Deletes a token of the realm (of `org`, when given).
    pub async fn delete_initial_token(
        &self,
        realm: RealmId,
        org: Option<OrgId>,
        id: Uuid,
    ) -> StoreResult<()> {
        let mut q = iat::Entity::delete_many()
            .filter(iat::Column::RealmId.eq(realm.0))
            .filter(iat::Column::Id.eq(id));
        if let Some(o) = org {
            q = q.filter(iat::Column::OrgId.eq(o.0));
        }
        if q.exec(&self.db).await?.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Inserts a registered client with its registration token's hash, in the same
    /// transaction as what authorizes it: one use of the initial token (a conditional
    /// UPDATE: concurrent registrations cannot overspend it), or the open-registration
    /// cap. `NotFound`: the token is spent, expired or unknown; `Conflict`: the cap is
    /// reached (or the client_id is taken).
    pub async fn insert_registered_client(
        &self,
        realm: RealmId,
        c: &NewClient,
        secret_hash: Option<Vec<u8>>,
        registration_hash: Vec<u8>,
        grant: RegistrationGrant<'_>,
        now: UnixTime,
    ) -> StoreResult<Client> {
        let tx = self.db.begin().await?;
        match grant {
            RegistrationGrant::InitialToken(hash) => {
                let res = iat::Entity::update_many()
                    .col_expr(
                        iat::Column::Remaining,
                        Expr::col(iat::Column::Remaining).sub(1),
                    )
                    .filter(iat::Column::RealmId.eq(realm.0))
                    .filter(iat::Column::TokenHash.eq(hash.to_vec()))
                    .filter(iat::Column::Remaining.gt(0))
                    .filter(iat::Column::ExpiresAt.gt(now.0))
                    .exec(&tx)
                    .await?;
                if res.rows_affected != 1 {
                    return Err(StoreError::NotFound);
                }
            }
            RegistrationGrant::Open { .. } => {
                // Concurrent open registrations take turns on the realm's row, so that
                // each counts what the one before it inserted. On SQLite the INSERT
                // below comes first and takes the database's one write lock.
                if self.backend() == crate::Backend::Postgres {
                    realm::Entity::find_by_id(realm.0)
                        .lock(LockType::NoKeyUpdate)
                        .one(&tx)
                        .await?;
                }
            }
        }
        let mut m = new_client_model(realm, ClientUuid::new_v7(), c, secret_hash, now);
        m.registration_token_hash = Set(Some(registration_hash));
        m.registered_openly = Set(matches!(grant, RegistrationGrant::Open { .. }));
        let client = to_domain(m.insert(&tx).await?)?;
        if let RegistrationGrant::Open { max_clients } = grant {
            // Only open registrations count against the cap: clients registered with an
            // initial token were vouched for by an administrator. This one included.
            let held = client::Entity::find()
                .filter(client::Column::RealmId.eq(realm.0))
                .filter(client::Column::RegisteredOpenly.eq(true))
                .count(&tx)
                .await?;
            if held > u64::from(max_clients) {
                return Err(StoreError::Conflict);
            }
        }
        tx.commit().await?;
        Ok(client)
    }

    /// Replaces a registered client's metadata and rotates its registration token, if the
    /// token it was authorized with is still the current one (one conditional UPDATE: of
    /// two updates racing with the same token, one wins, the other is `NotFound`).
    pub async fn update_registered_client(
        &self,
        realm: RealmId,
        id: ClientUuid,
        c: &NewClient,
        old_hash: &[u8],
        new_hash: Vec<u8>,
    ) -> StoreResult<Client> {
        let tx = self.db.begin().await?;
        let res = client::Entity::update_many()
            .col_expr(
                client::Column::RegistrationTokenHash,
                Expr::value(Some(new_hash)),
            )
            .filter(client::Column::RealmId.eq(realm.0))
            .filter(client::Column::Id.eq(id.0))
            .filter(client::Column::RegistrationTokenHash.eq(old_hash.to_vec()))
            .exec(&tx)
            .await?;
        if res.rows_affected != 1 {
            return Err(StoreError::NotFound);
        }
        let client = replace_client(&tx, realm, id, c).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// Deletes a registered client if `hash` is still its registration token's; its
    /// grants, refresh tokens and opaque tokens go with it (foreign keys cascade).
    pub async fn delete_registered_client(
        &self,
        realm: RealmId,
        id: ClientUuid,
        hash: &[u8],
    ) -> StoreResult<()> {
        let res = client::Entity::delete_many()
            .filter(client::Column::RealmId.eq(realm.0))
            .filter(client::Column::Id.eq(id.0))
            .filter(client::Column::RegistrationTokenHash.eq(hash.to_vec()))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Drops expired tokens. A used-up one stays listed until it expires, so the
    /// administrator who minted it sees that it was spent rather than a vanished row.
    pub(crate) async fn purge_initial_tokens(&self, now: UnixTime) -> StoreResult<u64> {
        let res = iat::Entity::delete_many()
            .filter(iat::Column::ExpiresAt.lte(now.0))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::RegistrationGrant;
    use crate::clients::tests::new_client;
    use crate::test_util::two_realms;
    use crate::{PageRequest, StoreError};
    use tessera_domain::{ClientId, InitialAccessToken, RealmId, UnixTime};

    fn token(realm: RealmId, remaining: i64, expires_at: i64) -> InitialAccessToken {
        InitialAccessToken {
            id: uuid::Uuid::now_v7(),
            realm_id: realm,
            org_id: None,
            remaining,
            expires_at: UnixTime(expires_at),
            created_at: UnixTime(1),
            created_by: "op".into(),
        }
    }

    #[tokio::test]
    async fn an_initial_token_is_spent_once_per_registration_in_its_realm_only() {
        let (s, a, b) = two_realms().await;
        s.insert_initial_token(&token(a.id, 2, 100), vec![1; 32])
            .await
            .unwrap();
        let grant = RegistrationGrant::InitialToken(&[1; 32]);
        let register = |realm: RealmId, id: &str, now: i64| {
            let c = new_client(id);
            let s = s.clone();
            async move {
                s.insert_registered_client(realm, &c, None, vec![9; 32], grant, UnixTime(now))
                    .await
            }
        };
        // Another realm cannot spend it, and an expired token spends nothing.
        assert!(matches!(
            register(b.id, "x", 10).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            register(a.id, "x", 100).await,
            Err(StoreError::NotFound)
        ));
        let c = register(a.id, "one", 10).await.unwrap();
        assert_eq!(c.registration_token_hash, Some(vec![9; 32]));
        assert!(!c.registered_openly);
        register(a.id, "two", 10).await.unwrap();
        assert!(matches!(
            register(a.id, "three", 10).await,
            Err(StoreError::NotFound)
        ));
        // The refused registrations left no client behind.
        for id in ["x", "three"] {
            let id = ClientId::parse(id).unwrap();
            assert!(
                s.find_client_by_client_id(a.id, &id)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        let page = PageRequest {
            after: None,
            limit: 10,
        };
        assert_eq!(
            s.list_initial_tokens(a.id, None, &page).await.unwrap()[0].remaining,
            0
        );
        // Expired: swept; used up (realm a's) but unexpired: kept.
        s.insert_initial_token(&token(b.id, 5, 20), vec![2; 32])
            .await
            .unwrap();
        s.insert_initial_token(&token(b.id, 5, 200), vec![3; 32])
            .await
            .unwrap();
        assert_eq!(s.purge_initial_tokens(UnixTime(50)).await.unwrap(), 1);
        assert_eq!(
            s.list_initial_tokens(a.id, None, &page)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            s.list_initial_tokens(b.id, None, &page)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn open_registration_stops_at_the_cap_and_marks_its_clients() {
        let (s, a, _) = two_realms().await;
        let open = RegistrationGrant::Open { max_clients: 1 };
        let c = s
            .insert_registered_client(a.id, &new_client("o1"), None, vec![1], open, UnixTime(1))
            .await
            .unwrap();
        assert!(c.registered_openly);
        assert!(matches!(
            s.insert_registered_client(a.id, &new_client("o2"), None, vec![2], open, UnixTime(1))
                .await,
            Err(StoreError::Conflict)
        ));
    }
}
