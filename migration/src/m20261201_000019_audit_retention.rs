//! How long a realm keeps its audit log: events older than this many days are swept.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    AuditRetentionDays,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Realms::Table)
                .add_column(big_integer(Realms::AuditRetentionDays).default(365))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Realms::Table)
                .drop_column(Realms::AuditRetentionDays)
                .to_owned(),
        )
        .await
    }
}
