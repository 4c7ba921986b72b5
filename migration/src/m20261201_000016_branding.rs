//! Branding of the sign-in pages: a realm's display name and logo, an organization's logo.
//! NULL everywhere means "not set": the pages fall back to the realm's name and no logo.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    DisplayName,
    LogoUri,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    LogoUri,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for mut col in [
            string_len_null(Realms::DisplayName, 128),
            string_len_null(Realms::LogoUri, 2048),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .add_column(string_len_null(Organizations::LogoUri, 2048))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .drop_column(Organizations::LogoUri)
                .to_owned(),
        )
        .await?;
        for col in [Realms::LogoUri, Realms::DisplayName] {
            m.alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
