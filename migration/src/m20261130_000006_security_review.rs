//! After the hostile review: clients allowed to act as an admin console, SMTP per realm
//! (invitation links are e-mailed, never shown to organization administrators), and
//! whether an invitation's link was delivered to its address (only then does accepting it
//! verify the e-mail).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    AdminConsole,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Delivered,
}

#[derive(DeriveIden)]
enum RealmSmtp {
    Table,
    RealmId,
    Host,
    Port,
    /// `starttls`, `tls` or `none` (loopback test servers only).
    Security,
    Username,
    /// AES-256-GCM under the master key, bound to the realm.
    PasswordSealed,
    FromAddress,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let adds: Vec<(DynIden, ColumnDef)> = vec![
            (
                Clients::Table.into_iden(),
                boolean(Clients::AdminConsole).default(false).to_owned(),
            ),
            (
                Invitations::Table.into_iden(),
                boolean(Invitations::Delivered).default(false).to_owned(),
            ),
        ];
        for (table, mut col) in adds {
            m.alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
                .await?;
        }
        m.create_table(
            Table::create()
                .table(RealmSmtp::Table)
                .if_not_exists()
                .col(pk_uuid(RealmSmtp::RealmId))
                .col(string(RealmSmtp::Host))
                .col(integer(RealmSmtp::Port))
                .col(string(RealmSmtp::Security))
                .col(string_null(RealmSmtp::Username))
                .col(blob_null(RealmSmtp::PasswordSealed))
                .col(string(RealmSmtp::FromAddress))
                .col(big_integer(RealmSmtp::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RealmSmtp::Table, RealmSmtp::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RealmSmtp::Table).if_exists().to_owned())
            .await?;
        let drops: Vec<(DynIden, DynIden)> = vec![
            (
                Invitations::Table.into_iden(),
                Invitations::Delivered.into_iden(),
            ),
            (
                Clients::Table.into_iden(),
                Clients::AdminConsole.into_iden(),
            ),
        ];
        for (table, col) in drops {
            m.alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
