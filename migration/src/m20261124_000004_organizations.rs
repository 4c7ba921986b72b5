//! Organizations inside a realm: domains, role templates, memberships (with their roles),
//! invitations; the organization context of grants, refresh tokens and opaque tokens;
//! organization-bound clients and the realm switch.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    OrganizationsEnabled,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    OrgId,
    OrgClaimFormat,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Organization,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Organization,
}

#[derive(DeriveIden)]
enum OpaqueTokens {
    Table,
    OrgClaim,
    OrgId,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    RealmId,
    Alias,
    Name,
    Description,
    Enabled,
    Attributes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrganizationDomains {
    Table,
    RealmId,
    Name,
    OrgId,
    Verified,
}

#[derive(DeriveIden)]
enum OrganizationRoles {
    Table,
    Id,
    RealmId,
    Name,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    RealmId,
    OrgId,
    UserId,
    Managed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MembershipRoles {
    Table,
    MembershipId,
    RoleId,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    RealmId,
    OrgId,
    Email,
    EmailNormalized,
    Roles,
    Status,
    Jti,
    ExpiresAt,
    CreatedAt,
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

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let adds: Vec<(DynIden, ColumnDef)> = vec![
            (
                Realms::Table.into_iden(),
                boolean(Realms::OrganizationsEnabled)
                    .default(true)
                    .to_owned(),
            ),
            (Clients::Table.into_iden(), uuid_null(Clients::OrgId)),
            (
                Clients::Table.into_iden(),
                string(Clients::OrgClaimFormat).default("map").to_owned(),
            ),
            (Grants::Table.into_iden(), string_null(Grants::Organization)),
            (
                RefreshTokens::Table.into_iden(),
                string_null(RefreshTokens::Organization),
            ),
            (
                OpaqueTokens::Table.into_iden(),
                text_null(OpaqueTokens::OrgClaim),
            ),
            (
                OpaqueTokens::Table.into_iden(),
                uuid_null(OpaqueTokens::OrgId),
            ),
        ];
        for (table, mut col) in adds {
            m.alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
                .await?;
        }

        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .if_not_exists()
                .col(pk_uuid(Organizations::Id))
                .col(uuid(Organizations::RealmId))
                .col(string(Organizations::Alias))
                .col(text(Organizations::Name))
                .col(text_null(Organizations::Description))
                .col(boolean(Organizations::Enabled))
                // A JSON object.
                .col(text(Organizations::Attributes))
                .col(big_integer(Organizations::CreatedAt))
                .foreign_key(&mut fk(
                    (Organizations::Table, Organizations::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_organizations_realm_alias",
                Organizations::Table,
                vec![
                    Organizations::RealmId.into_iden(),
                    Organizations::Alias.into_iden(),
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        // A domain belongs to at most one organization of the realm: the key says so.
        m.create_table(
            Table::create()
                .table(OrganizationDomains::Table)
                .if_not_exists()
                .col(uuid(OrganizationDomains::RealmId))
                .col(string(OrganizationDomains::Name))
                .col(uuid(OrganizationDomains::OrgId))
                .col(boolean(OrganizationDomains::Verified))
                .primary_key(
                    Index::create()
                        .col(OrganizationDomains::RealmId)
                        .col(OrganizationDomains::Name),
                )
                .foreign_key(&mut fk(
                    (OrganizationDomains::Table, OrganizationDomains::OrgId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_organization_domains_org",
            OrganizationDomains::Table,
            vec![OrganizationDomains::OrgId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(OrganizationRoles::Table)
                .if_not_exists()
                .col(pk_uuid(OrganizationRoles::Id))
                .col(uuid(OrganizationRoles::RealmId))
                .col(string(OrganizationRoles::Name))
                .col(text_null(OrganizationRoles::Description))
                .col(big_integer(OrganizationRoles::CreatedAt))
                .foreign_key(&mut fk(
                    (OrganizationRoles::Table, OrganizationRoles::RealmId),
                    (Realms::Table, Realms::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_organization_roles_realm_name",
                OrganizationRoles::Table,
                vec![
                    OrganizationRoles::RealmId.into_iden(),
                    OrganizationRoles::Name.into_iden(),
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .if_not_exists()
                .col(pk_uuid(Memberships::Id))
                .col(uuid(Memberships::RealmId))
                .col(uuid(Memberships::OrgId))
                .col(uuid(Memberships::UserId))
                .col(boolean(Memberships::Managed))
                .col(big_integer(Memberships::CreatedAt))
                .foreign_key(&mut fk(
                    (Memberships::Table, Memberships::OrgId),
                    (Organizations::Table, Organizations::Id),
                ))
                .foreign_key(&mut fk(
                    (Memberships::Table, Memberships::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // The membership check is one lookup on this index; member lists page along it.
        m.create_index(
            index(
                "ux_memberships_org_user",
                Memberships::Table,
                vec![
                    Memberships::OrgId.into_iden(),
                    Memberships::UserId.into_iden(),
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // A user's organizations (organization:*, /users/{id}/organizations).
        m.create_index(index(
            "ix_memberships_user_org",
            Memberships::Table,
            vec![
                Memberships::UserId.into_iden(),
                Memberships::OrgId.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(MembershipRoles::Table)
                .if_not_exists()
                .col(uuid(MembershipRoles::MembershipId))
                .col(uuid(MembershipRoles::RoleId))
                .primary_key(
                    Index::create()
                        .col(MembershipRoles::MembershipId)
                        .col(MembershipRoles::RoleId),
                )
                .foreign_key(&mut fk(
                    (MembershipRoles::Table, MembershipRoles::MembershipId),
                    (Memberships::Table, Memberships::Id),
                ))
                .foreign_key(&mut fk(
                    (MembershipRoles::Table, MembershipRoles::RoleId),
                    (OrganizationRoles::Table, OrganizationRoles::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_membership_roles_role",
            MembershipRoles::Table,
            vec![MembershipRoles::RoleId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .if_not_exists()
                .col(pk_uuid(Invitations::Id))
                .col(uuid(Invitations::RealmId))
                .col(uuid(Invitations::OrgId))
                .col(text(Invitations::Email))
                .col(string(Invitations::EmailNormalized))
                // Space-separated role names.
                .col(text(Invitations::Roles))
                .col(string(Invitations::Status))
                .col(string(Invitations::Jti))
                .col(big_integer(Invitations::ExpiresAt))
                .col(big_integer(Invitations::CreatedAt))
                .foreign_key(&mut fk(
                    (Invitations::Table, Invitations::OrgId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_invitations_org_id",
            Invitations::Table,
            vec![Invitations::OrgId.into_iden(), Invitations::Id.into_iden()],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Invitations::Table.into_iden(),
            MembershipRoles::Table.into_iden(),
            Memberships::Table.into_iden(),
            OrganizationRoles::Table.into_iden(),
            OrganizationDomains::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        let drops: Vec<(DynIden, DynIden)> = vec![
            (
                OpaqueTokens::Table.into_iden(),
                OpaqueTokens::OrgId.into_iden(),
            ),
            (
                OpaqueTokens::Table.into_iden(),
                OpaqueTokens::OrgClaim.into_iden(),
            ),
            (
                RefreshTokens::Table.into_iden(),
                RefreshTokens::Organization.into_iden(),
            ),
            (Grants::Table.into_iden(), Grants::Organization.into_iden()),
            (
                Clients::Table.into_iden(),
                Clients::OrgClaimFormat.into_iden(),
            ),
            (Clients::Table.into_iden(), Clients::OrgId.into_iden()),
            (
                Realms::Table.into_iden(),
                Realms::OrganizationsEnabled.into_iden(),
            ),
        ];
        for (table, col) in drops {
            m.alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
