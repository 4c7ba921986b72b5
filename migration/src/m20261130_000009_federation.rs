//! Upstream identity providers (brokered login): the providers of a realm, the links of
//! upstream accounts to local users, the upstream session each local session came
//! through, and the logout-token ids already seen (replay protection).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Id,
    RealmId,
    Alias,
    DisplayName,
    Issuer,
    ClientId,
    SecretSealed,
    /// Space-separated scope tokens.
    Scopes,
    AuthMethod,
    TrustEmail,
    EmailOptional,
    CreateUsers,
    OrgId,
    /// Space-separated domain names.
    Domains,
    RedirectOnDomain,
    HideOnLogin,
    /// JSON object of claim name to required value.
    RequiredClaims,
    Enabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FederatedIdentities {
    Table,
    RealmId,
    IdpId,
    Subject,
    UserId,
    Username,
    UpstreamSid,
    CreatedAt,
    LastLogin,
}

#[derive(DeriveIden)]
enum UpstreamLogoutJtis {
    Table,
    IdpId,
    Jti,
    ExpiresAt,
}

/// A sign-in on its way through an upstream: found by the hash of the `state` sent
/// there, deleted by the one callback that uses it.
#[derive(DeriveIden)]
enum BrokerStates {
    Table,
    StateHash,
    RealmId,
    IdpId,
    /// The pending authorization request with the nonce and PKCE verifier, sealed.
    Payload,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum UserSessions {
    Table,
    RealmId,
    UpstreamIdp,
    UpstreamSub,
    UpstreamSid,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IdentityProviders::Table)
                .if_not_exists()
                .col(pk_uuid(IdentityProviders::Id))
                .col(uuid(IdentityProviders::RealmId))
                .col(string(IdentityProviders::Alias))
                .col(string_null(IdentityProviders::DisplayName))
                .col(string(IdentityProviders::Issuer))
                .col(string(IdentityProviders::ClientId))
                .col(blob(IdentityProviders::SecretSealed))
                .col(text(IdentityProviders::Scopes))
                .col(string(IdentityProviders::AuthMethod))
                .col(boolean(IdentityProviders::TrustEmail))
                .col(boolean(IdentityProviders::EmailOptional))
                .col(boolean(IdentityProviders::CreateUsers))
                .col(uuid_null(IdentityProviders::OrgId))
                .col(text(IdentityProviders::Domains))
                .col(boolean(IdentityProviders::RedirectOnDomain))
                .col(boolean(IdentityProviders::HideOnLogin))
                .col(text(IdentityProviders::RequiredClaims))
                .col(boolean(IdentityProviders::Enabled))
                .col(big_integer(IdentityProviders::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(IdentityProviders::Table, IdentityProviders::RealmId)
                        .to(Realms::Table, Realms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                // An organization's provider goes with the organization.
                .foreign_key(
                    ForeignKey::create()
                        .from(IdentityProviders::Table, IdentityProviders::OrgId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("identity_providers_realm_alias")
                .table(IdentityProviders::Table)
                .col(IdentityProviders::RealmId)
                .col(IdentityProviders::Alias)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(FederatedIdentities::Table)
                .if_not_exists()
                .col(uuid(FederatedIdentities::RealmId))
                .col(uuid(FederatedIdentities::IdpId))
                .col(string(FederatedIdentities::Subject))
                .col(uuid(FederatedIdentities::UserId))
                .col(string_null(FederatedIdentities::Username))
                .col(string_null(FederatedIdentities::UpstreamSid))
                .col(big_integer(FederatedIdentities::CreatedAt))
                .col(big_integer(FederatedIdentities::LastLogin))
                // One local user per upstream account: the first sign-in's insert wins.
                .primary_key(
                    Index::create()
                        .col(FederatedIdentities::IdpId)
                        .col(FederatedIdentities::Subject),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FederatedIdentities::Table, FederatedIdentities::IdpId)
                        .to(IdentityProviders::Table, IdentityProviders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FederatedIdentities::Table, FederatedIdentities::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // And one upstream account per provider for a local user.
        m.create_index(
            Index::create()
                .name("federated_identities_user")
                .table(FederatedIdentities::Table)
                .col(FederatedIdentities::UserId)
                .col(FederatedIdentities::IdpId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UpstreamLogoutJtis::Table)
                .if_not_exists()
                .col(uuid(UpstreamLogoutJtis::IdpId))
                .col(string(UpstreamLogoutJtis::Jti))
                .col(big_integer(UpstreamLogoutJtis::ExpiresAt))
                .primary_key(
                    Index::create()
                        .col(UpstreamLogoutJtis::IdpId)
                        .col(UpstreamLogoutJtis::Jti),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UpstreamLogoutJtis::Table, UpstreamLogoutJtis::IdpId)
                        .to(IdentityProviders::Table, IdentityProviders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(BrokerStates::Table)
                .if_not_exists()
                .col(blob(BrokerStates::StateHash).primary_key())
                .col(uuid(BrokerStates::RealmId))
                .col(uuid(BrokerStates::IdpId))
                .col(blob(BrokerStates::Payload))
                .col(big_integer(BrokerStates::ExpiresAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(BrokerStates::Table, BrokerStates::IdpId)
                        .to(IdentityProviders::Table, IdentityProviders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("broker_states_expiry")
                .table(BrokerStates::Table)
                .col(BrokerStates::ExpiresAt)
                .to_owned(),
        )
        .await?;

        let adds = [
            uuid_null(UserSessions::UpstreamIdp),
            string_null(UserSessions::UpstreamSub),
            string_null(UserSessions::UpstreamSid),
        ];
        for mut col in adds {
            m.alter_table(
                Table::alter()
                    .table(UserSessions::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("user_sessions_upstream")
                .table(UserSessions::Table)
                .col(UserSessions::RealmId)
                .col(UserSessions::UpstreamIdp)
                .col(UserSessions::UpstreamSub)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("user_sessions_upstream").to_owned())
            .await?;
        for col in [
            UserSessions::UpstreamIdp,
            UserSessions::UpstreamSub,
            UserSessions::UpstreamSid,
        ] {
            m.alter_table(
                Table::alter()
                    .table(UserSessions::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for t in [
            BrokerStates::Table.into_iden(),
            UpstreamLogoutJtis::Table.into_iden(),
            FederatedIdentities::Table.into_iden(),
            IdentityProviders::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
