//! Dynamic client registration (RFC 7591): who may register in a realm (its mode and the
//! limits of open registration), and the initial access tokens administrators mint,
//! stored only as hashes and counted down by one conditional UPDATE each.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    /// closed, initial-token (default) or open.
    RegistrationMode,
    /// JSON limits of open registration; NULL: the defaults.
    RegistrationPolicy,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    /// Registered without an initial token: the open-registration limits apply to its
    /// RFC 7592 updates too.
    RegisteredOpenly,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InitialAccessTokens {
    Table,
    Id,
    RealmId,
    /// SHA-256 of the token.
    TokenHash,
    /// Clients registered with it belong to this organization.
    OrgId,
    Remaining,
    ExpiresAt,
    CreatedAt,
    CreatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let adds = [
            string(Realms::RegistrationMode)
                .default("initial-token")
                .to_owned(),
            text_null(Realms::RegistrationPolicy),
        ];
        // One column per statement: SQLite alters one at a time.
        for mut col in adds {
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
                .table(Clients::Table)
                .add_column(boolean(Clients::RegisteredOpenly).default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(InitialAccessTokens::Table)
                .col(uuid(InitialAccessTokens::Id).primary_key())
                .col(uuid(InitialAccessTokens::RealmId))
                .col(binary(InitialAccessTokens::TokenHash).unique_key())
                .col(uuid_null(InitialAccessTokens::OrgId))
                .col(big_integer(InitialAccessTokens::Remaining))
                .col(big_integer(InitialAccessTokens::ExpiresAt))
                .col(big_integer(InitialAccessTokens::CreatedAt))
                .col(string(InitialAccessTokens::CreatedBy))
                .foreign_key(
                    ForeignKey::create()
                        .from(InitialAccessTokens::Table, InitialAccessTokens::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(InitialAccessTokens::Table, InitialAccessTokens::OrgId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Listing per realm, and the sweep of expired tokens across realms.
        m.create_index(
            Index::create()
                .name("idx_initial_access_tokens_realm")
                .table(InitialAccessTokens::Table)
                .col(InitialAccessTokens::RealmId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_initial_access_tokens_expires")
                .table(InitialAccessTokens::Table)
                .col(InitialAccessTokens::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(InitialAccessTokens::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Clients::Table)
                .drop_column(Clients::RegisteredOpenly)
                .to_owned(),
        )
        .await?;
        for col in [Realms::RegistrationPolicy, Realms::RegistrationMode] {
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
