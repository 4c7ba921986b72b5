//! Token exchange (RFC 8693): per-client exchange policies, the realm's delegation depth,
//! single-use impersonation tokens, and the exchange log (lineage parent → child, audit).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    MaxDelegationDepth,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    ExchangePolicy,
}

#[derive(DeriveIden)]
enum OpaqueTokens {
    Table,
    Act,
    Lineage,
}

#[derive(DeriveIden)]
enum ImpersonationTokens {
    Table,
    RealmId,
    TokenHash,
    UserId,
    ClientUuid,
    AdminSub,
    AdminClientId,
    Reason,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum TokenExchanges {
    Table,
    Id,
    RealmId,
    ParentJti,
    ChildJti,
    Subject,
    Actors,
    ClientId,
    Reason,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let adds: Vec<(DynIden, ColumnDef)> = vec![
            (
                Realms::Table.into_iden(),
                big_integer(Realms::MaxDelegationDepth)
                    .default(3)
                    .to_owned(),
            ),
            (
                Clients::Table.into_iden(),
                text_null(Clients::ExchangePolicy),
            ),
            // JSON `act` of an exchanged opaque token, and its ancestors' jtis.
            (
                OpaqueTokens::Table.into_iden(),
                text_null(OpaqueTokens::Act),
            ),
            (
                OpaqueTokens::Table.into_iden(),
                text_null(OpaqueTokens::Lineage),
            ),
        ];
        for (table, mut col) in adds {
            m.alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
                .await?;
        }
        m.create_table(
            Table::create()
                .table(ImpersonationTokens::Table)
                .if_not_exists()
                .col(uuid(ImpersonationTokens::RealmId))
                .col(blob(ImpersonationTokens::TokenHash))
                .col(uuid(ImpersonationTokens::UserId))
                .col(uuid(ImpersonationTokens::ClientUuid))
                .col(string(ImpersonationTokens::AdminSub))
                .col(string(ImpersonationTokens::AdminClientId))
                .col(text(ImpersonationTokens::Reason))
                .col(big_integer(ImpersonationTokens::CreatedAt))
                .col(big_integer(ImpersonationTokens::ExpiresAt))
                .col(big_integer_null(ImpersonationTokens::ConsumedAt))
                .primary_key(
                    Index::create()
                        .col(ImpersonationTokens::RealmId)
                        .col(ImpersonationTokens::TokenHash),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ImpersonationTokens::Table, ImpersonationTokens::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TokenExchanges::Table)
                .if_not_exists()
                .col(pk_uuid(TokenExchanges::Id))
                .col(uuid(TokenExchanges::RealmId))
                .col(string(TokenExchanges::ParentJti))
                .col(string(TokenExchanges::ChildJti))
                .col(string(TokenExchanges::Subject))
                // JSON array, outermost actor first.
                .col(text(TokenExchanges::Actors))
                .col(string(TokenExchanges::ClientId))
                .col(text_null(TokenExchanges::Reason))
                .col(big_integer(TokenExchanges::CreatedAt))
                .col(big_integer(TokenExchanges::ExpiresAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TokenExchanges::Table, TokenExchanges::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_token_exchanges_parent", TokenExchanges::ParentJti),
            ("ix_token_exchanges_subject", TokenExchanges::Subject),
            ("ix_token_exchanges_client", TokenExchanges::ClientId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(TokenExchanges::Table)
                    .col(TokenExchanges::RealmId)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            TokenExchanges::Table.into_iden(),
            ImpersonationTokens::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        let drops: Vec<(DynIden, DynIden)> = vec![
            (
                OpaqueTokens::Table.into_iden(),
                OpaqueTokens::Lineage.into_iden(),
            ),
            (
                OpaqueTokens::Table.into_iden(),
                OpaqueTokens::Act.into_iden(),
            ),
            (
                Clients::Table.into_iden(),
                Clients::ExchangePolicy.into_iden(),
            ),
            (
                Realms::Table.into_iden(),
                Realms::MaxDelegationDepth.into_iden(),
            ),
        ];
        for (table, col) in drops {
            m.alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
