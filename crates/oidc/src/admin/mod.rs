//! Administration of realms, clients and keys, shared by the admin REST API and the CLI,
//! and the authorization of admin API callers.

pub mod exchange;
pub mod orgs;
pub mod users;

use crate::admin::orgs::{OrgCaller, UserRef};
use crate::crypto::keys::SigningKey;
use crate::crypto::{random_token, sha256};
use crate::tokens::access_token::AccessClaims;
use crate::{OAuthError, Provider, RealmCtx};
use std::sync::Arc;
use tessera_domain::{
    AccessTokenFormat, Client, ClientId, ClientUuid, DomainName, Email, GrantType, KeyStatus,
    NewClient, NewOrganization, NewUser, OrgAlias, OrgDomain, OrgRoleName, Realm, RealmId,
    RealmName, RealmSettings, RedirectUri, ScopeSet, SigningAlg, Username,
};
use tessera_storage::{PageRequest, StoreError};

/// The role a master-realm token must carry to use the admin API.
pub const ADMIN_ROLE: &str = "admin";
/// Shortest client secret an administrator may set by hand (generated ones are 43).
pub const MIN_SECRET_LEN: usize = 32;
pub const MAX_PAGE: u64 = 500;

/// Who is calling the admin API.
#[derive(Debug, Clone)]
pub struct AdminPrincipal {
    pub client_id: String,
    pub sub: String,
}

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

#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: SigningAlg,
    pub status: KeyStatus,
    pub created_at: i64,
}

pub(crate) fn page(after: Option<String>, limit: Option<u64>) -> PageRequest {
    PageRequest {
        after,
        limit: limit.unwrap_or(100).clamp(1, MAX_PAGE),
    }
}

pub(crate) fn not_found(what: &'static str) -> OAuthError {
    OAuthError::NotFound(format!("{what} not found").into())
}

/// Maps a unique-constraint violation to a 409 that names what collided.
pub(crate) fn conflict(what: &'static str) -> impl Fn(StoreError) -> OAuthError {
    move |e| match e {
        StoreError::Conflict => OAuthError::Conflict(format!("a {what} exists").into()),
        e => e.into(),
    }
}

fn validate_settings(s: &RealmSettings) -> Result<(), OAuthError> {
    let l = &s.lifetimes;
    let ok = |v: i64| (60..=31_536_000).contains(&v);
    if !(ok(l.session_idle_secs)
        && ok(l.session_max_secs)
        && ok(l.refresh_idle_secs)
        && ok(l.refresh_max_secs))
    {
        return Err(OAuthError::invalid_request(
            "session and refresh lifetimes must be within 60..=31536000 seconds",
        ));
    }
    if !(10..=86_400).contains(&s.access_token_lifetime_secs) {
        return Err(OAuthError::invalid_request(
            "access_token_lifetime_secs must be within 10..=86400",
        ));
    }
    if let Some(p) = &s.password_params {
        p.validate()?;
    }
    if !(1..=10).contains(&s.max_delegation_depth) {
        return Err(OAuthError::invalid_request(
            "max_delegation_depth must be within 1..=10",
        ));
    }
    Ok(())
}

fn validate_client(c: &NewClient) -> Result<(), OAuthError> {
    if c.name.chars().count() > 200 {
        return Err(OAuthError::invalid_request(
            "name is longer than 200 characters",
        ));
    }
    if c.public && c.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(OAuthError::invalid_request(
            "a public client cannot use client_credentials",
        ));
    }
    if let Some(bad) = c
        .roles
        .iter()
        .find(|r| tessera_domain::Scope::parse(r).is_err())
    {
        return Err(OAuthError::InvalidRequest(
            format!("role {bad:?} is not a single token").into(),
        ));
    }
    if c.redirect_uris.len() > 50 || c.roles.len() > 50 || c.scopes.len() > 100 {
        return Err(OAuthError::invalid_request(
            "too many redirect URIs, roles or scopes",
        ));
    }
    Ok(())
}

impl Provider {
    /// Accepts a live access token of the master realm that carries the admin role and
    /// names the master issuer as audience (RFC 9700 §2.3: resource servers check `aud`).
    pub async fn authorize_admin(&self, bearer: &str) -> Result<AdminPrincipal, OAuthError> {
        let invalid = || OAuthError::InvalidToken("the access token is invalid or expired".into());
        let ctx = self.realm(RealmName::MASTER).await.map_err(|_| invalid())?;
        let claims: AccessClaims = self
            .resolve_access_token(&ctx, bearer)
            .await?
            .ok_or_else(invalid)?;
        if !claims.aud.contains(&ctx.issuer) {
            return Err(invalid());
        }
        if !claims.roles.iter().any(|r| r == ADMIN_ROLE) {
            return Err(OAuthError::InsufficientScope(
                "the admin role is required".into(),
            ));
        }
        Ok(AdminPrincipal {
            client_id: claims.client_id,
            sub: claims.sub,
        })
    }

    pub(crate) async fn admin_realm(&self, name: &str) -> Result<Arc<RealmCtx>, OAuthError> {
        let name = RealmName::parse(name).map_err(|_| not_found("realm"))?;
        self.realm_ctx(&name)
            .await?
            .ok_or_else(|| not_found("realm"))
    }

    pub(crate) async fn admin_realm_id(&self, name: &str) -> Result<RealmId, OAuthError> {
        Ok(self.admin_realm(name).await?.realm.id)
    }

    /// A client may be bound only to an organization of its own realm (ISO-5).
    async fn check_client_org(&self, realm: RealmId, c: &NewClient) -> Result<(), OAuthError> {
        if let Some(id) = c.org.bound_to
            && self.store().get_org(realm, id).await?.is_none()
        {
            return Err(OAuthError::invalid_request(
                "organization_id is not an organization of this realm",
            ));
        }
        Ok(())
    }

    /// Creates a realm with fresh RS256, ES256 and EdDSA keys.
    pub async fn create_realm(
        &self,
        name: &str,
        settings: RealmSettings,
    ) -> Result<Realm, OAuthError> {
        let name = RealmName::parse(name)?;
        validate_settings(&settings)?;
        let now = self.clock().now();
        let realm = Realm {
            id: RealmId::new_v7(),
            name: name.clone(),
            enabled: settings.enabled,
            access_token_alg: settings.access_token_alg,
            access_token_lifetime_secs: settings.access_token_lifetime_secs,
            password_params: settings.password_params,
            lifetimes: settings.lifetimes,
            organizations_enabled: settings.organizations_enabled,
            max_delegation_depth: settings.max_delegation_depth,
            created_at: now,
        };
        self.store()
            .insert_realm(&realm)
            .await
            .map_err(conflict("realm with this name"))?;
        if let Err(e) = self.add_keys(realm.id).await {
            // Leave no realm without keys behind.
            let _ = self.store().delete_realm(realm.id).await;
            return Err(e);
        }
        self.forget_realm(&name).await;
        Ok(realm)
    }

    async fn add_keys(&self, realm: RealmId) -> Result<Vec<String>, OAuthError> {
        let now = self.clock().now();
        let keys = tokio::task::spawn_blocking(move || {
            SigningAlg::ALL
                .into_iter()
                .map(SigningKey::generate)
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| OAuthError::ServerError(e.to_string()))?
        .map_err(|e| OAuthError::ServerError(e.to_string()))?;
        let stored: Vec<_> = keys
            .iter()
            .map(|(k, der)| k.seal(realm, der, &self.master, now))
            .collect();
        self.store().rotate_keys(realm, &stored).await?;
        Ok(stored.into_iter().map(|k| k.kid).collect())
    }

    pub async fn list_realms(
        &self,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<Realm>, OAuthError> {
        Ok(self.store().list_realms(&page(after, limit)).await?)
    }

    pub async fn get_realm(&self, name: &str) -> Result<Realm, OAuthError> {
        Ok(self.admin_realm(name).await?.realm.clone())
    }

    pub async fn update_realm(
        &self,
        name: &str,
        settings: RealmSettings,
    ) -> Result<Realm, OAuthError> {
        validate_settings(&settings)?;
        let ctx = self.admin_realm(name).await?;
        if ctx.realm.name.as_str() == RealmName::MASTER && !settings.enabled {
            return Err(OAuthError::invalid_request(
                "the master realm cannot be disabled",
            ));
        }
        let realm = self.store().update_realm(ctx.realm.id, &settings).await?;
        self.forget_realm(&realm.name).await;
        Ok(realm)
    }

    /// Deletes a realm and everything in it; its tokens stop verifying at once (ISO-13).
    pub async fn delete_realm(&self, name: &str) -> Result<(), OAuthError> {
        let ctx = self.admin_realm(name).await?;
        if ctx.realm.name.as_str() == RealmName::MASTER {
            return Err(OAuthError::invalid_request(
                "the master realm cannot be deleted",
            ));
        }
        self.store().delete_realm(ctx.realm.id).await?;
        self.forget_realm(&ctx.realm.name).await;
        Ok(())
    }

    /// Creates a client. For a confidential client without `secret`, a 256-bit secret is
    /// generated and returned once; only its SHA-256 is stored.
    pub async fn create_client(
        &self,
        realm: &str,
        c: NewClient,
        secret: Option<String>,
    ) -> Result<(Client, Option<String>), OAuthError> {
        validate_client(&c)?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.check_client_org(realm_id, &c).await?;
        let secret = match (c.public, secret) {
            (true, Some(_)) => {
                return Err(OAuthError::invalid_request("a public client has no secret"));
            }
            (true, None) => None,
            (false, Some(s)) if s.len() < MIN_SECRET_LEN || s.len() > 256 => {
                return Err(OAuthError::InvalidRequest(
                    format!("a client secret must be {MIN_SECRET_LEN} to 256 characters").into(),
                ));
            }
            (false, Some(s)) => Some(s),
            (false, None) => Some(random_token()),
        };
        let hash = secret.as_ref().map(|s| sha256(s.as_bytes()));
        let client = self
            .store()
            .insert_client(realm_id, ClientUuid::new_v7(), &c, hash, self.clock().now())
            .await
            .map_err(conflict("client with this client_id"))?;
        self.forget_client(realm_id, &client.client_id).await;
        Ok((client, secret))
    }

    pub async fn list_clients(
        &self,
        realm: &str,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<Client>, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .list_clients(realm_id, &page(after, limit))
            .await?)
    }

    pub async fn get_client(&self, realm: &str, id: ClientUuid) -> Result<Client, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        self.store()
            .get_client(realm_id, id)
            .await
            .map_err(|_| not_found("client"))
    }

    /// Finds a client by its OAuth `client_id` (CLI convenience).
    pub async fn find_client(&self, realm: &str, client_id: &str) -> Result<Client, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        let cid = ClientId::parse(client_id).map_err(|_| not_found("client"))?;
        self.store()
            .find_client_by_client_id(realm_id, &cid)
            .await?
            .ok_or_else(|| not_found("client"))
    }

    pub async fn update_client(
        &self,
        realm: &str,
        id: ClientUuid,
        c: NewClient,
    ) -> Result<Client, OAuthError> {
        validate_client(&c)?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.check_client_org(realm_id, &c).await?;
        let old = self
            .store()
            .get_client(realm_id, id)
            .await
            .map_err(|_| not_found("client"))?;
        if !c.public && old.is_public() {
            return Err(OAuthError::invalid_request(
                "a public client cannot become confidential; create a new client",
            ));
        }
        // The exchange policy has its own endpoint; a client update keeps it.
        let mut c = c;
        c.exchange = old.exchange.clone();
        let client = self
            .store()
            .update_client(realm_id, id, &c)
            .await
            .map_err(conflict("client with this client_id"))?;
        self.forget_client(realm_id, &old.client_id).await;
        self.forget_client(realm_id, &client.client_id).await;
        Ok(client)
    }

    pub async fn regenerate_secret(
        &self,
        realm: &str,
        id: ClientUuid,
    ) -> Result<String, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        let old = self
            .store()
            .get_client(realm_id, id)
            .await
            .map_err(|_| not_found("client"))?;
        if old.is_public() {
            return Err(OAuthError::invalid_request("a public client has no secret"));
        }
        let secret = random_token();
        self.store()
            .set_client_secret_hash(realm_id, id, sha256(secret.as_bytes()))
            .await?;
        self.forget_client(realm_id, &old.client_id).await;
        Ok(secret)
    }

    pub async fn delete_client(&self, realm: &str, id: ClientUuid) -> Result<(), OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        let old = self
            .store()
            .get_client(realm_id, id)
            .await
            .map_err(|_| not_found("client"))?;
        self.store().delete_client(realm_id, id).await?;
        self.forget_client(realm_id, &old.client_id).await;
        Ok(())
    }

    /// New active keys for every algorithm; the previous ones turn passive and stay in JWKS.
    pub async fn rotate_keys(&self, realm: &str) -> Result<Vec<String>, OAuthError> {
        let ctx = self.admin_realm(realm).await?;
        let kids = self.add_keys(ctx.realm.id).await?;
        self.forget_realm(&ctx.realm.name).await;
        Ok(kids)
    }

    pub async fn list_keys(&self, realm: &str) -> Result<Vec<KeyInfo>, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .list_keys(realm_id)
            .await?
            .into_iter()
            .map(|k| KeyInfo {
                kid: k.kid,
                alg: k.alg,
                status: k.status,
                created_at: k.created_at.0,
            })
            .collect())
    }

    /// Retires a passive key: it leaves JWKS and tokens it signed stop verifying.
    pub async fn retire_key(&self, realm: &str, kid: &str) -> Result<(), OAuthError> {
        let ctx = self.admin_realm(realm).await?;
        self.store()
            .retire_key(ctx.realm.id, kid)
            .await
            .map_err(|_| not_found("passive key"))?;
        self.forget_realm(&ctx.realm.name).await;
        Ok(())
    }

    /// On an empty database: realm `master` with the admin client `tessera-admin`; realm
    /// `demo` with `demo-service` (client_credentials), the browser client `demo-app` and
    /// the user `demo`. Returns the generated secrets and password, to be shown once.
    pub async fn bootstrap(&self) -> Result<Vec<Seeded>, OAuthError> {
        if self.store().count_realms().await? > 0 {
            return Ok(vec![]);
        }
        let client = |id: &str,
                      grants: Vec<GrantType>,
                      scopes: &str,
                      roles: Vec<String>,
                      redirect: Option<&str>| {
            Ok::<_, OAuthError>(NewClient {
                client_id: ClientId::parse(id)?,
                name: id.to_owned(),
                enabled: true,
                public: false,
                redirect_uris: redirect
                    .map(RedirectUri::parse)
                    .transpose()?
                    .into_iter()
                    .collect(),
                grant_types: grants,
                scopes: ScopeSet::parse(scopes)?,
                roles,
                access_token_format: AccessTokenFormat::Jwt,
                oidc: Default::default(),
                org: Default::default(),
                exchange: None,
            })
        };
        use GrantType::*;
        let clients = [
            (
                RealmName::MASTER,
                client(
                    "tessera-admin",
                    vec![ClientCredentials],
                    "",
                    vec![ADMIN_ROLE.to_owned()],
                    None,
                )?,
            ),
            (
                "demo",
                client(
                    "demo-service",
                    vec![ClientCredentials],
                    "api:read api:write",
                    vec![],
                    None,
                )?,
            ),
            (
                "demo",
                NewClient {
                    // It may trade its users' tokens for tokens to demo-service (RFC 8693).
                    exchange: Some(tessera_domain::ExchangePolicy {
                        audiences: vec!["demo-service".into()],
                        ..Default::default()
                    }),
                    ..client(
                        "demo-app",
                        vec![
                            AuthorizationCode,
                            RefreshToken,
                            ClientCredentials,
                            TokenExchange,
                        ],
                        "openid profile email offline_access api:read organization",
                        vec![],
                        Some("http://127.0.0.1:9999/cb"),
                    )?
                },
            ),
        ];
        self.create_realm(RealmName::MASTER, RealmSettings::default())
            .await?;
        self.create_realm("demo", RealmSettings::default()).await?;
        let mut seeded = Vec::new();
        for (realm, c) in clients {
            let name = c.client_id.to_string();
            let (_, secret) = self.create_client(realm, c, None).await?;
            seeded.push(Seeded {
                realm: realm.to_owned(),
                kind: SeededKind::Client,
                name,
                secret: secret.unwrap_or_default(),
            });
        }
        let mut user = NewUser::new(Username::parse("demo")?);
        user.email = Some(Email::parse("demo@example.com")?);
        user.email_verified = true;
        user.given_name = Some("Demo".into());
        user.family_name = Some("User".into());
        let password = random_token()[..20].to_owned();
        let user = self
            .create_user("demo", user, Some(password.clone()))
            .await?;
        // An organization to try the `organization` scope with: demo administers it.
        let admin = OrgRoleName::parse(OrgRoleName::ADMIN)?;
        self.create_org_role(
            "demo",
            admin.clone(),
            Some("Manages the organization".into()),
        )
        .await?;
        self.create_org(
            "demo",
            NewOrganization {
                alias: OrgAlias::parse("acme")?,
                name: "Acme Inc.".into(),
                description: None,
                enabled: true,
                attributes: Default::default(),
            },
            vec![OrgDomain {
                name: DomainName::parse("example.com")?,
                verified: true,
            }],
        )
        .await?;
        self.add_org_member(
            "demo",
            "acme",
            &OrgCaller::RealmAdmin,
            UserRef::Id(user.id),
            vec![admin],
            false,
        )
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
