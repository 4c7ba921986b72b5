//! Tokens from trusted issuers: what a provider accepts (its token trust, a token-only
//! issuer's keys, the organization-admin exchange), organizations' external ids (what an
//! upstream's `org_id` claim names), the external `jti`s already used (one row per
//! provider and `jti` until the token expires: a replay fails on the primary key of the
//! one INSERT), the external issuer in the exchange log, and the clients the
//! organization-admin exchange issued, bound to the upstream session that asked.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Id,
    TokenTrust,
    SigningKeys,
    OrgAdminExchange,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    RealmId,
    ExternalId,
}

#[derive(DeriveIden)]
enum TokenExchanges {
    Table,
    ExternalIssuer,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ExternalTokenJtis {
    Table,
    RealmId,
    IdpId,
    Jti,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum OrgAdminClients {
    Table,
    ClientId,
    RealmId,
    OrgId,
    UserId,
    IdpId,
    UpstreamSid,
    Origin,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for mut col in [
            text_null(IdentityProviders::TokenTrust),
            text_null(IdentityProviders::SigningKeys),
            text_null(IdentityProviders::OrgAdminExchange),
        ] {
            m.alter_table(
                Table::alter()
                    .table(IdentityProviders::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .add_column(string_len_null(Organizations::ExternalId, 255))
                .to_owned(),
        )
        .await?;
        // Several NULLs are allowed by both engines' unique indexes.
        m.create_index(
            Index::create()
                .name("idx_organizations_external_id")
                .table(Organizations::Table)
                .col(Organizations::RealmId)
                .col(Organizations::ExternalId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(TokenExchanges::Table)
                .add_column(text_null(TokenExchanges::ExternalIssuer))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ExternalTokenJtis::Table)
                .if_not_exists()
                .col(uuid(ExternalTokenJtis::RealmId))
                .col(uuid(ExternalTokenJtis::IdpId))
                .col(string(ExternalTokenJtis::Jti))
                .col(big_integer(ExternalTokenJtis::ExpiresAt))
                .primary_key(
                    Index::create()
                        .col(ExternalTokenJtis::IdpId)
                        .col(ExternalTokenJtis::Jti),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ExternalTokenJtis::Table, ExternalTokenJtis::IdpId)
                        .to(IdentityProviders::Table, IdentityProviders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_external_token_jtis_expires_at")
                .table(ExternalTokenJtis::Table)
                .col(ExternalTokenJtis::ExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OrgAdminClients::Table)
                .if_not_exists()
                .col(uuid(OrgAdminClients::ClientId).primary_key())
                .col(uuid(OrgAdminClients::RealmId))
                .col(uuid(OrgAdminClients::OrgId))
                .col(uuid(OrgAdminClients::UserId))
                .col(uuid(OrgAdminClients::IdpId))
                .col(string_len(OrgAdminClients::UpstreamSid, 255))
                .col(string_len(OrgAdminClients::Origin, 512))
                .col(big_integer(OrgAdminClients::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OrgAdminClients::Table, OrgAdminClients::ClientId)
                        .to(Clients::Table, Clients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OrgAdminClients::Table, OrgAdminClients::OrgId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OrgAdminClients::Table, OrgAdminClients::IdpId)
                        .to(IdentityProviders::Table, IdentityProviders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Reuse for the same person, upstream session and origin; logout by session.
        m.create_index(
            Index::create()
                .name("idx_org_admin_clients_session")
                .table(OrgAdminClients::Table)
                .col(OrgAdminClients::IdpId)
                .col(OrgAdminClients::UpstreamSid)
                .col(OrgAdminClients::UserId)
                .col(OrgAdminClients::Origin)
                .unique()
                .to_owned(),
        )
        .await?;
        // The per-organization creation rate.
        m.create_index(
            Index::create()
                .name("idx_org_admin_clients_org_created")
                .table(OrgAdminClients::Table)
                .col(OrgAdminClients::OrgId)
                .col(OrgAdminClients::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            OrgAdminClients::Table.into_iden(),
            ExternalTokenJtis::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        m.drop_index(
            Index::drop()
                .name("idx_organizations_external_id")
                .table(Organizations::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .drop_column(Organizations::ExternalId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(TokenExchanges::Table)
                .drop_column(TokenExchanges::ExternalIssuer)
                .to_owned(),
        )
        .await?;
        for col in [
            IdentityProviders::TokenTrust,
            IdentityProviders::SigningKeys,
            IdentityProviders::OrgAdminExchange,
        ] {
            m.alter_table(
                Table::alter()
                    .table(IdentityProviders::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
