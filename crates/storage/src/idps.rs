//! Upstream identity providers, the links of upstream accounts to local users, sessions by
//! upstream session, and the logout-token ids already seen.

use crate::entity::{
    broker_state as broker, external_token_jti as ext_jti, federated_identity as link,
    identity_provider as idp, membership, membership_role, upstream_logout_jti as jti, user,
    user_session as sess,
};
use crate::{Store, StoreError, StoreResult, join_list, split_list};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use tessera_domain::{
    ClientKeys, DomainError, DomainName, FederatedIdentity, IdentityProvider, IdpAlias, IdpId,
    IdpSettings, NewUser, OrgAdminExchange, OrgId, OrgRoleId, RealmId, RequiredClaim, Session,
    TokenTrust, UnixTime, UpstreamAuthMethod, User, UserId,
};
use uuid::Uuid;

fn idp_of(m: idp::Model) -> StoreResult<IdentityProvider> {
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&m.required_claims)
            .map_err(|e| DomainError::new("required_claims", e.to_string()))?;
    let required_claims = claims
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(v) => RequiredClaim::new(k, v),
            None => Err(DomainError::new("required_claims", "values are strings")),
        })
        .collect::<Result<_, _>>()?;
    let json = |field: &'static str, v: &Option<String>| -> Result<_, DomainError> {
        v.as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
            .transpose()
            .map_err(|e| DomainError::new(field, e.to_string()))
    };
    let accept_tokens = json("token_trust", &m.token_trust)?
        .map(serde_json::from_value::<TokenTrust>)
        .transpose()
        .map_err(|e| DomainError::new("token_trust", e.to_string()))?;
    let org_admin_exchange = json("org_admin_exchange", &m.org_admin_exchange)?
        .map(serde_json::from_value::<OrgAdminExchange>)
        .transpose()
        .map_err(|e| DomainError::new("org_admin_exchange", e.to_string()))?;
    let keys = match json("signing_keys", &m.signing_keys)? {
        None => None,
        Some(v) => Some(
            match (v.get("jwks_uri").and_then(|u| u.as_str()), v.get("jwks")) {
                (Some(uri), _) => ClientKeys::parse_uri(uri)?,
                (None, Some(jwks)) => ClientKeys::parse_jwks(&jwks.to_string())?,
                _ => {
                    return Err(
                        DomainError::new("signing_keys", "neither jwks nor jwks_uri").into(),
                    );
                }
            },
        ),
    };
    Ok(IdentityProvider {
        id: IdpId(m.id),
        realm_id: RealmId(m.realm_id),
        settings: IdpSettings {
            alias: IdpAlias::parse(&m.alias)?,
            display_name: m.display_name,
            issuer: m.issuer,
            client_id: m.client_id,
            scopes: split_list(&m.scopes, |s| Ok(s.to_owned()))?,
            auth_method: UpstreamAuthMethod::parse(&m.auth_method)?,
            trust_email: m.trust_email,
            email_optional: m.email_optional,
            create_users: m.create_users,
            org_id: m.org_id.map(OrgId),
            domains: split_list(&m.domains, DomainName::parse)?,
            redirect_on_domain: m.redirect_on_domain,
            hide_on_login: m.hide_on_login,
            required_claims,
            enabled: m.enabled,
            accept_tokens,
            keys,
            org_admin_exchange,
        },
        secret_sealed: m.secret_sealed,
        created_at: UnixTime(m.created_at),
    })
}

fn apply(m: &mut idp::ActiveModel, s: &IdpSettings) {
    let claims: serde_json::Map<_, _> = s
        .required_claims
        .iter()
        .map(|c| (c.name.clone(), serde_json::Value::String(c.value.clone())))
        .collect();
    m.alias = Set(s.alias.as_str().to_owned());
    m.display_name = Set(s.display_name.clone());
    m.issuer = Set(s.issuer.clone());
    m.client_id = Set(s.client_id.clone());
    m.scopes = Set(join_list(&s.scopes));
    m.auth_method = Set(s.auth_method.as_str().to_owned());
    m.trust_email = Set(s.trust_email);
    m.email_optional = Set(s.email_optional);
    m.create_users = Set(s.create_users);
    m.org_id = Set(s.org_id.map(|o| o.0));
    m.domains = Set(join_list(
        &s.domains.iter().map(DomainName::as_str).collect::<Vec<_>>(),
    ));
    m.redirect_on_domain = Set(s.redirect_on_domain);
    m.hide_on_login = Set(s.hide_on_login);
    m.required_claims = Set(serde_json::Value::Object(claims).to_string());
    m.enabled = Set(s.enabled);
    m.token_trust = Set(s
        .accept_tokens
        .as_ref()
        .map(|t| serde_json::to_string(t).expect("token trust serializes")));
    m.org_admin_exchange = Set(s
        .org_admin_exchange
        .as_ref()
        .map(|x| serde_json::to_string(x).expect("org admin exchange serializes")));
    m.signing_keys = Set(s.keys.as_ref().map(|k| {
        match k {
            ClientKeys::JwksUri(u) => serde_json::json!({ "jwks_uri": u.as_str() }),
            ClientKeys::Jwks(j) => {
                serde_json::json!({ "jwks": serde_json::from_str::<serde_json::Value>(j).unwrap_or_default() })
            }
        }
        .to_string()
    }));
}

fn link_of(m: link::Model, alias: IdpAlias) -> FederatedIdentity {
    FederatedIdentity {
        realm_id: RealmId(m.realm_id),
        idp_id: IdpId(m.idp_id),
        alias,
        user_id: UserId(m.user_id),
        subject: m.subject,
        username: m.username,
        upstream_sid: m.upstream_sid,
        created_at: UnixTime(m.created_at),
        last_login: UnixTime(m.last_login),
    }
}

fn link_row(l: &FederatedIdentity) -> link::ActiveModel {
    link::ActiveModel {
        realm_id: Set(l.realm_id.0),
        idp_id: Set(l.idp_id.0),
        subject: Set(l.subject.clone()),
        user_id: Set(l.user_id.0),
        username: Set(l.username.clone()),
        upstream_sid: Set(l.upstream_sid.clone()),
        created_at: Set(l.created_at.0),
        last_login: Set(l.last_login.0),
    }
}

/// The organization a new upstream user joins as a managed member, with these roles.
pub struct ManagedMembership<'a> {
    pub org_id: OrgId,
    pub roles: &'a [OrgRoleId],
}

impl Store {
    /// `Conflict` when the realm already has a provider with this alias.
    pub async fn insert_idp(&self, p: &IdentityProvider) -> StoreResult<()> {
        let mut m = idp::ActiveModel {
            id: Set(p.id.0),
            realm_id: Set(p.realm_id.0),
            secret_sealed: Set(p.secret_sealed.clone()),
            created_at: Set(p.created_at.0),
            ..Default::default()
        };
        apply(&mut m, &p.settings);
        m.insert(&self.db).await?;
        Ok(())
    }

    /// A realm's providers by alias.
    pub async fn list_idps(&self, realm: RealmId) -> StoreResult<Vec<IdentityProvider>> {
        idp::Entity::find()
            .filter(idp::Column::RealmId.eq(realm.0))
            .order_by_asc(idp::Column::Alias)
            .all(&self.db)
            .await?
            .into_iter()
            .map(idp_of)
            .collect()
    }

    pub async fn find_idp(
        &self,
        realm: RealmId,
        alias: &IdpAlias,
    ) -> StoreResult<Option<IdentityProvider>> {
        idp::Entity::find()
            .filter(idp::Column::RealmId.eq(realm.0))
            .filter(idp::Column::Alias.eq(alias.as_str()))
            .one(&self.db)
            .await?
            .map(idp_of)
            .transpose()
    }

    /// Replaces a provider's settings, and its secret when one is given. The alias stays.
    pub async fn update_idp(
        &self,
        realm: RealmId,
        id: IdpId,
        s: &IdpSettings,
        secret_sealed: Option<Vec<u8>>,
    ) -> StoreResult<IdentityProvider> {
        let row = idp::Entity::find_by_id(id.0)
            .filter(idp::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        let alias = row.alias.clone();
        let mut m: idp::ActiveModel = row.into();
        apply(&mut m, s);
        m.alias = Set(alias);
        if let Some(secret) = secret_sealed {
            m.secret_sealed = Set(secret);
        }
        idp_of(m.update(&self.db).await?)
    }

    /// Deletes a provider; its links go with it (the users stay).
    pub async fn delete_idp(&self, realm: RealmId, id: IdpId) -> StoreResult<()> {
        let gone = idp::Entity::delete_many()
            .filter(idp::Column::RealmId.eq(realm.0))
            .filter(idp::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if gone.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The link of an upstream account (provider and upstream `sub`).
    pub async fn find_link(
        &self,
        realm: RealmId,
        p: &IdentityProvider,
        subject: &str,
    ) -> StoreResult<Option<FederatedIdentity>> {
        Ok(link::Entity::find()
            .filter(link::Column::RealmId.eq(realm.0))
            .filter(link::Column::IdpId.eq(p.id.0))
            .filter(link::Column::Subject.eq(subject))
            .one(&self.db)
            .await?
            .map(|m| link_of(m, p.settings.alias.clone())))
    }

    /// The user linked to an upstream account, in one statement (the link as a subquery):
    /// the hot path of tokens from trusted issuers, which reads the link and never updates it.
    pub async fn find_linked_user(
        &self,
        realm: RealmId,
        idp: IdpId,
        subject: &str,
    ) -> StoreResult<Option<User>> {
        let linked = sea_orm::sea_query::Query::select()
            .column(link::Column::UserId)
            .from(link::Entity)
            .and_where(link::Column::RealmId.eq(realm.0))
            .and_where(link::Column::IdpId.eq(idp.0))
            .and_where(link::Column::Subject.eq(subject))
            .to_owned();
        user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Id.in_subquery(linked))
            .one(&self.db)
            .await?
            .map(crate::users::to_domain)
            .transpose()
    }

    /// Links an upstream account to an existing user. `Conflict` when that account or this
    /// user already has a link at the provider.
    pub async fn insert_link(&self, l: &FederatedIdentity) -> StoreResult<()> {
        link_row(l).insert(&self.db).await?;
        Ok(())
    }

    /// Creates a user, its link and (for an organization's provider) its managed
    /// membership in one transaction: two first sign-ins of the same upstream account
    /// race on the link's key, and the loser leaves nothing behind (`Conflict`).
    pub async fn insert_federated_user(
        &self,
        u: &NewUser,
        l: &FederatedIdentity,
        member: Option<ManagedMembership<'_>>,
    ) -> StoreResult<User> {
        let tx = self.db.begin().await?;
        let mut m = user::ActiveModel {
            id: Set(l.user_id.0),
            realm_id: Set(l.realm_id.0),
            password_hash: Set(None),
            created_at: Set(l.created_at.0),
            ..Default::default()
        };
        crate::users::apply(&mut m, u);
        let user = crate::users::to_domain(m.insert(&tx).await?)?;
        link_row(l).insert(&tx).await?;
        if let Some(mm) = member {
            let id = Uuid::now_v7();
            membership::ActiveModel {
                id: Set(id),
                realm_id: Set(l.realm_id.0),
                org_id: Set(mm.org_id.0),
                user_id: Set(l.user_id.0),
                managed: Set(true),
                created_at: Set(l.created_at.0),
            }
            .insert(&tx)
            .await?;
            for r in mm.roles {
                membership_role::ActiveModel {
                    membership_id: Set(id),
                    role_id: Set(r.0),
                }
                .insert(&tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Records a sign-in through a link: when, as whom and in which upstream session.
    pub async fn touch_link(
        &self,
        l: &FederatedIdentity,
        username: Option<&str>,
        upstream_sid: Option<&str>,
        now: UnixTime,
    ) -> StoreResult<()> {
        link::Entity::update_many()
            .col_expr(link::Column::LastLogin, now.0.into())
            .col_expr(link::Column::Username, username.map(str::to_owned).into())
            .col_expr(
                link::Column::UpstreamSid,
                upstream_sid.map(str::to_owned).into(),
            )
            .filter(link::Column::RealmId.eq(l.realm_id.0))
            .filter(link::Column::IdpId.eq(l.idp_id.0))
            .filter(link::Column::Subject.eq(l.subject.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// A user's links, with the aliases of their providers.
    pub async fn list_user_links(
        &self,
        realm: RealmId,
        user: UserId,
    ) -> StoreResult<Vec<FederatedIdentity>> {
        let rows = link::Entity::find()
            .filter(link::Column::RealmId.eq(realm.0))
            .filter(link::Column::UserId.eq(user.0))
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let idps = self.list_idps(realm).await?;
        let mut links: Vec<_> = rows
            .into_iter()
            .filter_map(|m| {
                let alias = idps
                    .iter()
                    .find(|p| p.id.0 == m.idp_id)?
                    .settings
                    .alias
                    .clone();
                Some(link_of(m, alias))
            })
            .collect();
        links.sort_by(|a, b| a.alias.cmp(&b.alias));
        Ok(links)
    }

    /// Removes a user's link at a provider. `NotFound` when there is none.
    pub async fn delete_link(&self, realm: RealmId, user: UserId, idp: IdpId) -> StoreResult<()> {
        let gone = link::Entity::delete_many()
            .filter(link::Column::RealmId.eq(realm.0))
            .filter(link::Column::UserId.eq(user.0))
            .filter(link::Column::IdpId.eq(idp.0))
            .exec(&self.db)
            .await?;
        if gone.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Live sessions that came through an upstream session (`sid`), or through any session
    /// of an upstream account when only `sub` is known.
    pub async fn find_upstream_sessions(
        &self,
        realm: RealmId,
        idp: IdpId,
        subject: Option<&str>,
        sid: Option<&str>,
    ) -> StoreResult<Vec<Session>> {
        let mut q = sess::Entity::find()
            .filter(sess::Column::RealmId.eq(realm.0))
            .filter(sess::Column::UpstreamIdp.eq(idp.0))
            .filter(sess::Column::EndedAt.is_null());
        if let Some(sub) = subject {
            q = q.filter(sess::Column::UpstreamSub.eq(sub));
        }
        if let Some(sid) = sid {
            q = q.filter(sess::Column::UpstreamSid.eq(sid));
        }
        if subject.is_none() && sid.is_none() {
            return Ok(Vec::new());
        }
        Ok(q.all(&self.db)
            .await?
            .into_iter()
            .map(crate::grants::session)
            .collect())
    }

    /// Records a logout token's `jti` for a provider until `expires_at`; `false` when it was
    /// already recorded (a replay). One INSERT, so two deliveries cannot both pass.
    pub async fn claim_logout_jti(
        &self,
        idp: IdpId,
        id: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        let inserted = jti::Entity::insert(jti::ActiveModel {
            idp_id: Set(idp.0),
            jti: Set(id.to_owned()),
            expires_at: Set(expires_at.0),
        })
        .on_conflict(
            OnConflict::columns([jti::Column::IdpId, jti::Column::Jti])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(inserted == 1)
    }

    /// Records an external token's `jti` for a provider of the realm until `expires_at`;
    /// `false` when it was already recorded (a replay). One INSERT, so two concurrent
    /// presentations cannot both pass.
    pub async fn claim_external_jti(
        &self,
        realm: RealmId,
        idp: IdpId,
        id: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        let inserted = ext_jti::Entity::insert(ext_jti::ActiveModel {
            realm_id: Set(realm.0),
            idp_id: Set(idp.0),
            jti: Set(id.to_owned()),
            expires_at: Set(expires_at.0),
        })
        .on_conflict(
            OnConflict::columns([ext_jti::Column::IdpId, ext_jti::Column::Jti])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(inserted == 1)
    }

    /// Whether an external token's `jti` was used already (the dry run, which claims nothing).
    pub async fn external_jti_used(
        &self,
        realm: RealmId,
        idp: IdpId,
        id: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        Ok(ext_jti::Entity::find()
            .filter(ext_jti::Column::RealmId.eq(realm.0))
            .filter(ext_jti::Column::IdpId.eq(idp.0))
            .filter(ext_jti::Column::Jti.eq(id))
            .filter(ext_jti::Column::ExpiresAt.gte(now.0))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Stores a sign-in on its way to provider `idp`, keyed by the hash of its `state`.
    pub async fn insert_broker_state(
        &self,
        realm: RealmId,
        idp: IdpId,
        state_hash: &[u8],
        payload: Vec<u8>,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        broker::ActiveModel {
            state_hash: Set(state_hash.to_vec()),
            realm_id: Set(realm.0),
            idp_id: Set(idp.0),
            payload: Set(payload),
            expires_at: Set(expires_at.0),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// Takes a pending sign-in by the hash of its `state`: one DELETE … RETURNING, so
    /// of two callbacks with the same `state` exactly one gets it.
    pub async fn take_broker_state(
        &self,
        realm: RealmId,
        idp: IdpId,
        state_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<Vec<u8>>> {
        let rows = broker::Entity::delete_many()
            .filter(broker::Column::StateHash.eq(state_hash.to_vec()))
            .filter(broker::Column::RealmId.eq(realm.0))
            .filter(broker::Column::IdpId.eq(idp.0))
            .filter(broker::Column::ExpiresAt.gt(now.0))
            .exec_with_returning(&self.db)
            .await?;
        Ok(rows.into_iter().next().map(|m| m.payload))
    }

    pub(crate) async fn purge_federation(&self, now: UnixTime) -> StoreResult<u64> {
        let a = jti::Entity::delete_many()
            .filter(jti::Column::ExpiresAt.lt(now.0))
            .exec(&self.db)
            .await?;
        let b = broker::Entity::delete_many()
            .filter(broker::Column::ExpiresAt.lt(now.0))
            .exec(&self.db)
            .await?;
        let c = ext_jti::Entity::delete_many()
            .filter(ext_jti::Column::ExpiresAt.lt(now.0))
            .exec(&self.db)
            .await?;
        Ok(a.rows_affected + b.rows_affected + c.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::two_realms;
    use crate::{Store, StoreError};
    use tessera_domain::{
        FederatedIdentity, IdentityProvider, IdpAlias, IdpId, IdpSettings, NewUser, Realm, Session,
        SessionId, UnixTime, UpstreamLogin, UserId, Username,
    };

    async fn provider(s: &Store, r: &Realm, alias: &str) -> IdentityProvider {
        let settings = IdpSettings::new(
            IdpAlias::parse(alias).unwrap(),
            "https://up.example".into(),
            "tessera".into(),
        );
        let p = IdentityProvider {
            id: IdpId::new_v7(),
            realm_id: r.id,
            settings,
            secret_sealed: vec![1, 2, 3],
            created_at: UnixTime(1),
        };
        s.insert_idp(&p).await.unwrap();
        p
    }

    fn link(p: &IdentityProvider, user: UserId, subject: &str) -> FederatedIdentity {
        FederatedIdentity {
            realm_id: p.realm_id,
            idp_id: p.id,
            alias: p.settings.alias.clone(),
            user_id: user,
            subject: subject.into(),
            username: None,
            upstream_sid: None,
            created_at: UnixTime(1),
            last_login: UnixTime(1),
        }
    }

    #[tokio::test]
    async fn a_broker_state_is_taken_once_unexpired_and_only_in_its_realm() {
        let (s, a, b) = two_realms().await;
        let p = provider(&s, &a, "up").await;
        s.insert_broker_state(
            a.id,
            p.id,
            b"state-hash",
            b"payload".to_vec(),
            UnixTime(100),
        )
        .await
        .unwrap();
        let take = |realm: &Realm, now: i64| {
            s.take_broker_state(realm.id, p.id, b"state-hash", UnixTime(now))
        };
        assert_eq!(take(&b, 50).await.unwrap(), None, "another realm's");
        assert_eq!(take(&a, 100).await.unwrap(), None, "expired");
        assert_eq!(
            take(&a, 50).await.unwrap().as_deref(),
            Some(&b"payload"[..])
        );
        assert_eq!(take(&a, 50).await.unwrap(), None, "taken already");
    }

    #[tokio::test]
    async fn a_logout_token_id_is_claimed_once_per_provider() {
        let (s, a, _) = two_realms().await;
        let (p, q) = (provider(&s, &a, "p").await, provider(&s, &a, "q").await);
        assert!(
            s.claim_logout_jti(p.id, "jti-1", UnixTime(100))
                .await
                .unwrap()
        );
        assert!(
            !s.claim_logout_jti(p.id, "jti-1", UnixTime(100))
                .await
                .unwrap(),
            "a replay"
        );
        assert!(
            s.claim_logout_jti(q.id, "jti-1", UnixTime(100))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn two_first_sign_ins_of_one_upstream_account_leave_one_user() {
        let (s, a, _) = two_realms().await;
        let p = provider(&s, &a, "up").await;
        let sign_in = |name: &'static str| {
            let u = NewUser::new(Username::parse(name).unwrap());
            let l = link(&p, UserId::new_v7(), "upstream-sub");
            let s = &s;
            async move { s.insert_federated_user(&u, &l, None).await }
        };
        let (first, second) = tokio::join!(sign_in("first"), sign_in("second"));
        let (winner, loser) = match (first, second) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            other => panic!("exactly one sign-in creates the user: {other:?}"),
        };
        assert!(matches!(loser, StoreError::Conflict), "{loser:?}");
        let found = s
            .find_link(a.id, &p, "upstream-sub")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.user_id, winner.id);
        for name in ["first", "second"] {
            let u = s
                .find_user_by_username(a.id, &Username::parse(name).unwrap())
                .await
                .unwrap();
            assert_eq!(u.is_some(), winner.username.as_str() == name, "{name}");
        }
    }

    #[tokio::test]
    async fn upstream_sessions_are_found_by_sid_or_by_subject_of_their_provider() {
        let (s, a, b) = two_realms().await;
        let (p, q) = (provider(&s, &a, "p").await, provider(&s, &a, "q").await);
        let user = s
            .insert_user(
                a.id,
                UserId::new_v7(),
                &NewUser::new(Username::parse("u").unwrap()),
                None,
                UnixTime(1),
            )
            .await
            .unwrap()
            .id;
        let mut ids = Vec::new();
        for (n, (idp, sub, sid)) in [
            (&p, "sub-1", "sid-x"),
            (&p, "sub-1", "sid-y"),
            (&p, "sub-2", "sid-z"),
            (&q, "sub-1", "sid-x"),
        ]
        .into_iter()
        .enumerate()
        {
            let id = SessionId::new_v7();
            let session = Session {
                id,
                realm_id: a.id,
                sid: format!("local-{n}"),
                user_id: user,
                auth_time: UnixTime(1),
                last_seen: UnixTime(1),
                expires_at: UnixTime(1000),
                ended_at: None,
                upstream: Some(UpstreamLogin {
                    idp_id: idp.id,
                    subject: sub.into(),
                    sid: Some(sid.into()),
                }),
            };
            s.insert_session(&session, &[n as u8]).await.unwrap();
            ids.push(id);
        }
        let found = |realm: &Realm, sub: Option<&'static str>, sid: Option<&'static str>| {
            let s = &s;
            let (realm, idp) = (realm.id, p.id);
            async move {
                let mut got: Vec<SessionId> = s
                    .find_upstream_sessions(realm, idp, sub, sid)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|x| x.id)
                    .collect();
                got.sort_by_key(|x| x.0);
                got
            }
        };
        assert_eq!(
            found(&a, None, Some("sid-x")).await,
            [ids[0]],
            "by sid, this provider's only"
        );
        let mut both = vec![ids[0], ids[1]];
        both.sort_by_key(|x| x.0);
        assert_eq!(
            found(&a, Some("sub-1"), None).await,
            both,
            "every session of the account"
        );
        assert_eq!(found(&a, Some("sub-1"), Some("sid-y")).await, [ids[1]]);
        assert_eq!(
            found(&a, None, None).await,
            [],
            "nothing without sub or sid"
        );
        assert_eq!(found(&b, Some("sub-1"), None).await, [], "another realm's");
        s.end_session(a.id, ids[0], UnixTime(2)).await.unwrap();
        assert_eq!(
            found(&a, Some("sub-1"), None).await,
            [ids[1]],
            "ended sessions are gone"
        );
    }
}
