//! `private_key_jwt` client assertions already used (RFC 7523 §3: `jti` single use): one
//! row per (client, `jti`) until the assertion expires, so a replay fails on the primary
//! key of the one INSERT that records it. And which clients were made from a client ID
//! metadata document (their `client_id` is its URL): those, and only those, are rewritten
//! when the document changes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ClientAssertionJtis {
    Table,
    /// Kept for scoping by realm like every other table; the client implies it.
    RealmId,
    ClientId,
    Jti,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ClientMetadataDocuments {
    Table,
    ClientId,
    RealmId,
    FetchedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ClientAssertionJtis::Table)
                .if_not_exists()
                .col(uuid(ClientAssertionJtis::RealmId))
                .col(uuid(ClientAssertionJtis::ClientId))
                .col(string(ClientAssertionJtis::Jti))
                .col(big_integer(ClientAssertionJtis::ExpiresAt))
                .primary_key(
                    Index::create()
                        .col(ClientAssertionJtis::ClientId)
                        .col(ClientAssertionJtis::Jti),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ClientAssertionJtis::Table, ClientAssertionJtis::ClientId)
                        .to(Clients::Table, Clients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The purge job deletes by expiry.
        m.create_index(
            Index::create()
                .name("idx_client_assertion_jtis_expires_at")
                .table(ClientAssertionJtis::Table)
                .col(ClientAssertionJtis::ExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ClientMetadataDocuments::Table)
                .if_not_exists()
                .col(uuid(ClientMetadataDocuments::ClientId).primary_key())
                .col(uuid(ClientMetadataDocuments::RealmId))
                .col(big_integer(ClientMetadataDocuments::FetchedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ClientMetadataDocuments::Table,
                            ClientMetadataDocuments::ClientId,
                        )
                        .to(Clients::Table, Clients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ClientMetadataDocuments::Table.into_iden(),
            ClientAssertionJtis::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
