//! Requests approved elsewhere (device grant, CIBA): one row each, found by the hash of
//! what the client polls with or of the user code; every change of status is one
//! conditional UPDATE, so a request is decided once and redeemed once.

use crate::entity::approval_request as ar;
use crate::{Store, StoreResult, join_list, split_list};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tessera_domain::{
    Approval, ApprovalKind, ApprovalRequest, ApprovalStatus, ClientUuid, DomainError, OrgSelection,
    RealmId, ScopeSet, SessionId, UnixTime, UserId,
};

/// Decided or expired requests stay this long, so a late poll still hears
/// `expired_token` or `access_denied` rather than "unknown".
const KEPT_AFTER_EXPIRY_SECS: i64 = 3600;

fn request_of(m: ar::Model) -> StoreResult<ApprovalRequest> {
    let bad = |what: &'static str| DomainError::new("approval_request", what);
    let approval = match (m.user_id, m.session_id, m.sid, m.auth_time) {
        (Some(user), Some(session), Some(sid), Some(auth_time)) => Some(Approval {
            user_id: UserId(user),
            session_id: SessionId(session),
            sid,
            auth_time: UnixTime(auth_time),
            org: m
                .organization
                .as_deref()
                .map(OrgSelection::from_db)
                .transpose()?,
            signed_in_via: m.signed_in_via.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(ApprovalRequest {
        id: m.id,
        realm_id: RealmId(m.realm_id),
        kind: ApprovalKind::parse(&m.kind).ok_or_else(|| bad("unknown kind"))?,
        client: ClientUuid(m.client_uuid),
        scope: ScopeSet::parse(&m.scope)?,
        targets: split_list(&m.targets, |s| Ok(s.to_owned()))?,
        user_id: m.user_id.map(UserId),
        binding_message: m.binding_message,
        acr_values: m.acr_values,
        status: ApprovalStatus::parse(&m.status).ok_or_else(|| bad("unknown status"))?,
        approval,
        interval_secs: m.interval_secs,
        created_at: UnixTime(m.created_at),
        expires_at: UnixTime(m.expires_at),
        decided_at: m.decided_at.map(UnixTime),
    })
}

/// What only the store holds of a request: the hashes of its secrets and a ping's
/// sealed notification token.
pub struct ApprovalSecrets {
    pub handle_hash: Vec<u8>,
    pub user_code_hash: Option<Vec<u8>>,
    pub notification_token: Option<Vec<u8>>,
}

/// A waiting request with its client's and person's names.
pub struct NamedApproval {
    pub request: ApprovalRequest,
    pub client_id: String,
    pub client_name: String,
    /// The person a CIBA request names; a device request has none until approved.
    pub username: Option<String>,
}

impl Store {
    /// Stores a new request. A user code already taken (even by an expired request not
    /// yet swept) is `Conflict`: the caller draws another.
    pub async fn insert_approval_request(
        &self,
        r: &ApprovalRequest,
        secrets: ApprovalSecrets,
    ) -> StoreResult<()> {
        ar::Entity::insert(ar::ActiveModel {
            id: Set(r.id),
            realm_id: Set(r.realm_id.0),
            kind: Set(r.kind.as_str().to_owned()),
            client_uuid: Set(r.client.0),
            handle_hash: Set(secrets.handle_hash),
            user_code_hash: Set(secrets.user_code_hash),
            scope: Set(r.scope.to_string()),
            targets: Set(join_list(&r.targets)),
            user_id: Set(r.user_id.map(|u| u.0)),
            binding_message: Set(r.binding_message.clone()),
            acr_values: Set(r.acr_values.clone()),
            notification_token: Set(secrets.notification_token),
            status: Set(ApprovalStatus::Pending.as_str().to_owned()),
            session_id: Set(None),
            sid: Set(None),
            auth_time: Set(None),
            organization: Set(None),
            signed_in_via: Set(None),
            interval_secs: Set(r.interval_secs),
            created_at: Set(r.created_at.0),
            expires_at: Set(r.expires_at.0),
            decided_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// The request a client polls for, by the hash of its device code or `auth_req_id`:
    /// one indexed SELECT, no write (polling costs nothing else).
    pub async fn find_approval_by_handle(
        &self,
        realm: RealmId,
        kind: ApprovalKind,
        handle_hash: &[u8],
    ) -> StoreResult<Option<ApprovalRequest>> {
        ar::Entity::find()
            .filter(ar::Column::RealmId.eq(realm.0))
            .filter(ar::Column::Kind.eq(kind.as_str()))
            .filter(ar::Column::HandleHash.eq(handle_hash.to_vec()))
            .one(&self.db)
            .await?
            .map(request_of)
            .transpose()
    }

    /// The pending, unexpired device request whose user code hashes to `code_hash`.
    pub async fn find_pending_device_request(
        &self,
        realm: RealmId,
        code_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<ApprovalRequest>> {
        ar::Entity::find()
            .filter(ar::Column::RealmId.eq(realm.0))
            .filter(ar::Column::Kind.eq(ApprovalKind::Device.as_str()))
            .filter(ar::Column::UserCodeHash.eq(code_hash.to_vec()))
            .filter(ar::Column::Status.eq(ApprovalStatus::Pending.as_str()))
            .filter(ar::Column::ExpiresAt.gt(now.0))
            .one(&self.db)
            .await?
            .map(request_of)
            .transpose()
    }

    pub async fn get_approval_request(
        &self,
        realm: RealmId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<ApprovalRequest>> {
        ar::Entity::find_by_id(id)
            .filter(ar::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .map(request_of)
            .transpose()
    }

    /// A ping client's sealed notification token for the request.
    pub async fn approval_notification_token(
        &self,
        realm: RealmId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<Vec<u8>>> {
        Ok(ar::Entity::find_by_id(id)
            .filter(ar::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .and_then(|m| m.notification_token))
    }

    /// Decides a pending, unexpired request: approved as `approval` says, or denied
    /// (`None`). One conditional UPDATE, so of two answers (two people typing one user
    /// code) exactly one wins. A CIBA request is answered only by the person it names
    /// (`only_for`).
    pub async fn decide_request(
        &self,
        realm: RealmId,
        id: uuid::Uuid,
        only_for: Option<UserId>,
        approval: Option<&Approval>,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let status = match approval {
            Some(_) => ApprovalStatus::Approved,
            None => ApprovalStatus::Denied,
        };
        let mut q = ar::Entity::update_many()
            .col_expr(ar::Column::Status, Expr::value(status.as_str()))
            .col_expr(ar::Column::DecidedAt, Expr::value(now.0));
        if let Some(a) = approval {
            q = q
                .col_expr(ar::Column::UserId, Expr::value(a.user_id.0))
                .col_expr(ar::Column::SessionId, Expr::value(a.session_id.0))
                .col_expr(ar::Column::Sid, Expr::value(a.sid.clone()))
                .col_expr(ar::Column::AuthTime, Expr::value(a.auth_time.0))
                .col_expr(
                    ar::Column::Organization,
                    Expr::value(a.org.map(OrgSelection::to_db)),
                )
                .col_expr(
                    ar::Column::SignedInVia,
                    Expr::value(a.signed_in_via.clone()),
                );
        }
        q = q
            .filter(ar::Column::RealmId.eq(realm.0))
            .filter(ar::Column::Id.eq(id))
            .filter(ar::Column::Status.eq(ApprovalStatus::Pending.as_str()))
            .filter(ar::Column::ExpiresAt.gt(now.0));
        if let Some(user) = only_for {
            q = q.filter(ar::Column::UserId.eq(user.0));
        }
        Ok(q.exec(&self.db).await?.rows_affected == 1)
    }

    /// Redeems an approved, unexpired request of `client`: one conditional UPDATE, so of
    /// two concurrent polls exactly one gets the grant.
    pub async fn redeem_request(
        &self,
        realm: RealmId,
        id: uuid::Uuid,
        client: ClientUuid,
        now: UnixTime,
    ) -> StoreResult<Option<ApprovalRequest>> {
        let rows = ar::Entity::update_many()
            .col_expr(
                ar::Column::Status,
                Expr::value(ApprovalStatus::Redeemed.as_str()),
            )
            .filter(ar::Column::RealmId.eq(realm.0))
            .filter(ar::Column::Id.eq(id))
            .filter(ar::Column::ClientUuid.eq(client.0))
            .filter(ar::Column::Status.eq(ApprovalStatus::Approved.as_str()))
            .filter(ar::Column::ExpiresAt.gt(now.0))
            .exec_with_returning(&self.db)
            .await?;
        rows.into_iter().next().map(request_of).transpose()
    }

    /// Pending, unexpired requests, newest first: a realm's (the console) or one
    /// person's CIBA requests (the account page).
    pub async fn list_pending_approvals(
        &self,
        realm: RealmId,
        user: Option<UserId>,
        now: UnixTime,
        limit: u64,
    ) -> StoreResult<Vec<ApprovalRequest>> {
        let mut q = ar::Entity::find()
            .filter(ar::Column::RealmId.eq(realm.0))
            .filter(ar::Column::Status.eq(ApprovalStatus::Pending.as_str()))
            .filter(ar::Column::ExpiresAt.gt(now.0));
        if let Some(u) = user {
            q = q.filter(ar::Column::UserId.eq(u.0));
        }
        q.order_by_desc(ar::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(request_of)
            .collect()
    }

    /// Waiting requests (a realm's, or one person's) with their client's id and name and,
    /// for CIBA, the person's username: three statements whatever the page's length (the
    /// console, the account page).
    pub async fn list_pending_approvals_named(
        &self,
        realm: RealmId,
        user: Option<UserId>,
        now: UnixTime,
        limit: u64,
    ) -> StoreResult<Vec<NamedApproval>> {
        use crate::entity::{client, user};
        let waiting = self.list_pending_approvals(realm, user, now, limit).await?;
        let client_ids: Vec<uuid::Uuid> = waiting.iter().map(|r| r.client.0).collect();
        let user_ids: Vec<uuid::Uuid> = waiting
            .iter()
            .filter_map(|r| r.user_id.map(|u| u.0))
            .collect();
        let clients = client::Entity::find()
            .filter(client::Column::RealmId.eq(realm.0))
            .filter(client::Column::Id.is_in(client_ids))
            .all(&self.db)
            .await?;
        let users = user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Id.is_in(user_ids))
            .all(&self.db)
            .await?;
        Ok(waiting
            .into_iter()
            .filter_map(|r| {
                let c = clients.iter().find(|c| c.id == r.client.0)?;
                let username = r
                    .user_id
                    .and_then(|u| users.iter().find(|m| m.id == u.0))
                    .map(|m| m.username.clone());
                Some(NamedApproval {
                    client_id: c.client_id.clone(),
                    client_name: c.name.clone(),
                    username,
                    request: r,
                })
            })
            .collect())
    }

    /// Requests an hour past their expiry: the expiry sweep.
    pub(crate) async fn purge_approval_requests(&self, now: UnixTime) -> StoreResult<u64> {
        Ok(ar::Entity::delete_many()
            .filter(ar::Column::ExpiresAt.lt(now.0 - KEPT_AFTER_EXPIRY_SECS))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::tests::new_client;
    use crate::test_util::{realm, test_store};
    use tessera_domain::{NewUser, Username};

    /// A realm with clients `tv` and `other` and user `alice`.
    async fn fixture(s: &Store) -> (RealmId, ClientUuid, ClientUuid, UserId) {
        let r = realm("appr");
        s.insert_realm(&r).await.unwrap();
        let mut clients = vec![];
        for id in ["tv", "other"] {
            let c = s
                .insert_client(
                    r.id,
                    ClientUuid::new_v7(),
                    &new_client(id),
                    None,
                    UnixTime(1),
                )
                .await
                .unwrap();
            clients.push(c.id);
        }
        let u = s
            .insert_user(
                r.id,
                UserId::new_v7(),
                &NewUser::new(Username::parse("alice").unwrap()),
                None,
                UnixTime(1),
            )
            .await
            .unwrap();
        (r.id, clients[0], clients[1], u.id)
    }

    fn request(realm: RealmId, client: ClientUuid, now: UnixTime) -> ApprovalRequest {
        ApprovalRequest {
            id: uuid::Uuid::now_v7(),
            realm_id: realm,
            kind: ApprovalKind::Device,
            client,
            scope: ScopeSet::parse("openid").unwrap(),
            targets: vec![],
            user_id: None,
            binding_message: None,
            acr_values: None,
            status: ApprovalStatus::Pending,
            approval: None,
            interval_secs: 5,
            created_at: now,
            expires_at: now.plus_secs(600),
            decided_at: None,
        }
    }

    fn secrets(handle: &[u8], code: &[u8]) -> ApprovalSecrets {
        ApprovalSecrets {
            handle_hash: handle.to_vec(),
            user_code_hash: Some(code.to_vec()),
            notification_token: None,
        }
    }

    #[tokio::test]
    async fn a_request_is_decided_once_and_redeemed_once_by_its_client_only() {
        let store = test_store().await;
        let (r, client, other, user) = fixture(&store).await;
        let now = UnixTime(1_000_000);
        let req = request(r, client, now);
        store
            .insert_approval_request(&req, secrets(b"h1", b"c1"))
            .await
            .unwrap();
        let dup = request(r, client, now);
        assert!(matches!(
            store
                .insert_approval_request(&dup, secrets(b"h2", b"c1"))
                .await,
            Err(crate::StoreError::Conflict)
        ));
        let found = store
            .find_pending_device_request(r, b"c1", now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, req.id);
        let a = Approval {
            user_id: user,
            session_id: SessionId::new_v7(),
            sid: "sid".into(),
            auth_time: now,
            org: None,
            signed_in_via: "password".into(),
        };
        assert!(
            store
                .decide_request(r, req.id, None, Some(&a), now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .decide_request(r, req.id, None, Some(&a), now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .decide_request(r, req.id, None, None, now)
                .await
                .unwrap()
        );
        assert!(
            store
                .find_pending_device_request(r, b"c1", now)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .redeem_request(r, req.id, other, now)
                .await
                .unwrap()
                .is_none()
        );
        let redeemed = store
            .redeem_request(r, req.id, client, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(redeemed.approval.unwrap().user_id, user);
        assert!(
            store
                .redeem_request(r, req.id, client, now)
                .await
                .unwrap()
                .is_none()
        );
        let polled = store
            .find_approval_by_handle(r, ApprovalKind::Device, b"h1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(polled.status, ApprovalStatus::Redeemed);
    }

    #[tokio::test]
    async fn an_expired_request_is_neither_approved_nor_redeemed_and_is_swept_an_hour_later() {
        let store = test_store().await;
        let (r, client, _, user) = fixture(&store).await;
        let now = UnixTime(1_000_000);
        let req = request(r, client, now);
        store
            .insert_approval_request(&req, secrets(b"h3", b"c3"))
            .await
            .unwrap();
        let later = now.plus_secs(601);
        let a = Approval {
            user_id: user,
            session_id: SessionId::new_v7(),
            sid: "sid".into(),
            auth_time: later,
            org: None,
            signed_in_via: "password".into(),
        };
        assert!(
            !store
                .decide_request(r, req.id, None, Some(&a), later)
                .await
                .unwrap()
        );
        assert_eq!(store.purge_approval_requests(later).await.unwrap(), 0);
        assert_eq!(
            store
                .purge_approval_requests(later.plus_secs(3600))
                .await
                .unwrap(),
            1
        );
    }
}
