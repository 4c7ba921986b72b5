//! Failed-login budgets in the database, so that every process serving a database charges
//! the same budget: one GCRA theoretical arrival time per realm and key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    RealmId,
    /// SHA-256 of the budget's key (an account or an address): login names are what people
    /// typed, sometimes a password, so they are not stored as such.
    KeyHash,
    /// GCRA's theoretical arrival time, milliseconds since the epoch.
    Tat,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .if_not_exists()
                .col(uuid(LoginThrottle::RealmId))
                .col(blob(LoginThrottle::KeyHash))
                .col(big_integer(LoginThrottle::Tat))
                .primary_key(
                    Index::create()
                        .col(LoginThrottle::RealmId)
                        .col(LoginThrottle::KeyHash),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(LoginThrottle::Table, LoginThrottle::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The sweep deletes by arrival time across realms.
        m.create_index(
            Index::create()
                .name("login_throttle_tat")
                .table(LoginThrottle::Table)
                .col(LoginThrottle::Tat)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(LoginThrottle::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
