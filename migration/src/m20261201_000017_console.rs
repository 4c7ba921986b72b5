//! The console: sessions of people signed in to it (the cookie holds a secret whose hash
//! is the key; idle and absolute timeouts from the realm's lifetimes), and realm roles of
//! users (`admin` in realm `master` makes a person a realm administrator).

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
enum UserRoles {
    Table,
    RealmId,
    UserId,
    Role,
}

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    Id,
    RealmId,
    TokenHash,
    UserId,
    Csrf,
    CreatedAt,
    LastSeenAt,
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
                .table(UserRoles::Table)
                .if_not_exists()
                .col(uuid(UserRoles::RealmId))
                .col(uuid(UserRoles::UserId))
                .col(string_len(UserRoles::Role, 64))
                .primary_key(Index::create().col(UserRoles::UserId).col(UserRoles::Role))
                .foreign_key(&mut cascade(
                    (UserRoles::Table, UserRoles::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut cascade(
                    (UserRoles::Table, UserRoles::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConsoleSessions::Table)
                .if_not_exists()
                .col(uuid(ConsoleSessions::Id).primary_key())
                .col(uuid(ConsoleSessions::RealmId))
                .col(binary(ConsoleSessions::TokenHash).unique_key())
                .col(uuid(ConsoleSessions::UserId))
                .col(string_len(ConsoleSessions::Csrf, 64))
                .col(big_integer(ConsoleSessions::CreatedAt))
                .col(big_integer(ConsoleSessions::LastSeenAt))
                .foreign_key(&mut cascade(
                    (ConsoleSessions::Table, ConsoleSessions::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut cascade(
                    (ConsoleSessions::Table, ConsoleSessions::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // The expiry sweep's range.
        m.create_index(
            Index::create()
                .name("idx_console_sessions_last_seen")
                .table(ConsoleSessions::Table)
                .col(ConsoleSessions::LastSeenAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ConsoleSessions::Table.into_iden(),
            UserRoles::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
