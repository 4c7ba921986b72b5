//! Requests approved elsewhere (the device authorization grant, CIBA): one row per
//! request, found by the hash of what its client polls with (and a device request by the
//! hash of its user code), decided and redeemed by conditional UPDATEs. Realms get their
//! lifetimes and poll intervals, clients their CIBA delivery mode.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    DeviceCodeLifetimeSecs,
    DevicePollIntervalSecs,
    CibaLifetimeSecs,
    CibaPollIntervalSecs,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    CibaDeliveryMode,
    CibaNotificationEndpoint,
}

#[derive(DeriveIden)]
enum ApprovalRequests {
    Table,
    Id,
    RealmId,
    Kind,
    ClientUuid,
    HandleHash,
    UserCodeHash,
    Scope,
    Targets,
    UserId,
    BindingMessage,
    AcrValues,
    NotificationToken,
    Status,
    SessionId,
    Sid,
    AuthTime,
    Organization,
    SignedInVia,
    IntervalSecs,
    CreatedAt,
    ExpiresAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
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
        // SQLite takes one column per ALTER TABLE.
        for (col, default) in [
            (Realms::DeviceCodeLifetimeSecs, 600),
            (Realms::DevicePollIntervalSecs, 5),
            (Realms::CibaLifetimeSecs, 300),
            (Realms::CibaPollIntervalSecs, 5),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .add_column(big_integer(col).default(default))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Clients::Table)
                .add_column(string_len_null(Clients::CibaDeliveryMode, 8))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Clients::Table)
                .add_column(text_null(Clients::CibaNotificationEndpoint))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ApprovalRequests::Table)
                .if_not_exists()
                .col(uuid(ApprovalRequests::Id).primary_key())
                .col(uuid(ApprovalRequests::RealmId))
                .col(string_len(ApprovalRequests::Kind, 8))
                .col(uuid(ApprovalRequests::ClientUuid))
                .col(binary(ApprovalRequests::HandleHash).unique_key())
                .col(binary_null(ApprovalRequests::UserCodeHash).unique_key())
                .col(text(ApprovalRequests::Scope))
                .col(text(ApprovalRequests::Targets))
                .col(uuid_null(ApprovalRequests::UserId))
                .col(text_null(ApprovalRequests::BindingMessage))
                .col(text_null(ApprovalRequests::AcrValues))
                .col(binary_null(ApprovalRequests::NotificationToken))
                .col(string_len(ApprovalRequests::Status, 10))
                .col(uuid_null(ApprovalRequests::SessionId))
                .col(string_len_null(ApprovalRequests::Sid, 64))
                .col(big_integer_null(ApprovalRequests::AuthTime))
                .col(text_null(ApprovalRequests::Organization))
                .col(string_len_null(ApprovalRequests::SignedInVia, 200))
                .col(big_integer(ApprovalRequests::IntervalSecs))
                .col(big_integer(ApprovalRequests::CreatedAt))
                .col(big_integer(ApprovalRequests::ExpiresAt))
                .col(big_integer_null(ApprovalRequests::DecidedAt))
                .foreign_key(&mut cascade(
                    (ApprovalRequests::Table, ApprovalRequests::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut cascade(
                    (ApprovalRequests::Table, ApprovalRequests::ClientUuid),
                    (Clients::Table, Clients::Id),
                ))
                .foreign_key(&mut cascade(
                    (ApprovalRequests::Table, ApprovalRequests::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // The console's list of a realm's pending requests, the account page's of a person.
        m.create_index(
            Index::create()
                .name("idx_approval_requests_realm")
                .table(ApprovalRequests::Table)
                .col(ApprovalRequests::RealmId)
                .col(ApprovalRequests::Status)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_approval_requests_user")
                .table(ApprovalRequests::Table)
                .col(ApprovalRequests::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApprovalRequests::Table).to_owned())
            .await?;
        for col in [Clients::CibaDeliveryMode, Clients::CibaNotificationEndpoint] {
            m.alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [
            Realms::DeviceCodeLifetimeSecs,
            Realms::DevicePollIntervalSecs,
            Realms::CibaLifetimeSecs,
            Realms::CibaPollIntervalSecs,
        ] {
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
