//! Users of a realm, and per-realm Argon2id parameters for their password hashes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    PasswordParams,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    RealmId,
    Username,
    Email,
    EmailNormalized,
    EmailVerified,
    GivenName,
    FamilyName,
    Enabled,
    Attributes,
    PasswordHash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // JSON `{"m_cost":…,"t_cost":…,"p_cost":…}`; NULL = OWASP defaults.
        m.alter_table(
            Table::alter()
                .table(Realms::Table)
                .add_column(text_null(Realms::PasswordParams))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .if_not_exists()
                .col(pk_uuid(Users::Id))
                .col(uuid(Users::RealmId))
                // Lower-cased ASCII.
                .col(string(Users::Username))
                // As typed (display, claims) and NFC + lower case (look-ups, uniqueness).
                .col(text_null(Users::Email))
                .col(string_null(Users::EmailNormalized))
                .col(boolean(Users::EmailVerified))
                .col(text_null(Users::GivenName))
                .col(text_null(Users::FamilyName))
                .col(boolean(Users::Enabled))
                // A JSON object.
                .col(text(Users::Attributes))
                // PHC string (argon2id); NULL = no password login.
                .col(text_null(Users::PasswordHash))
                .col(big_integer(Users::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Users::Table, Users::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_realm_username")
                .table(Users::Table)
                .col(Users::RealmId)
                .col(Users::Username)
                .unique()
                .to_owned(),
        )
        .await?;
        // NULLs do not collide, on SQLite and PostgreSQL alike.
        m.create_index(
            Index::create()
                .name("ux_users_realm_email_normalized")
                .table(Users::Table)
                .col(Users::RealmId)
                .col(Users::EmailNormalized)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Users::Table).if_exists().to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Realms::Table)
                .drop_column(Realms::PasswordParams)
                .to_owned(),
        )
        .await
    }
}
