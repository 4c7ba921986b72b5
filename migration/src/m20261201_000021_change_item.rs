//! The change log names one item (a request approved elsewhere) besides realms and
//! clients, so every server stops answering polls of a decided request from memory.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    ItemId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ChangeLog::Table)
                .add_column(uuid_null(ChangeLog::ItemId))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ChangeLog::Table)
                .drop_column(ChangeLog::ItemId)
                .to_owned(),
        )
        .await
    }
}
