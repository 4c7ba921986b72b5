//! `tessera org …`: organizations of a realm, their role templates and members, straight
//! in the database (as a realm administrator).

use clap::Subcommand;
use std::io::Write;
use tessera_domain::{DomainName, LogoUri, NewOrganization, OrgAlias, OrgDomain, OrgRoleName};
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;
use tessera_oidc::admin::orgs::UserRef;

#[derive(Subcommand)]
pub enum OrgCmd {
    /// Create an organization; domains given here are verified.
    Create {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// 1 to 64 characters of a-z, 0-9 and '-'.
        alias: String,
        /// Display name (default: the alias).
        #[arg(long)]
        name: Option<String>,
        /// A description shown to administrators.
        #[arg(long)]
        description: Option<String>,
        /// A DNS name the organization owns (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// The organization's id at its own identity provider (its `org_id` claim).
        #[arg(long)]
        external_id: Option<String>,
    },
    /// Change an organization's name, description, logo, external id or state.
    Update {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The organization's alias (or id).
        alias: String,
        /// A new display name.
        #[arg(long)]
        name: Option<String>,
        /// A new description shown to administrators.
        #[arg(long)]
        description: Option<String>,
        /// The organization's id at its own identity provider (its `org_id` claim).
        #[arg(long, conflicts_with = "no_external_id")]
        external_id: Option<String>,
        /// Clear the external id.
        #[arg(long)]
        no_external_id: bool,
        /// Enable the organization.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the organization: its members' organization tokens stop working.
        #[arg(long)]
        disable: bool,
        /// The logo its members' sign-in pages show: an https URL (an empty value: none).
        #[arg(long)]
        logo_uri: Option<String>,
    },
    /// List organizations by alias: alias, id, enabled, name.
    List {
        /// The realm's name.
        #[arg(long)]
        realm: String,
    },
    /// Delete an organization; its managed members' accounts go with it.
    Delete {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The organization's alias (or id).
        alias: String,
    },
    /// Organization role templates of a realm.
    #[command(subcommand)]
    Role(RoleCmd),
    /// Members of an organization.
    #[command(subcommand)]
    Member(MemberCmd),
}

#[derive(Subcommand)]
pub enum RoleCmd {
    /// Define a role assignable to members of the realm's organizations (`admin` lets a
    /// member administer their organization).
    Create {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The role's name, e.g. admin or member.
        name: String,
        /// A description shown to administrators.
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum MemberCmd {
    /// Add an existing user to an organization.
    Add {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The organization's alias (or id).
        #[arg(long)]
        org: String,
        /// The member's username.
        #[arg(long)]
        username: String,
        /// A role template of the realm (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Remove a user from an organization (their account stays).
    Remove {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The organization's alias (or id).
        #[arg(long)]
        org: String,
        /// The member's username.
        #[arg(long)]
        username: String,
    },
}

pub async fn run(p: &Provider, cmd: OrgCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        OrgCmd::Create {
            realm,
            alias,
            name,
            description,
            domains,
            external_id,
        } => {
            let o = NewOrganization {
                alias: OrgAlias::parse(&alias)?,
                name: name.unwrap_or_else(|| alias.clone()),
                description,
                enabled: true,
                attributes: Default::default(),
                external_id,
                logo_uri: None,
            };
            let domains = domains
                .iter()
                .map(|d| {
                    Ok(OrgDomain {
                        name: DomainName::parse(d)?,
                        verified: true,
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let org = p.create_org(op, &realm, o, domains).await?;
            writeln!(
                out,
                "created organization {} ({}) in realm {realm}",
                org.alias, org.id
            )?;
        }
        OrgCmd::Update {
            realm,
            alias,
            name,
            description,
            external_id,
            no_external_id,
            enable,
            disable,
            logo_uri,
        } => {
            let (org, _) = p.get_org(op, &realm, &alias).await?;
            let o = NewOrganization {
                alias: org.alias,
                name: name.unwrap_or(org.name),
                description: description.or(org.description),
                enabled: if enable || disable {
                    enable
                } else {
                    org.enabled
                },
                attributes: org.attributes,
                external_id: if no_external_id {
                    None
                } else {
                    external_id.or(org.external_id)
                },
                logo_uri: match logo_uri {
                    Some(l) => super::optional(&l, LogoUri::parse)?,
                    None => org.logo_uri,
                },
            };
            let org = p.update_org(op, &realm, &alias, o).await?;
            writeln!(
                out,
                "updated organization {} ({}) in realm {realm}: {}, external id {}",
                org.alias,
                org.id,
                if org.enabled { "enabled" } else { "disabled" },
                org.external_id.as_deref().unwrap_or("-")
            )?;
        }
        OrgCmd::List { realm } => {
            let mut after = None;
            loop {
                let page = p
                    .list_orgs(op, &realm, None, None, after.clone(), Some(500))
                    .await?;
                for o in &page {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        o.alias,
                        o.id,
                        if o.enabled { "enabled" } else { "disabled" },
                        o.name
                    )?;
                }
                match page.last() {
                    Some(o) if page.len() == 500 => after = Some(o.alias.to_string()),
                    _ => break,
                }
            }
        }
        OrgCmd::Delete { realm, alias } => {
            p.delete_org(op, &realm, &alias).await?;
            writeln!(out, "deleted organization {alias}")?;
        }
        OrgCmd::Role(RoleCmd::Create {
            realm,
            name,
            description,
        }) => {
            let role = p
                .create_org_role(op, &realm, OrgRoleName::parse(&name)?, description)
                .await?;
            writeln!(
                out,
                "created organization role {} in realm {realm}",
                role.name.as_str()
            )?;
        }
        OrgCmd::Member(MemberCmd::Add {
            realm,
            org,
            username,
            roles,
        }) => {
            let roles = roles
                .iter()
                .map(|r| OrgRoleName::parse(r))
                .collect::<Result<_, _>>()?;
            p.add_org_member(
                op,
                &realm,
                &org,
                UserRef::Username(username.clone()),
                roles,
                false,
            )
            .await?;
            writeln!(out, "added user {username} to organization {org}")?;
        }
        OrgCmd::Member(MemberCmd::Remove {
            realm,
            org,
            username,
        }) => {
            let u = p.find_user(op, &realm, &username).await?;
            p.remove_org_member(op, &realm, &org, u.id).await?;
            writeln!(out, "removed user {} from organization {org}", u.username)?;
        }
    }
    Ok(())
}
