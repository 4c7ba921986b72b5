use crate::entity::{
    client, client_assertion_jti as assertion, client_metadata_document as document,
    client_resource_uri as resource,
};
use crate::{PageRequest, Store, StoreError, StoreResult, join_list, split_list};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use tessera_domain::{
    AccessTokenFormat, ApiSettings, ApplicationType, AuthMethod, CibaDelivery, Client, ClientId,
    ClientKeys, ClientProfile, ClientUuid, GrantType, NewClient, OidcSettings, OrgClaimFormat,
    OrgId, OrgSettings, RealmId, RedirectUri, ResourceUri, ScopeSet, SigningAlg, UnixTime,
};

fn keys(m: &client::Model) -> StoreResult<Option<ClientKeys>> {
    Ok(match (&m.jwks, &m.jwks_uri) {
        (Some(set), _) => Some(ClientKeys::Jwks(set.clone())),
        (None, Some(uri)) => Some(ClientKeys::parse_uri(uri)?),
        (None, None) => None,
    })
}

pub(crate) fn to_domain(m: client::Model) -> StoreResult<Client> {
    Ok(Client {
        id: ClientUuid(m.id),
        realm_id: RealmId(m.realm_id),
        client_id: ClientId::parse(&m.client_id)?,
        name: m.name.clone(),
        enabled: m.enabled,
        auth_method: AuthMethod::parse(&m.token_endpoint_auth_method)?,
        keys: keys(&m)?,
        apis: ApiSettings {
            resource_uris: split_list(&m.resource_uris, ResourceUri::parse)?,
            audiences: split_list(&m.audiences, |s| Ok(s.to_owned()))?,
        },
        profile: ClientProfile {
            application_type: ApplicationType::parse(&m.application_type)?,
            client_uri: m.client_uri.clone(),
            logo_uri: m.logo_uri.clone(),
            tos_uri: m.tos_uri.clone(),
            policy_uri: m.policy_uri.clone(),
            contacts: split_list(&m.contacts, |s| Ok(s.to_owned()))?,
            software_id: m.software_id.clone(),
            software_version: m.software_version.clone(),
        },
        secret_hash: m.secret_hash,
        redirect_uris: split_list(&m.redirect_uris, RedirectUri::parse)?,
        grant_types: split_list(&m.grant_types, GrantType::parse)?,
        scopes: ScopeSet::parse(&m.scopes)?,
        roles: split_list(&m.roles, |s| Ok(s.to_owned()))?,
        access_token_format: AccessTokenFormat::parse(&m.access_token_format)?,
        oidc: OidcSettings {
            consent_required: m.consent_required,
            id_token_alg: SigningAlg::parse(&m.id_token_alg)?,
            post_logout_redirect_uris: split_list(
                &m.post_logout_redirect_uris,
                RedirectUri::parse,
            )?,
            backchannel_logout_uri: m
                .backchannel_logout_uri
                .as_deref()
                .map(RedirectUri::parse)
                .transpose()?,
            ciba_delivery: match (
                m.ciba_delivery_mode.as_deref(),
                m.ciba_notification_endpoint.as_deref(),
            ) {
                (Some("ping"), Some(e)) => CibaDelivery::Ping {
                    endpoint: RedirectUri::parse(e)?,
                },
                _ => CibaDelivery::Poll,
            },
        },
        org: OrgSettings {
            bound_to: m.org_id.map(OrgId),
            claim_format: OrgClaimFormat::parse(&m.org_claim_format)?,
        },
        exchange: m
            .exchange_policy
            .as_deref()
            .map(|p| {
                serde_json::from_str(p)
                    .map_err(|e| tessera_domain::DomainError::new("exchange_policy", e.to_string()))
            })
            .transpose()?,
        admin_console: m.admin_console,
        registration_token_hash: m.registration_token_hash,
        registered_openly: m.registered_openly,
        created_at: UnixTime(m.created_at),
    })
}

fn apply(m: &mut client::ActiveModel, c: &NewClient) {
    m.client_id = Set(c.client_id.as_str().to_owned());
    m.name = Set(c.name.clone());
    m.enabled = Set(c.enabled);
    m.redirect_uris = Set(join_list(
        &c.redirect_uris
            .iter()
            .map(RedirectUri::as_str)
            .collect::<Vec<_>>(),
    ));
    m.grant_types = Set(join_list(
        &c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
    ));
    m.scopes = Set(c.scopes.to_string());
    m.roles = Set(join_list(&c.roles));
    m.access_token_format = Set(c.access_token_format.as_str().to_owned());
    m.consent_required = Set(c.oidc.consent_required);
    m.id_token_alg = Set(c.oidc.id_token_alg.as_str().to_owned());
    m.post_logout_redirect_uris = Set(join_list(
        &c.oidc
            .post_logout_redirect_uris
            .iter()
            .map(RedirectUri::as_str)
            .collect::<Vec<_>>(),
    ));
    m.backchannel_logout_uri = Set(c
        .oidc
        .backchannel_logout_uri
        .as_ref()
        .map(|u| u.as_str().to_owned()));
    m.ciba_delivery_mode = Set(Some(c.oidc.ciba_delivery.mode().to_owned()));
    m.ciba_notification_endpoint = Set(c
        .oidc
        .ciba_delivery
        .endpoint()
        .map(|u| u.as_str().to_owned()));
    m.org_id = Set(c.org.bound_to.map(|o| o.0));
    m.org_claim_format = Set(c.org.claim_format.as_str().to_owned());
    m.admin_console = Set(c.admin_console);
    m.token_endpoint_auth_method = Set(c.auth_method.as_str().to_owned());
    let (jwks, jwks_uri) = match &c.keys {
        Some(ClientKeys::Jwks(set)) => (Some(set.clone()), None),
        Some(ClientKeys::JwksUri(u)) => (None, Some(u.to_string())),
        None => (None, None),
    };
    m.jwks = Set(jwks);
    m.jwks_uri = Set(jwks_uri);
    m.resource_uris = Set(join_list(
        &c.apis
            .resource_uris
            .iter()
            .map(ResourceUri::as_str)
            .collect::<Vec<_>>(),
    ));
    m.audiences = Set(join_list(&c.apis.audiences));
    let p = &c.profile;
    m.application_type = Set(p.application_type.as_str().to_owned());
    m.client_uri = Set(p.client_uri.clone());
    m.logo_uri = Set(p.logo_uri.clone());
    m.tos_uri = Set(p.tos_uri.clone());
    m.policy_uri = Set(p.policy_uri.clone());
    m.contacts = Set(join_list(&p.contacts));
    m.software_id = Set(p.software_id.clone());
    m.software_version = Set(p.software_version.clone());
    // Serializing plain data cannot fail.
    m.exchange_policy = Set(c
        .exchange
        .as_ref()
        .and_then(|p| serde_json::to_string(p).ok()));
}

impl Store {
    /// Records a client assertion's `jti` until `expires_at`; `false` when this client
    /// already used it (a replay). One INSERT, so two concurrent uses cannot both pass.
    pub async fn claim_client_assertion(
        &self,
        realm: RealmId,
        client: ClientUuid,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        let inserted = assertion::Entity::insert(assertion::ActiveModel {
            realm_id: Set(realm.0),
            client_id: Set(client.0),
            jti: Set(jti.to_owned()),
            expires_at: Set(expires_at.0),
        })
        .on_conflict(
            OnConflict::columns([assertion::Column::ClientId, assertion::Column::Jti])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(inserted == 1)
    }

    pub(crate) async fn purge_client_assertions(&self, now: UnixTime) -> StoreResult<u64> {
        Ok(assertion::Entity::delete_many()
            .filter(assertion::Column::ExpiresAt.lt(now.0))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    pub async fn insert_client(
        &self,
        realm: RealmId,
        id: ClientUuid,
        c: &NewClient,
        secret_hash: Option<Vec<u8>>,
        now: UnixTime,
    ) -> StoreResult<Client> {
        let m = new_client_model(realm, id, c, secret_hash, now);
        let tx = self.db.begin().await?;
        let client = to_domain(m.insert(&tx).await?)?;
        claim_resource_uris(&tx, realm, id, c).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// The client serving `resource` in the realm, if any (RFC 8707 targets by name).
    pub async fn find_client_by_resource_uri(
        &self,
        realm: RealmId,
        resource: &ResourceUri,
    ) -> StoreResult<Option<Client>> {
        let Some(r) = resource::Entity::find_by_id((realm.0, resource.as_str().to_owned()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        self.get_client(realm, ClientUuid(r.client_id))
            .await
            .map(Some)
    }

    /// The hot-path lookup: keyed by (realm, client_id), served from the unique index.
    pub async fn find_client_by_client_id(
        &self,
        realm: RealmId,
        client_id: &ClientId,
    ) -> StoreResult<Option<Client>> {
        client::Entity::find()
            .filter(client::Column::RealmId.eq(realm.0))
            .filter(client::Column::ClientId.eq(client_id.as_str()))
            .one(&self.db)
            .await?
            .map(to_domain)
            .transpose()
    }

    /// Creates, or rewrites, the client described by a client ID metadata document (its
    /// `client_id` is the document's URL; no secret). `None` when the realm has a client
    /// with that id which an administrator made: a document never replaces one.
    pub async fn upsert_document_client(
        &self,
        realm: RealmId,
        c: &NewClient,
        now: UnixTime,
    ) -> StoreResult<Option<Client>> {
        let tx = self.db.begin().await?;
        let existing = client::Entity::find()
            .filter(client::Column::RealmId.eq(realm.0))
            .filter(client::Column::ClientId.eq(c.client_id.as_str()))
            .one(&tx)
            .await?;
        let row = document::ActiveModel {
            client_id: Set(Default::default()),
            realm_id: Set(realm.0),
            fetched_at: Set(now.0),
        };
        let client = match existing {
            Some(old) => {
                let made_from_document = document::Entity::find_by_id(old.id)
                    .filter(document::Column::RealmId.eq(realm.0))
                    .one(&tx)
                    .await?
                    .is_some();
                if !made_from_document {
                    return Ok(None);
                }
                let id = old.id;
                let mut m = old.into_active_model();
                apply(&mut m, c);
                m.secret_hash = Set(None);
                let client = to_domain(m.update(&tx).await?)?;
                document::ActiveModel {
                    client_id: Set(id),
                    ..row
                }
                .update(&tx)
                .await?;
                client
            }
            None => {
                let id = ClientUuid::new_v7();
                let mut m = client::ActiveModel {
                    id: Set(id.0),
                    realm_id: Set(realm.0),
                    secret_hash: Set(None),
                    created_at: Set(now.0),
                    ..Default::default()
                };
                apply(&mut m, c);
                let client = to_domain(m.insert(&tx).await?)?;
                document::ActiveModel {
                    client_id: Set(id.0),
                    ..row
                }
                .insert(&tx)
                .await?;
                client
            }
        };
        tx.commit().await?;
        Ok(Some(client))
    }

    /// Whether the client was made from a client ID metadata document.
    pub async fn is_document_client(&self, realm: RealmId, id: ClientUuid) -> StoreResult<bool> {
        Ok(document::Entity::find_by_id(id.0)
            .filter(document::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .is_some())
    }

    async fn client_row(&self, realm: RealmId, id: ClientUuid) -> StoreResult<client::Model> {
        client::Entity::find_by_id(id.0)
            .filter(client::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn get_client(&self, realm: RealmId, id: ClientUuid) -> StoreResult<Client> {
        to_domain(self.client_row(realm, id).await?)
    }

    /// Clients of one realm ordered by `client_id`, one keyset page.
    /// A page of the realm's clients by `client_id`; with `org`, only the clients that
    /// organization owns; `search` matches a substring of the client id or name, ignoring
    /// case.
    pub async fn list_clients(
        &self,
        realm: RealmId,
        org: Option<OrgId>,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Vec<Client>> {
        let mut q = client::Entity::find()
            .filter(client::Column::RealmId.eq(realm.0))
            .order_by_asc(client::Column::ClientId);
        if let Some(org) = org {
            q = q.filter(client::Column::OrgId.eq(org.0));
        }
        if let Some(term) = search.filter(|s| !s.is_empty()) {
            let pat = crate::users::contains_pattern(&term.to_lowercase());
            let lower_like = |c: client::Column| {
                Expr::expr(Func::lower(Expr::col((client::Entity, c))))
                    .like(LikeExpr::new(pat.clone()).escape('\\'))
            };
            q = q.filter(
                Condition::any()
                    .add(lower_like(client::Column::ClientId))
                    .add(lower_like(client::Column::Name)),
            );
        }
        if let Some(after) = &page.after {
            q = q.filter(client::Column::ClientId.gt(after.as_str()));
        }
        q.limit(page.limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    /// Replaces a client's settings. The secret is kept unless the client turns public.
    pub async fn update_client(
        &self,
        realm: RealmId,
        id: ClientUuid,
        c: &NewClient,
    ) -> StoreResult<Client> {
        let tx = self.db.begin().await?;
        let client = replace_client(&tx, realm, id, c).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// Sets or removes a client's token exchange policy.
    pub async fn set_client_exchange_policy(
        &self,
        realm: RealmId,
        id: ClientUuid,
        policy: Option<&tessera_domain::ExchangePolicy>,
    ) -> StoreResult<Client> {
        let mut m = self.client_row(realm, id).await?.into_active_model();
        m.exchange_policy = Set(policy.and_then(|p| serde_json::to_string(p).ok()));
        to_domain(m.update(&self.db).await?)
    }

    pub async fn set_client_secret_hash(
        &self,
        realm: RealmId,
        id: ClientUuid,
        secret_hash: Vec<u8>,
    ) -> StoreResult<Client> {
        let mut m = self.client_row(realm, id).await?.into_active_model();
        m.secret_hash = Set(Some(secret_hash));
        to_domain(m.update(&self.db).await?)
    }

    pub async fn delete_client(&self, realm: RealmId, id: ClientUuid) -> StoreResult<()> {
        let res = client::Entity::delete_many()
            .filter(client::Column::RealmId.eq(realm.0))
            .filter(client::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// A new client's row (not yet inserted).
pub(crate) fn new_client_model(
    realm: RealmId,
    id: ClientUuid,
    c: &NewClient,
    secret_hash: Option<Vec<u8>>,
    now: UnixTime,
) -> client::ActiveModel {
    let mut m = client::ActiveModel {
        id: Set(id.0),
        realm_id: Set(realm.0),
        secret_hash: Set(secret_hash),
        created_at: Set(now.0),
        ..Default::default()
    };
    apply(&mut m, c);
    m
}

/// Replaces a client's settings within `db` (a transaction: the resource URIs move with
/// them). The secret is kept unless the client turns public.
pub(crate) async fn replace_client(
    db: &impl ConnectionTrait,
    realm: RealmId,
    id: ClientUuid,
    c: &NewClient,
) -> StoreResult<Client> {
    let mut m = client::Entity::find_by_id(id.0)
        .filter(client::Column::RealmId.eq(realm.0))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?
        .into_active_model();
    apply(&mut m, c);
    if !c.auth_method.uses_secret() {
        m.secret_hash = Set(None);
    }
    let client = to_domain(m.update(db).await?)?;
    resource::Entity::delete_many()
        .filter(resource::Column::RealmId.eq(realm.0))
        .filter(resource::Column::ClientId.eq(id.0))
        .exec(db)
        .await?;
    claim_resource_uris(db, realm, id, c).await?;
    Ok(client)
}

/// Claims the client's resource URIs in the realm: another client's claim on one of them
/// fails the insert on the primary key (`Conflict`), and the transaction leaves nothing.
async fn claim_resource_uris(
    db: &impl ConnectionTrait,
    realm: RealmId,
    id: ClientUuid,
    c: &NewClient,
) -> StoreResult<()> {
    if c.apis.resource_uris.is_empty() {
        return Ok(());
    }
    resource::Entity::insert_many(c.apis.resource_uris.iter().map(|r| resource::ActiveModel {
        realm_id: Set(realm.0),
        resource_uri: Set(r.as_str().to_owned()),
        client_id: Set(id.0),
    }))
    .exec(db)
    .await?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::test_util::{realm, test_store};
    use crate::{PageRequest, StoreError};
    use tessera_domain::{
        AccessTokenFormat, AuthMethod, ClientId, ClientUuid, GrantType, NewClient, RedirectUri,
        ResourceUri, ScopeSet, UnixTime,
    };

    pub fn new_client(id: &str) -> NewClient {
        NewClient {
            client_id: ClientId::parse(id).unwrap(),
            name: id.into(),
            enabled: true,
            auth_method: AuthMethod::ClientSecretBasic,
            keys: None,
            redirect_uris: vec![RedirectUri::parse("https://app.example/cb").unwrap()],
            grant_types: vec![GrantType::ClientCredentials],
            scopes: ScopeSet::parse("api:read api:write").unwrap(),
            roles: vec![],
            access_token_format: AccessTokenFormat::Jwt,
            oidc: Default::default(),
            org: Default::default(),
            exchange: None,
            admin_console: false,
            apis: Default::default(),
            profile: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_client_assertion_jti_is_claimed_once_per_client_until_purged() {
        let s = test_store().await;
        let r = realm("a");
        s.insert_realm(&r).await.unwrap();
        let a = s
            .insert_client(
                r.id,
                ClientUuid::new_v7(),
                &new_client("a"),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        let b = s
            .insert_client(
                r.id,
                ClientUuid::new_v7(),
                &new_client("b"),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        assert!(
            s.claim_client_assertion(r.id, a.id, "j", UnixTime(100))
                .await
                .unwrap()
        );
        assert!(
            !s.claim_client_assertion(r.id, a.id, "j", UnixTime(100))
                .await
                .unwrap()
        );
        assert!(
            s.claim_client_assertion(r.id, b.id, "j", UnixTime(100))
                .await
                .unwrap()
        );
        assert_eq!(s.purge_client_assertions(UnixTime(101)).await.unwrap(), 2);
        assert!(
            s.claim_client_assertion(r.id, a.id, "j", UnixTime(200))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_resource_uri_belongs_to_one_client_of_the_realm() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        let orders = ResourceUri::parse("https://api.example/orders").unwrap();
        let mut api = new_client("orders-api");
        api.apis.resource_uris = vec![orders.clone()];
        let stored = s
            .insert_client(a.id, ClientUuid::new_v7(), &api, None, UnixTime(1))
            .await
            .unwrap();
        assert_eq!(stored.apis.resource_uris, std::slice::from_ref(&orders));
        let mut twin = new_client("twin");
        twin.apis.resource_uris = vec![orders.clone()];
        assert!(matches!(
            s.insert_client(a.id, ClientUuid::new_v7(), &twin, None, UnixTime(1))
                .await,
            Err(StoreError::Conflict)
        ));
        // The losing client left nothing behind; another realm may use the same URI.
        assert!(
            s.find_client_by_client_id(a.id, &twin.client_id)
                .await
                .unwrap()
                .is_none()
        );
        s.insert_client(b.id, ClientUuid::new_v7(), &twin, None, UnixTime(1))
            .await
            .unwrap();
        let found = s.find_client_by_resource_uri(a.id, &orders).await.unwrap();
        assert_eq!(found.map(|c| c.id), Some(stored.id));
        // Dropping the URI on update frees it.
        api.apis.resource_uris.clear();
        s.update_client(a.id, stored.id, &api).await.unwrap();
        assert!(
            s.find_client_by_resource_uri(a.id, &orders)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn client_round_trips_every_field() {
        let s = test_store().await;
        let a = realm("a");
        s.insert_realm(&a).await.unwrap();
        let mut c = new_client("svc");
        c.roles = vec!["admin".into()];
        c.access_token_format = AccessTokenFormat::Opaque;
        let id = ClientUuid::new_v7();
        let stored = s
            .insert_client(a.id, id, &c, Some(vec![7; 32]), UnixTime(5))
            .await
            .unwrap();
        let found = s
            .find_client_by_client_id(a.id, &c.client_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, found);
        assert_eq!(found.roles, ["admin"]);
        assert_eq!(found.scopes.to_string(), "api:read api:write");
        assert_eq!(found.access_token_format, AccessTokenFormat::Opaque);
        assert_eq!(found.secret_hash, Some(vec![7; 32]));
    }

    #[tokio::test]
    async fn same_client_id_in_two_realms_is_two_clients_iso_2_iso_5() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        let ca = s
            .insert_client(
                a.id,
                ClientUuid::new_v7(),
                &new_client("svc"),
                Some(vec![1]),
                UnixTime(1),
            )
            .await
            .unwrap();
        let cb = s
            .insert_client(
                b.id,
                ClientUuid::new_v7(),
                &new_client("svc"),
                Some(vec![2]),
                UnixTime(1),
            )
            .await
            .unwrap();
        assert_ne!(ca.id, cb.id);
        let found = s
            .find_client_by_client_id(b.id, &ca.client_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.secret_hash, Some(vec![2]));
        // Realm a's admin addressing realm b's client by its id finds nothing.
        assert!(matches!(
            s.get_client(a.id, cb.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.update_client(a.id, cb.id, &new_client("x")).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.delete_client(a.id, cb.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(s.get_client(b.id, cb.id).await.is_ok());
    }

    #[tokio::test]
    async fn duplicate_client_id_in_one_realm_conflicts() {
        let s = test_store().await;
        let a = realm("a");
        s.insert_realm(&a).await.unwrap();
        s.insert_client(
            a.id,
            ClientUuid::new_v7(),
            &new_client("svc"),
            None,
            UnixTime(1),
        )
        .await
        .unwrap();
        let again = s
            .insert_client(
                a.id,
                ClientUuid::new_v7(),
                &new_client("svc"),
                None,
                UnixTime(1),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict)));
    }

    #[tokio::test]
    async fn client_list_pages_by_client_id_within_the_realm() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        for id in ["c", "a", "b"] {
            s.insert_client(
                a.id,
                ClientUuid::new_v7(),
                &new_client(id),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        }
        s.insert_client(
            b.id,
            ClientUuid::new_v7(),
            &new_client("z"),
            None,
            UnixTime(1),
        )
        .await
        .unwrap();
        let p = s
            .list_clients(
                a.id,
                None,
                None,
                &PageRequest {
                    after: Some("a".into()),
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            p.iter().map(|c| c.client_id.as_str()).collect::<Vec<_>>(),
            ["b", "c"]
        );
    }

    #[tokio::test]
    async fn deleting_a_realm_cascades_to_its_clients_iso_13() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        let ca = s
            .insert_client(
                a.id,
                ClientUuid::new_v7(),
                &new_client("svc"),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        let cb = s
            .insert_client(
                b.id,
                ClientUuid::new_v7(),
                &new_client("svc"),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        s.delete_realm(a.id).await.unwrap();
        assert!(matches!(
            s.get_client(a.id, ca.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(s.get_client(b.id, cb.id).await.is_ok());
    }
}
