//! Scoped admin keys (biscuit): one Ed25519 root key per realm, its private half sealed
//! with the master key, and one row per minted key, named by its authority block's
//! revocation id. The key itself is never stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AdminKeyRoots {
    Table,
    RealmId,
    PublicKey,
    SealedPrivateKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AdminKeys {
    Table,
    RealmId,
    RevocationId,
    Name,
    OrgId,
    ReadOnly,
    ExpiresAt,
    CreatedAt,
    CreatedBy,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AdminKeyRoots::Table)
                .if_not_exists()
                .col(uuid(AdminKeyRoots::RealmId).primary_key())
                .col(string_len(AdminKeyRoots::PublicKey, 100))
                .col(blob(AdminKeyRoots::SealedPrivateKey))
                .col(big_integer(AdminKeyRoots::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(AdminKeyRoots::Table, AdminKeyRoots::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The primary key is the index every request's revocation check reads.
        m.create_table(
            Table::create()
                .table(AdminKeys::Table)
                .if_not_exists()
                .col(uuid(AdminKeys::RealmId))
                .col(string_len(AdminKeys::RevocationId, 200))
                .col(string_len_null(AdminKeys::Name, 200))
                .col(uuid_null(AdminKeys::OrgId))
                .col(boolean(AdminKeys::ReadOnly))
                .col(big_integer_null(AdminKeys::ExpiresAt))
                .col(big_integer(AdminKeys::CreatedAt))
                .col(text(AdminKeys::CreatedBy))
                .col(big_integer_null(AdminKeys::RevokedAt))
                .primary_key(
                    Index::create()
                        .col(AdminKeys::RealmId)
                        .col(AdminKeys::RevocationId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AdminKeys::Table, AdminKeys::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                // An organization's keys go with it (and stop working).
                .foreign_key(
                    ForeignKey::create()
                        .from(AdminKeys::Table, AdminKeys::OrgId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AdminKeys::Table).if_exists().to_owned())
            .await?;
        m.drop_table(
            Table::drop()
                .table(AdminKeyRoots::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
