//! Browser sessions, grants (one user's authorization of one client: the family of its
//! codes and refresh tokens), single-use authorization codes, rotating refresh tokens,
//! remembered consents, and the per-realm lifetimes that govern them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    SessionIdleSecs,
    SessionMaxSecs,
    RefreshIdleSecs,
    RefreshMaxSecs,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    ConsentRequired,
    IdTokenAlg,
    PostLogoutRedirectUris,
    BackchannelLogoutUri,
}

#[derive(DeriveIden)]
enum OpaqueTokens {
    Table,
    GrantId,
    Sid,
}

#[derive(DeriveIden)]
enum UserSessions {
    Table,
    Id,
    RealmId,
    Sid,
    TokenHash,
    UserId,
    AuthTime,
    LastSeen,
    ExpiresAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    RealmId,
    ClientUuid,
    UserId,
    SessionId,
    Sid,
    Scope,
    AuthTime,
    Offline,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    RealmId,
    CodeHash,
    GrantId,
    RedirectUri,
    CodeChallenge,
    Nonce,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    RealmId,
    TokenHash,
    GrantId,
    Scope,
    IssuedAt,
    ExpiresAt,
    RotatedAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    RealmId,
    UserId,
    ClientUuid,
    Scope,
    GrantedAt,
}

fn fk(
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
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for (col, default) in [
            (Realms::SessionIdleSecs, 1800i64),
            (Realms::SessionMaxSecs, 36_000),
            (Realms::RefreshIdleSecs, 1800),
            (Realms::RefreshMaxSecs, 36_000),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .add_column(big_integer(col).default(default))
                    .to_owned(),
            )
            .await?;
        }

        for col in [
            boolean(Clients::ConsentRequired).default(false).to_owned(),
            string(Clients::IdTokenAlg).default("RS256").to_owned(),
            text(Clients::PostLogoutRedirectUris).default("").to_owned(),
            text_null(Clients::BackchannelLogoutUri),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }

        for col in [
            uuid_null(OpaqueTokens::GrantId),
            text_null(OpaqueTokens::Sid),
        ] {
            m.alter_table(
                Table::alter()
                    .table(OpaqueTokens::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(UserSessions::Table)
                .if_not_exists()
                .col(pk_uuid(UserSessions::Id))
                .col(uuid(UserSessions::RealmId))
                .col(string(UserSessions::Sid))
                .col(blob(UserSessions::TokenHash))
                .col(uuid(UserSessions::UserId))
                .col(big_integer(UserSessions::AuthTime))
                .col(big_integer(UserSessions::LastSeen))
                .col(big_integer(UserSessions::ExpiresAt))
                .col(big_integer_null(UserSessions::EndedAt))
                .foreign_key(&mut fk(
                    (UserSessions::Table, UserSessions::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut fk(
                    (UserSessions::Table, UserSessions::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ux_user_sessions_token",
                vec![UserSessions::RealmId, UserSessions::TokenHash],
            ),
            (
                "ux_user_sessions_sid",
                vec![UserSessions::RealmId, UserSessions::Sid],
            ),
        ] {
            let mut idx = Index::create()
                .name(name)
                .table(UserSessions::Table)
                .unique()
                .to_owned();
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx).await?;
        }

        m.create_table(
            Table::create()
                .table(Grants::Table)
                .if_not_exists()
                .col(pk_uuid(Grants::Id))
                .col(uuid(Grants::RealmId))
                .col(uuid(Grants::ClientUuid))
                .col(uuid(Grants::UserId))
                .col(uuid_null(Grants::SessionId))
                .col(string(Grants::Sid))
                .col(text(Grants::Scope))
                .col(big_integer(Grants::AuthTime))
                .col(boolean(Grants::Offline))
                .col(big_integer(Grants::CreatedAt))
                .col(big_integer(Grants::ExpiresAt))
                .col(big_integer_null(Grants::RevokedAt))
                .foreign_key(&mut fk(
                    (Grants::Table, Grants::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut fk(
                    (Grants::Table, Grants::ClientUuid),
                    (Clients::Table, Clients::Id),
                ))
                .foreign_key(&mut fk(
                    (Grants::Table, Grants::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_grants_session")
                .table(Grants::Table)
                .col(Grants::RealmId)
                .col(Grants::SessionId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuthorizationCodes::Table)
                .if_not_exists()
                .col(uuid(AuthorizationCodes::RealmId))
                .col(blob(AuthorizationCodes::CodeHash))
                .col(uuid(AuthorizationCodes::GrantId))
                .col(text(AuthorizationCodes::RedirectUri))
                .col(string_null(AuthorizationCodes::CodeChallenge))
                .col(text_null(AuthorizationCodes::Nonce))
                .col(big_integer(AuthorizationCodes::ExpiresAt))
                .col(big_integer_null(AuthorizationCodes::ConsumedAt))
                .primary_key(
                    Index::create()
                        .col(AuthorizationCodes::RealmId)
                        .col(AuthorizationCodes::CodeHash),
                )
                .foreign_key(&mut fk(
                    (AuthorizationCodes::Table, AuthorizationCodes::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut fk(
                    (AuthorizationCodes::Table, AuthorizationCodes::GrantId),
                    (Grants::Table, Grants::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .if_not_exists()
                .col(uuid(RefreshTokens::RealmId))
                .col(blob(RefreshTokens::TokenHash))
                .col(uuid(RefreshTokens::GrantId))
                .col(text(RefreshTokens::Scope))
                .col(big_integer(RefreshTokens::IssuedAt))
                .col(big_integer(RefreshTokens::ExpiresAt))
                .col(big_integer_null(RefreshTokens::RotatedAt))
                .primary_key(
                    Index::create()
                        .col(RefreshTokens::RealmId)
                        .col(RefreshTokens::TokenHash),
                )
                .foreign_key(&mut fk(
                    (RefreshTokens::Table, RefreshTokens::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut fk(
                    (RefreshTokens::Table, RefreshTokens::GrantId),
                    (Grants::Table, Grants::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_tokens_grant")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::GrantId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Consents::Table)
                .if_not_exists()
                .col(uuid(Consents::RealmId))
                .col(uuid(Consents::UserId))
                .col(uuid(Consents::ClientUuid))
                .col(text(Consents::Scope))
                .col(big_integer(Consents::GrantedAt))
                .primary_key(
                    Index::create()
                        .col(Consents::RealmId)
                        .col(Consents::UserId)
                        .col(Consents::ClientUuid),
                )
                .foreign_key(&mut fk(
                    (Consents::Table, Consents::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .foreign_key(&mut fk(
                    (Consents::Table, Consents::UserId),
                    (Users::Table, Users::Id),
                ))
                .foreign_key(&mut fk(
                    (Consents::Table, Consents::ClientUuid),
                    (Clients::Table, Clients::Id),
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Consents::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            AuthorizationCodes::Table.into_iden(),
            Grants::Table.into_iden(),
            UserSessions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        for col in [
            Realms::SessionIdleSecs,
            Realms::SessionMaxSecs,
            Realms::RefreshIdleSecs,
            Realms::RefreshMaxSecs,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [OpaqueTokens::GrantId, OpaqueTokens::Sid] {
            m.alter_table(
                Table::alter()
                    .table(OpaqueTokens::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [
            Clients::ConsentRequired,
            Clients::IdTokenAlg,
            Clients::PostLogoutRedirectUris,
            Clients::BackchannelLogoutUri,
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
