//! Realms, their signing keys and clients, opaque access tokens and the JWT revocation list.
//! Every table below `realms` carries `realm_id` and is keyed or uniquely indexed by it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    Name,
    Enabled,
    AccessTokenAlg,
    AccessTokenLifetimeSecs,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    RealmId,
    Kid,
    Alg,
    Status,
    SealedPrivateKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    RealmId,
    ClientId,
    Name,
    Enabled,
    SecretHash,
    RedirectUris,
    GrantTypes,
    Scopes,
    Roles,
    AccessTokenFormat,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OpaqueTokens {
    Table,
    RealmId,
    TokenHash,
    Jti,
    ClientUuid,
    ClientId,
    Subject,
    Scope,
    Audience,
    Roles,
    IssuedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    RealmId,
    Jti,
    ExpiresAt,
}

fn realm_fk(from: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_col(from)
        .to(Realms::Table, Realms::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Realms::Table)
                .if_not_exists()
                .col(pk_uuid(Realms::Id))
                .col(string_uniq(Realms::Name))
                .col(boolean(Realms::Enabled))
                .col(string(Realms::AccessTokenAlg))
                .col(big_integer(Realms::AccessTokenLifetimeSecs))
                .col(big_integer(Realms::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .if_not_exists()
                .col(uuid(SigningKeys::RealmId))
                .col(string(SigningKeys::Kid))
                .col(string(SigningKeys::Alg))
                .col(string(SigningKeys::Status))
                .col(blob(SigningKeys::SealedPrivateKey))
                .col(big_integer(SigningKeys::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(SigningKeys::RealmId)
                        .col(SigningKeys::Kid),
                )
                .foreign_key(
                    &mut realm_fk(SigningKeys::RealmId)
                        .from_tbl(SigningKeys::Table)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Clients::Table)
                .if_not_exists()
                .col(pk_uuid(Clients::Id))
                .col(uuid(Clients::RealmId))
                .col(string(Clients::ClientId))
                .col(string(Clients::Name))
                .col(boolean(Clients::Enabled))
                .col(blob_null(Clients::SecretHash))
                .col(text(Clients::RedirectUris))
                .col(text(Clients::GrantTypes))
                .col(text(Clients::Scopes))
                .col(text(Clients::Roles))
                .col(string(Clients::AccessTokenFormat))
                .col(big_integer(Clients::CreatedAt))
                .foreign_key(
                    &mut realm_fk(Clients::RealmId)
                        .from_tbl(Clients::Table)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_clients_realm_client_id")
                .table(Clients::Table)
                .col(Clients::RealmId)
                .col(Clients::ClientId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OpaqueTokens::Table)
                .if_not_exists()
                .col(uuid(OpaqueTokens::RealmId))
                .col(blob(OpaqueTokens::TokenHash))
                .col(string(OpaqueTokens::Jti))
                .col(uuid(OpaqueTokens::ClientUuid))
                .col(string(OpaqueTokens::ClientId))
                .col(string(OpaqueTokens::Subject))
                .col(text(OpaqueTokens::Scope))
                .col(text(OpaqueTokens::Audience))
                .col(text(OpaqueTokens::Roles))
                .col(big_integer(OpaqueTokens::IssuedAt))
                .col(big_integer(OpaqueTokens::ExpiresAt))
                .primary_key(
                    Index::create()
                        .col(OpaqueTokens::RealmId)
                        .col(OpaqueTokens::TokenHash),
                )
                .foreign_key(
                    &mut realm_fk(OpaqueTokens::RealmId)
                        .from_tbl(OpaqueTokens::Table)
                        .to_owned(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OpaqueTokens::Table, OpaqueTokens::ClientUuid)
                        .to(Clients::Table, Clients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_opaque_tokens_expires_at")
                .table(OpaqueTokens::Table)
                .col(OpaqueTokens::ExpiresAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RevokedTokens::Table)
                .if_not_exists()
                .col(uuid(RevokedTokens::RealmId))
                .col(string(RevokedTokens::Jti))
                .col(big_integer(RevokedTokens::ExpiresAt))
                .primary_key(
                    Index::create()
                        .col(RevokedTokens::RealmId)
                        .col(RevokedTokens::Jti),
                )
                .foreign_key(
                    &mut realm_fk(RevokedTokens::RealmId)
                        .from_tbl(RevokedTokens::Table)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_revoked_tokens_expires_at")
                .table(RevokedTokens::Table)
                .col(RevokedTokens::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            RevokedTokens::Table.into_iden(),
            OpaqueTokens::Table.into_iden(),
            Clients::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            Realms::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
