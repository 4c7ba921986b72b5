//! Single-use links mailed to people (password reset, e-mail verification and change):
//! found by the hash of their secret, consumed by one conditional UPDATE.

use crate::entity::account_token as at;
use crate::{Store, StoreResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use tessera_domain::{AccountToken, AccountTokenPurpose, Email, RealmId, UnixTime, UserId};

fn token_of(m: at::Model) -> StoreResult<Option<AccountToken>> {
    let Some(purpose) = AccountTokenPurpose::parse(&m.purpose) else {
        return Ok(None);
    };
    Ok(Some(AccountToken {
        id: m.id,
        realm_id: RealmId(m.realm_id),
        user_id: UserId(m.user_id),
        purpose,
        email: Email::parse(&m.email)?,
        created_at: UnixTime(m.created_at),
        expires_at: UnixTime(m.expires_at),
    }))
}

fn purposes(p: &[AccountTokenPurpose]) -> Vec<&'static str> {
    p.iter().map(|p| p.as_str()).collect()
}

impl Store {
    /// Stores a new link and retires the user's pending links of the purposes it
    /// replaces (`AccountTokenPurpose::retires`), so only the newest works.
    pub async fn insert_account_token(
        &self,
        t: &AccountToken,
        token_hash: Vec<u8>,
        now: UnixTime,
    ) -> StoreResult<()> {
        at::Entity::update_many()
            .col_expr(at::Column::ConsumedAt, Expr::value(now.0))
            .filter(at::Column::RealmId.eq(t.realm_id.0))
            .filter(at::Column::UserId.eq(t.user_id.0))
            .filter(at::Column::Purpose.is_in(purposes(t.purpose.retires())))
            .filter(at::Column::ConsumedAt.is_null())
            .exec(&self.db)
            .await?;
        at::Entity::insert(at::ActiveModel {
            id: Set(t.id),
            realm_id: Set(t.realm_id.0),
            user_id: Set(t.user_id.0),
            purpose: Set(t.purpose.as_str().to_owned()),
            token_hash: Set(token_hash),
            email: Set(t.email.as_str().to_owned()),
            created_at: Set(t.created_at.0),
            expires_at: Set(t.expires_at.0),
            consumed_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// The pending, unexpired link of `purpose` whose secret hashes to `token_hash` (a
    /// look before the work a consume would waste; the consume still decides).
    pub async fn find_account_token(
        &self,
        realm: RealmId,
        purpose: AccountTokenPurpose,
        token_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<AccountToken>> {
        let row = at::Entity::find()
            .filter(at::Column::RealmId.eq(realm.0))
            .filter(at::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(at::Column::Purpose.eq(purpose.as_str()))
            .filter(at::Column::ConsumedAt.is_null())
            .filter(at::Column::ExpiresAt.gt(now.0))
            .one(&self.db)
            .await?;
        Ok(row.map(token_of).transpose()?.flatten())
    }

    /// Consumes a link: one conditional UPDATE on (realm, hash, purpose, pending,
    /// unexpired), so of two concurrent uses exactly one gets the link.
    pub async fn consume_account_token(
        &self,
        realm: RealmId,
        purposes_allowed: &[AccountTokenPurpose],
        token_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<AccountToken>> {
        let rows = at::Entity::update_many()
            .col_expr(at::Column::ConsumedAt, Expr::value(now.0))
            .filter(at::Column::RealmId.eq(realm.0))
            .filter(at::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(at::Column::Purpose.is_in(purposes(purposes_allowed)))
            .filter(at::Column::ConsumedAt.is_null())
            .filter(at::Column::ExpiresAt.gt(now.0))
            .exec_with_returning(&self.db)
            .await?;
        match rows.into_iter().next() {
            Some(m) => token_of(m),
            None => Ok(None),
        }
    }

    /// Links past their expiry, used or not: the expiry sweep.
    pub(crate) async fn purge_account_tokens(&self, now: UnixTime) -> StoreResult<u64> {
        Ok(at::Entity::delete_many()
            .filter(at::Column::ExpiresAt.lt(now.0))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
