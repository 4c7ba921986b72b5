//! The first start: realms, clients, a user and an organization to try everything with.

use super::orgs::UserRef;
use super::{ADMIN_ROLE, AdminPrincipal};
use crate::clients::metadata::ClientMetadata;
use crate::crypto::random_token;
use crate::{OAuthError, Provider};
use tessera_domain::{
    DomainName, Email, ExchangePolicy, NewOrganization, NewUser, OrgAlias, OrgDomain, OrgRoleName,
    REALM_ADMIN_ROLE, RealmName, RealmSettings, Username,
};

/// A client or user created at first start, with its secret or password shown once.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub realm: String,
    pub kind: SeededKind,
    /// `client_id` or username.
    pub name: String,
    pub secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeededKind {
    Client,
    User,
}

impl Provider {
    /// Whenever realm `master` does not exist (a first start, even after the CLI wrote
    /// something): realm `master` with the admin client `tessera-admin` and the console's
    /// realm administrator `admin`; unless a realm
    /// `demo` exists, realm `demo` with `demo-service` (client_credentials), the browser
    /// client `demo-app` and the user `demo`. Returns the generated secrets and password,
    /// to be shown once.
    pub async fn bootstrap(&self) -> Result<Vec<Seeded>, OAuthError> {
        let exists = |name: &'static str| async move {
            let name = RealmName::parse(name)?;
            Ok::<_, OAuthError>(self.store().find_realm_by_name(&name).await?.is_some())
        };
        if exists(RealmName::MASTER).await? {
            return Ok(vec![]);
        }
        let with_demo = !exists("demo").await?;
        let client = |id: &str, grants: &[&str], scopes: &str, redirect: Option<&str>| {
            let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            ClientMetadata {
                grant_types: Some(owned(grants)),
                scopes: Some(owned(&scopes.split_whitespace().collect::<Vec<_>>())),
                redirect_uris: redirect.map(str::to_owned).into_iter().collect(),
                ..ClientMetadata::new(id)
            }
        };
        let clients = [
            (
                RealmName::MASTER,
                ClientMetadata {
                    roles: vec![ADMIN_ROLE.to_owned()],
                    ..client("tessera-admin", &["client_credentials"], "", None)
                },
            ),
            (
                "demo",
                client(
                    "demo-service",
                    &["client_credentials"],
                    "api:read api:write",
                    None,
                ),
            ),
            (
                "demo",
                ClientMetadata {
                    // It may trade its users' tokens for tokens to demo-service (RFC 8693).
                    exchange: Some(ExchangePolicy {
                        audiences: vec!["demo-service".into()],
                        ..Default::default()
                    }),
                    ..client(
                        "demo-app",
                        &[
                            "authorization_code",
                            "refresh_token",
                            "client_credentials",
                            "urn:ietf:params:oauth:grant-type:token-exchange",
                        ],
                        "openid profile email offline_access api:read organization",
                        Some("http://127.0.0.1:9999/cb"),
                    )
                },
            ),
        ];
        let op = &AdminPrincipal::operator();
        match self
            .create_realm(op, RealmName::MASTER, RealmSettings::default())
            .await
        {
            // Another process starting at the same time seeds.
            Err(OAuthError::Conflict(_)) => return Ok(vec![]),
            r => r?,
        };
        if with_demo {
            self.create_realm(op, "demo", RealmSettings::default())
                .await?;
        }
        let mut seeded = Vec::new();
        for (realm, c) in clients {
            if realm == "demo" && !with_demo {
                continue;
            }
            let name = c.client_id.clone();
            let (_, secret) = self.create_client(op, realm, c, None).await?;
            seeded.push(Seeded {
                realm: realm.to_owned(),
                kind: SeededKind::Client,
                name,
                secret: secret.unwrap_or_default(),
            });
        }
        // The first realm administrator, for the console (`/admin/console/`).
        let password = random_token()[..20].to_owned();
        let admin = self
            .create_user(
                op,
                RealmName::MASTER,
                NewUser::new(Username::parse("admin")?),
                Some(password.clone()),
            )
            .await?;
        self.store()
            .add_user_role(admin.realm_id, admin.id, REALM_ADMIN_ROLE)
            .await?;
        seeded.insert(
            1,
            Seeded {
                realm: RealmName::MASTER.into(),
                kind: SeededKind::User,
                name: "admin".into(),
                secret: password,
            },
        );
        if !with_demo {
            return Ok(seeded);
        }
        let mut user = NewUser::new(Username::parse("demo")?);
        user.email = Some(Email::parse("demo@example.com")?);
        user.email_verified = true;
        user.given_name = Some("Demo".into());
        user.family_name = Some("User".into());
        let password = random_token()[..20].to_owned();
        let user = self
            .create_user(op, "demo", user, Some(password.clone()))
            .await?;
        // An organization to try the `organization` scope with: demo administers it (every
        // realm has the role templates `admin` and `member`).
        let admin = OrgRoleName::parse(OrgRoleName::ADMIN)?;
        self.create_org(
            op,
            "demo",
            NewOrganization {
                alias: OrgAlias::parse("acme")?,
                name: "Acme Inc.".into(),
                description: None,
                enabled: true,
                attributes: Default::default(),
                external_id: None,
                logo_uri: None,
            },
            vec![OrgDomain {
                name: DomainName::parse("example.com")?,
                verified: true,
            }],
        )
        .await?;
        self.add_org_member(op, "demo", "acme", UserRef::Id(user.id), vec![admin], false)
            .await?;
        seeded.push(Seeded {
            realm: "demo".into(),
            kind: SeededKind::User,
            name: "demo".into(),
            secret: password,
        });
        Ok(seeded)
    }
}
