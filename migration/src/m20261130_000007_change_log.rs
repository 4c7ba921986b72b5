//! Changes other processes must see at once: every write that a running server caches
//! (realms with their keys, clients) appends a row, and every server reads the rows after the
//! last one it saw (woken by `NOTIFY` on PostgreSQL, polling on SQLite). Also gives every
//! existing realm the organization role templates `admin` and `member` that new realms get.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    Id,
    /// `realm` (by name) or `client` (realm id + client_id).
    Kind,
    RealmName,
    RealmId,
    ClientId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrganizationRoles {
    Table,
    Id,
    RealmId,
    Name,
    Description,
    CreatedAt,
}

/// The templates every realm starts with (as `OrgRoleName::TEMPLATES` in the domain, which
/// migrations do not depend on).
const TEMPLATES: [(&str, &str); 2] = [
    ("admin", "Manages the organization"),
    ("member", "Belongs to the organization"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ChangeLog::Table)
                .if_not_exists()
                .col(big_integer(ChangeLog::Id).auto_increment().primary_key())
                .col(string(ChangeLog::Kind))
                .col(string_null(ChangeLog::RealmName))
                .col(uuid_null(ChangeLog::RealmId))
                .col(string_null(ChangeLog::ClientId))
                .col(big_integer(ChangeLog::CreatedAt))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let realms = db
            .query_all(
                &Query::select()
                    .column(Realms::Id)
                    .from(Realms::Table)
                    .to_owned(),
            )
            .await?;
        let existing = db
            .query_all(
                &Query::select()
                    .columns([OrganizationRoles::RealmId, OrganizationRoles::Name])
                    .from(OrganizationRoles::Table)
                    .to_owned(),
            )
            .await?
            .into_iter()
            .map(|r| {
                Ok((
                    r.try_get::<Uuid>("", "realm_id")?,
                    r.try_get::<String>("", "name")?,
                ))
            })
            .collect::<Result<std::collections::HashSet<_>, DbErr>>()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        for row in realms {
            let realm: Uuid = row.try_get("", "id")?;
            for (name, description) in TEMPLATES {
                if existing.contains(&(realm, name.to_owned())) {
                    continue;
                }
                let insert = Query::insert()
                    .into_table(OrganizationRoles::Table)
                    .columns([
                        OrganizationRoles::Id,
                        OrganizationRoles::RealmId,
                        OrganizationRoles::Name,
                        OrganizationRoles::Description,
                        OrganizationRoles::CreatedAt,
                    ])
                    .values_panic([
                        uuid::Uuid::now_v7().into(),
                        realm.into(),
                        name.into(),
                        description.into(),
                        now.into(),
                    ])
                    .to_owned();
                db.execute(&insert).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ChangeLog::Table).if_exists().to_owned())
            .await
    }
}
