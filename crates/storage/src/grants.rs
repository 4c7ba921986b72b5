//! Sessions, grants, authorization codes, refresh tokens and consents. Single-use
//! artifacts are consumed by one conditional UPDATE … RETURNING: exactly one caller can
//! win, on SQLite and PostgreSQL alike.

use crate::entity::{
    authorization_code as code, consent, grant, refresh_token as rt, user_session as sess,
};
use crate::{Store, StoreResult, join_list, split_list};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tessera_domain::{
    AuthorizationCode, ClientUuid, Grant, GrantId, IdpId, OrgSelection, RealmId, Redemption,
    RefreshToken, ScopeSet, Session, SessionId, UnixTime, UpstreamLogin, User, UserId,
};

pub(crate) fn session(m: sess::Model) -> Session {
    Session {
        id: SessionId(m.id),
        realm_id: RealmId(m.realm_id),
        sid: m.sid,
        user_id: UserId(m.user_id),
        auth_time: UnixTime(m.auth_time),
        last_seen: UnixTime(m.last_seen),
        expires_at: UnixTime(m.expires_at),
        ended_at: m.ended_at.map(UnixTime),
        upstream: m.upstream_idp.map(|idp| UpstreamLogin {
            idp_id: IdpId(idp),
            subject: m.upstream_sub.unwrap_or_default(),
            sid: m.upstream_sid,
        }),
    }
}

fn grant_of(m: grant::Model) -> StoreResult<Grant> {
    Ok(Grant {
        id: GrantId(m.id),
        realm_id: RealmId(m.realm_id),
        client: ClientUuid(m.client_uuid),
        user_id: UserId(m.user_id),
        session_id: m.session_id.map(SessionId),
        sid: m.sid,
        scope: ScopeSet::parse(&m.scope)?,
        auth_time: UnixTime(m.auth_time),
        offline: m.offline,
        org: m
            .organization
            .as_deref()
            .map(OrgSelection::from_db)
            .transpose()?,
        created_at: UnixTime(m.created_at),
        expires_at: UnixTime(m.expires_at),
        revoked_at: m.revoked_at.map(UnixTime),
        targets: split_list(&m.targets, |s| Ok(s.to_owned()))?,
    })
}

fn code_of(m: code::Model) -> AuthorizationCode {
    AuthorizationCode {
        realm_id: RealmId(m.realm_id),
        code_hash: m.code_hash,
        grant_id: GrantId(m.grant_id),
        redirect_uri: m.redirect_uri,
        code_challenge: m.code_challenge,
        nonce: m.nonce,
        expires_at: UnixTime(m.expires_at),
    }
}

fn refresh_of(m: rt::Model) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        realm_id: RealmId(m.realm_id),
        token_hash: m.token_hash,
        grant_id: GrantId(m.grant_id),
        scope: ScopeSet::parse(&m.scope)?,
        org: m
            .organization
            .as_deref()
            .map(OrgSelection::from_db)
            .transpose()?,
        issued_at: UnixTime(m.issued_at),
        expires_at: UnixTime(m.expires_at),
    })
}

/// Ids of a realm's grants that are neither revoked nor past their absolute end. Part of
/// the consuming UPDATE, so liveness is decided in the same atomic statement: a later,
/// concurrent revocation cannot turn the one successful redemption into a failure.
fn live_grants(realm: RealmId, now: UnixTime) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(grant::Column::Id)
        .from(grant::Entity)
        .and_where(grant::Column::RealmId.eq(realm.0))
        .and_where(grant::Column::RevokedAt.is_null())
        .and_where(grant::Column::ExpiresAt.gt(now.0))
        .to_owned()
}

impl Store {
    pub async fn insert_session(&self, s: &Session, token_hash: &[u8]) -> StoreResult<()> {
        sess::ActiveModel {
            id: Set(s.id.0),
            realm_id: Set(s.realm_id.0),
            sid: Set(s.sid.clone()),
            token_hash: Set(token_hash.to_vec()),
            user_id: Set(s.user_id.0),
            auth_time: Set(s.auth_time.0),
            last_seen: Set(s.last_seen.0),
            expires_at: Set(s.expires_at.0),
            ended_at: Set(None),
            upstream_idp: Set(s.upstream.as_ref().map(|u| u.idp_id.0)),
            upstream_sub: Set(s.upstream.as_ref().map(|u| u.subject.clone())),
            upstream_sid: Set(s.upstream.as_ref().and_then(|u| u.sid.clone())),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// A live (not ended) session by the hash of its cookie token.
    pub async fn find_session_by_token(
        &self,
        realm: RealmId,
        token_hash: &[u8],
    ) -> StoreResult<Option<Session>> {
        Ok(sess::Entity::find()
            .filter(sess::Column::RealmId.eq(realm.0))
            .filter(sess::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(sess::Column::EndedAt.is_null())
            .one(&self.db)
            .await?
            .map(session))
    }

    /// A user's live sessions, newest first (at most `limit`).
    pub async fn list_user_sessions(
        &self,
        realm: RealmId,
        user: UserId,
        now: UnixTime,
        limit: u64,
    ) -> StoreResult<Vec<Session>> {
        Ok(sess::Entity::find()
            .filter(sess::Column::RealmId.eq(realm.0))
            .filter(sess::Column::UserId.eq(user.0))
            .filter(sess::Column::EndedAt.is_null())
            .filter(sess::Column::ExpiresAt.gt(now.0))
            .order_by_desc(sess::Column::AuthTime)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(session)
            .collect())
    }

    /// Revokes every grant of a user, offline ones included ("sign out everywhere").
    pub async fn revoke_user_grants(
        &self,
        realm: RealmId,
        user: UserId,
        now: UnixTime,
    ) -> StoreResult<u64> {
        Ok(grant::Entity::update_many()
            .col_expr(grant::Column::RevokedAt, Expr::value(now.0))
            .filter(grant::Column::RealmId.eq(realm.0))
            .filter(grant::Column::UserId.eq(user.0))
            .filter(grant::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    /// A user's live grants (not revoked, not past their end), newest first (at most
    /// `limit`): the applications that may act for them.
    pub async fn list_user_grants(
        &self,
        realm: RealmId,
        user: UserId,
        now: UnixTime,
        limit: u64,
    ) -> StoreResult<Vec<Grant>> {
        grant::Entity::find()
            .filter(grant::Column::RealmId.eq(realm.0))
            .filter(grant::Column::UserId.eq(user.0))
            .filter(grant::Column::RevokedAt.is_null())
            .filter(grant::Column::ExpiresAt.gt(now.0))
            .order_by_desc(grant::Column::CreatedAt)
            .order_by_desc(grant::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(grant_of)
            .collect()
    }

    pub async fn find_session_by_sid(
        &self,
        realm: RealmId,
        sid: &str,
    ) -> StoreResult<Option<Session>> {
        Ok(sess::Entity::find()
            .filter(sess::Column::RealmId.eq(realm.0))
            .filter(sess::Column::Sid.eq(sid))
            .filter(sess::Column::EndedAt.is_null())
            .one(&self.db)
            .await?
            .map(session))
    }

    pub async fn touch_session(
        &self,
        realm: RealmId,
        id: SessionId,
        now: UnixTime,
    ) -> StoreResult<()> {
        sess::Entity::update_many()
            .col_expr(sess::Column::LastSeen, Expr::value(now.0))
            .filter(sess::Column::RealmId.eq(realm.0))
            .filter(sess::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Ends a session and revokes its grants that are not offline. Returns the revoked grants.
    pub async fn end_session(
        &self,
        realm: RealmId,
        id: SessionId,
        now: UnixTime,
    ) -> StoreResult<Vec<Grant>> {
        sess::Entity::update_many()
            .col_expr(sess::Column::EndedAt, Expr::value(now.0))
            .filter(sess::Column::RealmId.eq(realm.0))
            .filter(sess::Column::Id.eq(id.0))
            .filter(sess::Column::EndedAt.is_null())
            .exec(&self.db)
            .await?;
        grant::Entity::update_many()
            .col_expr(grant::Column::RevokedAt, Expr::value(now.0))
            .filter(grant::Column::RealmId.eq(realm.0))
            .filter(grant::Column::SessionId.eq(id.0))
            .filter(grant::Column::Offline.eq(false))
            .filter(grant::Column::RevokedAt.is_null())
            .exec_with_returning(&self.db)
            .await?
            .into_iter()
            .map(grant_of)
            .collect()
    }

    pub async fn insert_grant(&self, g: &Grant) -> StoreResult<()> {
        grant::ActiveModel {
            id: Set(g.id.0),
            realm_id: Set(g.realm_id.0),
            client_uuid: Set(g.client.0),
            user_id: Set(g.user_id.0),
            session_id: Set(g.session_id.map(|s| s.0)),
            sid: Set(g.sid.clone()),
            scope: Set(g.scope.to_string()),
            auth_time: Set(g.auth_time.0),
            offline: Set(g.offline),
            organization: Set(g.org.map(OrgSelection::to_db)),
            created_at: Set(g.created_at.0),
            expires_at: Set(g.expires_at.0),
            revoked_at: Set(None),
            targets: Set(join_list(&g.targets)),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn get_grant(&self, realm: RealmId, id: GrantId) -> StoreResult<Option<Grant>> {
        grant::Entity::find_by_id(id.0)
            .filter(grant::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .map(grant_of)
            .transpose()
    }

    /// A grant and its user in one query (the refresh grant's budget is three statements).
    pub async fn get_grant_with_user(
        &self,
        realm: RealmId,
        id: GrantId,
    ) -> StoreResult<Option<(Grant, User)>> {
        let row = grant::Entity::find_by_id(id.0)
            .filter(grant::Column::RealmId.eq(realm.0))
            .find_also_related(crate::entity::user::Entity)
            .one(&self.db)
            .await?;
        match row {
            Some((g, Some(u))) if u.realm_id == realm.0 => {
                Ok(Some((grant_of(g)?, crate::users::to_domain(u)?)))
            }
            _ => Ok(None),
        }
    }

    /// Revokes a grant, and with it every token of its family. Idempotent.
    pub async fn revoke_grant(
        &self,
        realm: RealmId,
        id: GrantId,
        now: UnixTime,
    ) -> StoreResult<()> {
        grant::Entity::update_many()
            .col_expr(grant::Column::RevokedAt, Expr::value(now.0))
            .filter(grant::Column::RealmId.eq(realm.0))
            .filter(grant::Column::Id.eq(id.0))
            .filter(grant::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn insert_code(&self, c: &AuthorizationCode) -> StoreResult<()> {
        code::ActiveModel {
            realm_id: Set(c.realm_id.0),
            code_hash: Set(c.code_hash.clone()),
            grant_id: Set(c.grant_id.0),
            redirect_uri: Set(c.redirect_uri.clone()),
            code_challenge: Set(c.code_challenge.clone()),
            nonce: Set(c.nonce.clone()),
            expires_at: Set(c.expires_at.0),
            consumed_at: Set(None),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The grant a code belongs to, without consuming it: lets a token request be refused
    /// for what it asks before the code is spent.
    pub async fn find_code_grant(&self, realm: RealmId, hash: &[u8]) -> StoreResult<Option<Grant>> {
        let Some(c) = code::Entity::find_by_id((realm.0, hash.to_vec()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        self.get_grant(realm, GrantId(c.grant_id)).await
    }

    /// Consumes a code: one conditional UPDATE … RETURNING. A second redemption reports
    /// the grant so the caller can revoke what the first one issued (RFC 9700 §4.2.4).
    pub async fn consume_code(
        &self,
        realm: RealmId,
        hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Redemption<AuthorizationCode>> {
        let won = code::Entity::update_many()
            .col_expr(code::Column::ConsumedAt, Expr::value(now.0))
            .filter(code::Column::RealmId.eq(realm.0))
            .filter(code::Column::CodeHash.eq(hash.to_vec()))
            .filter(code::Column::ConsumedAt.is_null())
            .filter(code::Column::ExpiresAt.gt(now.0))
            .filter(code::Column::GrantId.in_subquery(live_grants(realm, now)))
            .exec_with_returning(&self.db)
            .await?;
        if let Some(m) = won.into_iter().next() {
            return Ok(Redemption::Redeemed(code_of(m)));
        }
        let seen = code::Entity::find_by_id((realm.0, hash.to_vec()))
            .one(&self.db)
            .await?;
        Ok(match seen {
            Some(m) if m.consumed_at.is_some() => Redemption::Replayed(GrantId(m.grant_id)),
            _ => Redemption::Invalid,
        })
    }

    pub async fn insert_refresh_token(&self, t: &RefreshToken) -> StoreResult<()> {
        rt::Entity::insert(rt::ActiveModel {
            realm_id: Set(t.realm_id.0),
            token_hash: Set(t.token_hash.clone()),
            grant_id: Set(t.grant_id.0),
            scope: Set(t.scope.to_string()),
            organization: Set(t.org.map(OrgSelection::to_db)),
            issued_at: Set(t.issued_at.0),
            expires_at: Set(t.expires_at.0),
            rotated_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Marks a refresh token used (rotation): one conditional UPDATE … RETURNING. A token
    /// rotated before is a replay: the caller revokes the whole family (RFC 9700 §4.14.2).
    pub async fn rotate_refresh_token(
        &self,
        realm: RealmId,
        hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Redemption<RefreshToken>> {
        let won = rt::Entity::update_many()
            .col_expr(rt::Column::RotatedAt, Expr::value(now.0))
            .filter(rt::Column::RealmId.eq(realm.0))
            .filter(rt::Column::TokenHash.eq(hash.to_vec()))
            .filter(rt::Column::RotatedAt.is_null())
            .filter(rt::Column::ExpiresAt.gt(now.0))
            .filter(rt::Column::GrantId.in_subquery(live_grants(realm, now)))
            .exec_with_returning(&self.db)
            .await?;
        if let Some(m) = won.into_iter().next() {
            return Ok(Redemption::Redeemed(refresh_of(m)?));
        }
        let seen = rt::Entity::find_by_id((realm.0, hash.to_vec()))
            .one(&self.db)
            .await?;
        Ok(match seen {
            Some(m) if m.rotated_at.is_some() => Redemption::Replayed(GrantId(m.grant_id)),
            _ => Redemption::Invalid,
        })
    }

    /// A refresh token by hash (revocation looks up its family; rotated ones included).
    pub async fn find_refresh_token(
        &self,
        realm: RealmId,
        hash: &[u8],
    ) -> StoreResult<Option<RefreshToken>> {
        rt::Entity::find_by_id((realm.0, hash.to_vec()))
            .one(&self.db)
            .await?
            .map(refresh_of)
            .transpose()
    }

    /// A refresh token that is neither rotated nor expired, of a live grant (token
    /// exchange reads it without spending it).
    pub async fn find_live_refresh_token(
        &self,
        realm: RealmId,
        hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<RefreshToken>> {
        rt::Entity::find_by_id((realm.0, hash.to_vec()))
            .filter(rt::Column::RotatedAt.is_null())
            .filter(rt::Column::ExpiresAt.gt(now.0))
            .filter(rt::Column::GrantId.in_subquery(live_grants(realm, now)))
            .one(&self.db)
            .await?
            .map(refresh_of)
            .transpose()
    }

    pub async fn find_consent(
        &self,
        realm: RealmId,
        user: UserId,
        client: ClientUuid,
    ) -> StoreResult<Option<ScopeSet>> {
        consent::Entity::find_by_id((realm.0, user.0, client.0))
            .one(&self.db)
            .await?
            .map(|m| ScopeSet::parse(&m.scope).map_err(Into::into))
            .transpose()
    }

    pub async fn save_consent(
        &self,
        realm: RealmId,
        user: UserId,
        client: ClientUuid,
        scope: &ScopeSet,
        now: UnixTime,
    ) -> StoreResult<()> {
        consent::Entity::insert(consent::ActiveModel {
            realm_id: Set(realm.0),
            user_id: Set(user.0),
            client_uuid: Set(client.0),
            scope: Set(scope.to_string()),
            granted_at: Set(now.0),
        })
        .on_conflict(
            OnConflict::columns([
                consent::Column::RealmId,
                consent::Column::UserId,
                consent::Column::ClientUuid,
            ])
            .update_columns([consent::Column::Scope, consent::Column::GrantedAt])
            .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::clients::tests::new_client;
    use crate::test_util::{realm, test_store};
    use tessera_domain::*;

    struct Fixture {
        realm: Realm,
        other: Realm,
        grant: Grant,
        session: Session,
    }

    async fn fixture(s: &Store) -> Fixture {
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        let c = s
            .insert_client(
                a.id,
                ClientUuid::new_v7(),
                &new_client("app"),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        let u = s
            .insert_user(
                a.id,
                UserId::new_v7(),
                &NewUser::new(Username::parse("alice").unwrap()),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        let session = Session {
            id: SessionId::new_v7(),
            realm_id: a.id,
            sid: "sid-1".into(),
            user_id: u.id,
            auth_time: UnixTime(10),
            last_seen: UnixTime(10),
            expires_at: UnixTime(1000),
            ended_at: None,
            upstream: None,
        };
        s.insert_session(&session, &[1; 32]).await.unwrap();
        let grant = Grant {
            id: GrantId::new_v7(),
            realm_id: a.id,
            client: c.id,
            user_id: u.id,
            session_id: Some(session.id),
            sid: session.sid.clone(),
            scope: ScopeSet::parse("openid").unwrap(),
            auth_time: UnixTime(10),
            offline: false,
            org: None,
            targets: vec![],
            created_at: UnixTime(10),
            expires_at: UnixTime(1000),
            revoked_at: None,
        };
        s.insert_grant(&grant).await.unwrap();
        Fixture {
            realm: a,
            other: b,
            grant,
            session,
        }
    }

    fn code(f: &Fixture, hash: u8) -> AuthorizationCode {
        AuthorizationCode {
            realm_id: f.realm.id,
            code_hash: vec![hash; 32],
            grant_id: f.grant.id,
            redirect_uri: "https://app.example/cb".into(),
            code_challenge: None,
            nonce: Some("n".into()),
            expires_at: UnixTime(100),
        }
    }

    #[tokio::test]
    async fn a_code_is_consumed_once_and_a_replay_names_its_grant_iso_6() {
        let s = test_store().await;
        let f = fixture(&s).await;
        s.insert_code(&code(&f, 7)).await.unwrap();
        // Another realm cannot consume it, and trying does not burn it.
        assert_eq!(
            s.consume_code(f.other.id, &[7; 32], UnixTime(50))
                .await
                .unwrap(),
            Redemption::Invalid
        );
        assert_eq!(
            s.consume_code(f.realm.id, &[7; 32], UnixTime(50))
                .await
                .unwrap(),
            Redemption::Redeemed(code(&f, 7))
        );
        assert_eq!(
            s.consume_code(f.realm.id, &[7; 32], UnixTime(51))
                .await
                .unwrap(),
            Redemption::Replayed(f.grant.id)
        );
        assert_eq!(
            s.consume_code(f.realm.id, &[8; 32], UnixTime(51))
                .await
                .unwrap(),
            Redemption::Invalid
        );
    }

    #[tokio::test]
    async fn an_expired_code_is_invalid() {
        let s = test_store().await;
        let f = fixture(&s).await;
        s.insert_code(&code(&f, 7)).await.unwrap();
        assert_eq!(
            s.consume_code(f.realm.id, &[7; 32], UnixTime(100))
                .await
                .unwrap(),
            Redemption::Invalid
        );
    }

    #[tokio::test]
    async fn parallel_redemptions_of_one_code_give_exactly_one_success() {
        let s = test_store().await;
        let f = fixture(&s).await;
        s.insert_code(&code(&f, 9)).await.unwrap();
        let tries = (0..16).map(|_| {
            let s = s.clone();
            let realm = f.realm.id;
            tokio::spawn(
                async move { s.consume_code(realm, &[9; 32], UnixTime(50)).await.unwrap() },
            )
        });
        let results = futures_join(tries).await;
        let won = results
            .iter()
            .filter(|r| matches!(r, Redemption::Redeemed(_)))
            .count();
        assert_eq!(won, 1, "{results:?}");
    }

    async fn futures_join<T: Send + 'static>(
        hs: impl Iterator<Item = tokio::task::JoinHandle<T>>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for h in hs.collect::<Vec<_>>() {
            out.push(h.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn refresh_rotation_is_single_use_and_replay_names_the_family() {
        let s = test_store().await;
        let f = fixture(&s).await;
        let t = RefreshToken {
            realm_id: f.realm.id,
            token_hash: vec![3; 32],
            grant_id: f.grant.id,
            scope: ScopeSet::parse("openid").unwrap(),
            org: None,
            issued_at: UnixTime(10),
            expires_at: UnixTime(500),
        };
        s.insert_refresh_token(&t).await.unwrap();
        assert_eq!(
            s.rotate_refresh_token(f.other.id, &[3; 32], UnixTime(20))
                .await
                .unwrap(),
            Redemption::Invalid
        );
        assert_eq!(
            s.rotate_refresh_token(f.realm.id, &[3; 32], UnixTime(20))
                .await
                .unwrap(),
            Redemption::Redeemed(t)
        );
        assert_eq!(
            s.rotate_refresh_token(f.realm.id, &[3; 32], UnixTime(21))
                .await
                .unwrap(),
            Redemption::Replayed(f.grant.id)
        );
    }

    #[tokio::test]
    async fn ending_a_session_revokes_its_online_grants_only() {
        let s = test_store().await;
        let f = fixture(&s).await;
        let mut offline = f.grant.clone();
        offline.id = GrantId::new_v7();
        offline.offline = true;
        s.insert_grant(&offline).await.unwrap();
        assert!(
            s.find_session_by_token(f.realm.id, &[1; 32])
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.find_session_by_token(f.other.id, &[1; 32])
                .await
                .unwrap()
                .is_none()
        );
        let revoked = s
            .end_session(f.realm.id, f.session.id, UnixTime(20))
            .await
            .unwrap();
        assert_eq!(
            revoked.iter().map(|g| g.id).collect::<Vec<_>>(),
            [f.grant.id]
        );
        assert!(
            s.find_session_by_token(f.realm.id, &[1; 32])
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.get_grant(f.realm.id, f.grant.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
        assert!(
            s.get_grant(f.realm.id, offline.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );
        assert!(s.get_grant(f.other.id, offline.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn consent_is_remembered_per_user_and_client_and_replaced() {
        let s = test_store().await;
        let f = fixture(&s).await;
        let (u, c) = (f.grant.user_id, f.grant.client);
        assert_eq!(s.find_consent(f.realm.id, u, c).await.unwrap(), None);
        s.save_consent(
            f.realm.id,
            u,
            c,
            &ScopeSet::parse("openid").unwrap(),
            UnixTime(1),
        )
        .await
        .unwrap();
        s.save_consent(
            f.realm.id,
            u,
            c,
            &ScopeSet::parse("openid email").unwrap(),
            UnixTime(2),
        )
        .await
        .unwrap();
        assert_eq!(
            s.find_consent(f.realm.id, u, c)
                .await
                .unwrap()
                .unwrap()
                .to_string(),
            "email openid"
        );
        assert_eq!(s.find_consent(f.other.id, u, c).await.unwrap(), None);
    }
}
