//! A realm's SMTP server, one row per realm; the password arrives sealed and leaves sealed.

use crate::entity::realm_smtp;
use crate::{Store, StoreResult};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use tessera_domain::{Email, RealmId, SmtpSecurity, SmtpSettings, UnixTime};

/// A realm's SMTP settings with the sealed password, if one is set.
pub struct StoredSmtp {
    pub settings: SmtpSettings,
    pub password_sealed: Option<Vec<u8>>,
}

impl Store {
    pub async fn get_realm_smtp(&self, realm: RealmId) -> StoreResult<Option<StoredSmtp>> {
        let Some(m) = realm_smtp::Entity::find()
            .filter(realm_smtp::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(StoredSmtp {
            settings: SmtpSettings {
                host: m.host,
                port: u16::try_from(m.port).unwrap_or(0),
                security: SmtpSecurity::parse(&m.security)?,
                username: m.username,
                from: Email::parse(&m.from_address)?,
            },
            password_sealed: m.password_sealed,
        }))
    }

    /// Sets (or replaces) a realm's SMTP server.
    pub async fn put_realm_smtp(
        &self,
        realm: RealmId,
        s: &SmtpSettings,
        password_sealed: Option<Vec<u8>>,
        now: UnixTime,
    ) -> StoreResult<()> {
        let row = realm_smtp::ActiveModel {
            realm_id: Set(realm.0),
            host: Set(s.host.clone()),
            port: Set(i32::from(s.port)),
            security: Set(s.security.as_str().to_owned()),
            username: Set(s.username.clone()),
            password_sealed: Set(password_sealed),
            from_address: Set(s.from.as_str().to_owned()),
            updated_at: Set(now.0),
        };
        realm_smtp::Entity::insert(row)
            .on_conflict(
                OnConflict::column(realm_smtp::Column::RealmId)
                    .update_columns([
                        realm_smtp::Column::Host,
                        realm_smtp::Column::Port,
                        realm_smtp::Column::Security,
                        realm_smtp::Column::Username,
                        realm_smtp::Column::PasswordSealed,
                        realm_smtp::Column::FromAddress,
                        realm_smtp::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// `false` when the realm had none.
    pub async fn delete_realm_smtp(&self, realm: RealmId) -> StoreResult<bool> {
        let r = realm_smtp::Entity::delete_many()
            .filter(realm_smtp::Column::RealmId.eq(realm.0))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected > 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::StoreError;
    use crate::test_util::{realm, test_store};
    use tessera_domain::{Email, SmtpSecurity, SmtpSettings, UnixTime};

    #[tokio::test]
    async fn a_write_for_a_realm_deleted_meanwhile_is_not_found_rather_than_a_database_error() {
        let s = test_store().await;
        let r = realm("gone");
        s.insert_realm(&r).await.unwrap();
        s.delete_realm(r.id).await.unwrap();
        let smtp = SmtpSettings {
            host: "mail.example".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: None,
            from: Email::parse("noreply@example.com").unwrap(),
        };
        let res = s.put_realm_smtp(r.id, &smtp, None, UnixTime(1)).await;
        assert!(matches!(res, Err(StoreError::NotFound)), "{res:?}");
    }
}
