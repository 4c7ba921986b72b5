//! Clients the way applications expect them: one authentication method each (secrets,
//! `private_key_jwt` keys, or none), the APIs a client serves and its tokens are for
//! (RFC 8707), what it tells people about itself (RFC 7591), and the hash of its
//! registration access token (RFC 7592). Resource URIs are unique within a realm, kept
//! by a table whose primary key says so. A grant remembers the targets its authorization
//! request narrowed it to.

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
    Id,
    SecretHash,
    TokenEndpointAuthMethod,
    /// JSON JWK set of a `private_key_jwt` client.
    Jwks,
    JwksUri,
    /// Space-separated lists.
    ResourceUris,
    Audiences,
    ApplicationType,
    ClientUri,
    LogoUri,
    TosUri,
    PolicyUri,
    /// Space-separated e-mail addresses.
    Contacts,
    SoftwareId,
    SoftwareVersion,
    /// SHA-256 of the RFC 7592 registration access token; NULL: not dynamically registered.
    RegistrationTokenHash,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    /// Space-separated RFC 8707 targets; empty: the client's audiences.
    Targets,
}

#[derive(DeriveIden)]
enum ClientResourceUris {
    Table,
    RealmId,
    ResourceUri,
    ClientId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let adds = [
            string(Clients::TokenEndpointAuthMethod)
                .default("client_secret_basic")
                .to_owned(),
            text_null(Clients::Jwks),
            text_null(Clients::JwksUri),
            text(Clients::ResourceUris).default("").to_owned(),
            text(Clients::Audiences).default("").to_owned(),
            string(Clients::ApplicationType).default("web").to_owned(),
            text_null(Clients::ClientUri),
            text_null(Clients::LogoUri),
            text_null(Clients::TosUri),
            text_null(Clients::PolicyUri),
            text(Clients::Contacts).default("").to_owned(),
            string_null(Clients::SoftwareId),
            string_null(Clients::SoftwareVersion),
            binary_null(Clients::RegistrationTokenHash),
        ];
        // One column per statement: SQLite alters one at a time.
        for mut col in adds {
            m.alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Grants::Table)
                .add_column(text(Grants::Targets).default(""))
                .to_owned(),
        )
        .await?;
        // Clients without a secret were public before methods existed.
        m.exec_stmt(
            Query::update()
                .table(Clients::Table)
                .value(Clients::TokenEndpointAuthMethod, "none")
                .and_where(Expr::col(Clients::SecretHash).is_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ClientResourceUris::Table)
                .col(uuid(ClientResourceUris::RealmId))
                .col(string_len(ClientResourceUris::ResourceUri, 2048))
                .col(uuid(ClientResourceUris::ClientId))
                .primary_key(
                    Index::create()
                        .col(ClientResourceUris::RealmId)
                        .col(ClientResourceUris::ResourceUri),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ClientResourceUris::Table, ClientResourceUris::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ClientResourceUris::Table, ClientResourceUris::ClientId)
                        .to(Clients::Table, Clients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_client_resource_uris_client")
                .table(ClientResourceUris::Table)
                .col(ClientResourceUris::ClientId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ClientResourceUris::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Grants::Table)
                .drop_column(Grants::Targets)
                .to_owned(),
        )
        .await?;
        for col in [
            Clients::TokenEndpointAuthMethod,
            Clients::Jwks,
            Clients::JwksUri,
            Clients::ResourceUris,
            Clients::Audiences,
            Clients::ApplicationType,
            Clients::ClientUri,
            Clients::LogoUri,
            Clients::TosUri,
            Clients::PolicyUri,
            Clients::Contacts,
            Clients::SoftwareId,
            Clients::SoftwareVersion,
            Clients::RegistrationTokenHash,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
