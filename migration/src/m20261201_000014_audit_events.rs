//! The audit log: one row per administrative change or security event of a realm, paged
//! by its time-ordered id (newest first) and filtered by kind, action and actor.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    RealmId,
    OrgId,
    At,
    Kind,
    Action,
    Target,
    Principal,
    Actor,
    Source,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .if_not_exists()
                .col(uuid(AuditEvents::Id).primary_key())
                .col(uuid(AuditEvents::RealmId))
                .col(uuid_null(AuditEvents::OrgId))
                .col(big_integer(AuditEvents::At))
                .col(string_len(AuditEvents::Kind, 32))
                .col(string_len(AuditEvents::Action, 64))
                .col(text(AuditEvents::Target))
                .col(string_len(AuditEvents::Principal, 32))
                .col(text(AuditEvents::Actor))
                .col(string_len(AuditEvents::Source, 64))
                .foreign_key(
                    ForeignKey::create()
                        .from(AuditEvents::Table, AuditEvents::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A realm's log, newest first, one index range per page.
        m.create_index(
            Index::create()
                .name("idx_audit_events_realm_id")
                .table(AuditEvents::Table)
                .col(AuditEvents::RealmId)
                .col(AuditEvents::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(AuditEvents::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
