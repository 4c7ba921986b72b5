//! People help themselves: single-use links mailed to them (password reset, e-mail
//! verification, e-mail change). Only the hash of a link's secret is stored; a link is
//! consumed by one conditional UPDATE.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    RealmId,
    UserId,
    Purpose,
    TokenHash,
    Email,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccountTokens::Table)
                .if_not_exists()
                .col(uuid(AccountTokens::Id).primary_key())
                .col(uuid(AccountTokens::RealmId))
                .col(uuid(AccountTokens::UserId))
                .col(string_len(AccountTokens::Purpose, 16))
                .col(binary(AccountTokens::TokenHash).unique_key())
                .col(string_len(AccountTokens::Email, 320))
                .col(big_integer(AccountTokens::CreatedAt))
                .col(big_integer(AccountTokens::ExpiresAt))
                .col(big_integer_null(AccountTokens::ConsumedAt))
                .foreign_key(&mut cascade(
                    (AccountTokens::Table, AccountTokens::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut cascade(
                    (AccountTokens::Table, AccountTokens::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // A new link retires the user's earlier ones of its kind.
        m.create_index(
            Index::create()
                .name("idx_account_tokens_user")
                .table(AccountTokens::Table)
                .col(AccountTokens::UserId)
                .to_owned(),
        )
        .await?;
        // The expiry sweep's range.
        m.create_index(
            Index::create()
                .name("idx_account_tokens_expires")
                .table(AccountTokens::Table)
                .col(AccountTokens::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(AccountTokens::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
