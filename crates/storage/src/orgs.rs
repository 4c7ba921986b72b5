//! Organizations, their domains, role templates, memberships and invitations.

use crate::entity::{
    invitation, membership, membership_role, organization as org, organization_domain as domain,
    organization_role as role, user,
};
use crate::users::contains_pattern;
use crate::{PageRequest, Store, StoreError, StoreResult, join_list, split_list};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, LikeExpr, Order, Query, SelectStatement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, Set, TransactionTrait,
};
use std::collections::HashMap;
use tessera_domain::{
    DomainError, DomainName, Email, Invitation, InvitationId, InvitationStatus, LogoUri, Member,
    Membership, NewOrganization, OrgAlias, OrgDomain, OrgId, OrgRole, OrgRoleId, OrgRoleName,
    Organization, RealmId, UnixTime, UserAttributes, UserId,
};
use uuid::Uuid;

fn org_of(m: org::Model) -> StoreResult<Organization> {
    let attributes: UserAttributes = serde_json::from_str(&m.attributes)
        .map_err(|e| DomainError::new("attributes", e.to_string()))?;
    Ok(Organization {
        id: OrgId(m.id),
        realm_id: RealmId(m.realm_id),
        alias: OrgAlias::parse(&m.alias)?,
        name: m.name,
        description: m.description,
        enabled: m.enabled,
        attributes,
        external_id: m.external_id,
        logo_uri: m.logo_uri.as_deref().map(LogoUri::parse).transpose()?,
        created_at: UnixTime(m.created_at),
    })
}

fn apply(m: &mut org::ActiveModel, o: &NewOrganization) {
    m.alias = Set(o.alias.as_str().to_owned());
    m.name = Set(o.name.clone());
    m.description = Set(o.description.clone());
    m.enabled = Set(o.enabled);
    m.attributes = Set(serde_json::Value::Object(o.attributes.clone()).to_string());
    m.external_id = Set(o.external_id.clone());
    m.logo_uri = Set(o.logo_uri.as_ref().map(|l| l.as_str().to_owned()));
}

fn role_of(m: role::Model) -> StoreResult<OrgRole> {
    Ok(OrgRole {
        id: OrgRoleId(m.id),
        realm_id: RealmId(m.realm_id),
        name: OrgRoleName::parse(&m.name)?,
        description: m.description,
    })
}

fn invitation_of(m: invitation::Model) -> StoreResult<Invitation> {
    Ok(Invitation {
        id: InvitationId(m.id),
        realm_id: RealmId(m.realm_id),
        org_id: OrgId(m.org_id),
        email: Email::parse(&m.email)?,
        roles: split_list(&m.roles, OrgRoleName::parse)?,
        status: InvitationStatus::parse(&m.status)?,
        jti: m.jti,
        delivered: m.delivered,
        expires_at: UnixTime(m.expires_at),
        created_at: UnixTime(m.created_at),
    })
}

/// `NotFound` when a keyed delete removed nothing.
fn exactly_one(r: sea_orm::DeleteResult) -> StoreResult<()> {
    if r.rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn col(table: &str, c: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(c)))
}

/// The join condition `a.ac = b.bc`.
fn on(a: &str, ac: &str, b: &str, bc: &str) -> Expr {
    col(a, ac).equals((Alias::new(b), Alias::new(bc)))
}

/// Memberships joined to their organization and (left) to their roles: one row per
/// role, or one row with a NULL role. Callers add the WHERE.
fn memberships_with_roles() -> SelectStatement {
    Query::select()
        .expr(col("m", "org_id"))
        .expr(col("o", "alias"))
        .expr(col("o", "name"))
        .expr(col("m", "user_id"))
        .expr(col("m", "managed"))
        .expr(col("m", "created_at"))
        .expr(col("r", "name"))
        .from_as(membership::Entity, Alias::new("m"))
        .join_as(
            JoinType::InnerJoin,
            org::Entity,
            Alias::new("o"),
            on("o", "id", "m", "org_id"),
        )
        .join_as(
            JoinType::LeftJoin,
            membership_role::Entity,
            Alias::new("mr"),
            on("mr", "membership_id", "m", "id"),
        )
        .join_as(
            JoinType::LeftJoin,
            role::Entity,
            Alias::new("r"),
            on("r", "id", "mr", "role_id"),
        )
        .to_owned()
}

/// Folds the one-row-per-role result of [`memberships_with_roles`] into memberships,
/// keeping the row order (by organization).
fn fold_memberships(rows: Vec<QueryResult>) -> StoreResult<Vec<Membership>> {
    let mut out: Vec<Membership> = Vec::new();
    for r in rows {
        let org_id: Uuid = r.try_get_by_index(0)?;
        let role: Option<String> = r.try_get_by_index(6)?;
        if out.last().is_none_or(|m| m.org_id.0 != org_id) {
            out.push(Membership {
                org_id: OrgId(org_id),
                alias: OrgAlias::parse(&r.try_get_by_index::<String>(1)?)?,
                org_name: r.try_get_by_index(2)?,
                user_id: UserId(r.try_get_by_index(3)?),
                roles: vec![],
                managed: r.try_get_by_index(4)?,
                created_at: UnixTime(r.try_get_by_index(5)?),
            });
        }
        if let (Some(m), Some(role)) = (out.last_mut(), role) {
            m.roles.push(OrgRoleName::parse(&role)?);
        }
    }
    for m in &mut out {
        m.roles.sort();
    }
    Ok(out)
}

/// How many members of an organization hold `role`, at most `cap`.
async fn count_with_role<C: ConnectionTrait>(
    db: &C,
    realm: RealmId,
    org_id: OrgId,
    role: &OrgRoleName,
    cap: u64,
) -> StoreResult<u64> {
    let q = Query::select()
        .expr(col("m", "user_id"))
        .from_as(membership::Entity, Alias::new("m"))
        .join_as(
            JoinType::InnerJoin,
            membership_role::Entity,
            Alias::new("mr"),
            on("mr", "membership_id", "m", "id"),
        )
        .join_as(
            JoinType::InnerJoin,
            role::Entity,
            Alias::new("r"),
            on("r", "id", "mr", "role_id"),
        )
        .and_where(col("m", "org_id").eq(org_id.0))
        .and_where(col("m", "realm_id").eq(realm.0))
        .and_where(col("r", "name").eq(role.as_str()))
        .limit(cap)
        .to_owned();
    Ok(db.query_all(&q).await?.len() as u64)
}

/// `Conflict` when no member of the organization holds `keep` any more.
async fn keep_one<C: ConnectionTrait>(
    db: &C,
    realm: RealmId,
    org_id: OrgId,
    keep: Option<&OrgRoleName>,
) -> StoreResult<()> {
    match keep {
        Some(role) if count_with_role(db, realm, org_id, role, 1).await? == 0 => {
            Err(StoreError::Conflict)
        }
        _ => Ok(()),
    }
}

async fn set_roles<C: ConnectionTrait>(
    db: &C,
    membership: Uuid,
    roles: &[OrgRoleId],
) -> Result<(), DbErr> {
    membership_role::Entity::delete_many()
        .filter(membership_role::Column::MembershipId.eq(membership))
        .exec(db)
        .await?;
    if roles.is_empty() {
        return Ok(());
    }
    membership_role::Entity::insert_many(roles.iter().map(|r| membership_role::ActiveModel {
        membership_id: Set(membership),
        role_id: Set(r.0),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

impl Store {
    /// Creates an organization with its domains, atomically: a taken alias or domain
    /// leaves nothing behind.
    pub async fn insert_org(
        &self,
        realm: RealmId,
        id: OrgId,
        o: &NewOrganization,
        domains: &[OrgDomain],
        now: UnixTime,
    ) -> StoreResult<Organization> {
        let tx = self.db.begin().await?;
        let mut m = org::ActiveModel {
            id: Set(id.0),
            realm_id: Set(realm.0),
            created_at: Set(now.0),
            ..Default::default()
        };
        apply(&mut m, o);
        let created = m.insert(&tx).await?;
        for d in domains {
            domain::ActiveModel {
                realm_id: Set(realm.0),
                name: Set(d.name.as_str().to_owned()),
                org_id: Set(id.0),
                verified: Set(d.verified),
            }
            .insert(&tx)
            .await?;
        }
        tx.commit().await?;
        org_of(created)
    }

    pub async fn get_org(&self, realm: RealmId, id: OrgId) -> StoreResult<Option<Organization>> {
        org::Entity::find_by_id(id.0)
            .filter(org::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .map(org_of)
            .transpose()
    }

    pub async fn find_org_by_alias(
        &self,
        realm: RealmId,
        alias: &OrgAlias,
    ) -> StoreResult<Option<Organization>> {
        org::Entity::find()
            .filter(org::Column::RealmId.eq(realm.0))
            .filter(org::Column::Alias.eq(alias.as_str()))
            .one(&self.db)
            .await?
            .map(org_of)
            .transpose()
    }

    /// The organization owning `name` in this realm; with `verified_only`, only when the
    /// domain is verified.
    pub async fn find_org_by_domain(
        &self,
        realm: RealmId,
        name: &DomainName,
        verified_only: bool,
    ) -> StoreResult<Option<Organization>> {
        let Some(d) = domain::Entity::find_by_id((realm.0, name.as_str().to_owned()))
            .one(&self.db)
            .await?
            .filter(|d| d.verified || !verified_only)
        else {
            return Ok(None);
        };
        self.get_org(realm, OrgId(d.org_id)).await
    }

    /// Whether an organization exists and is enabled: the introspection-time check of
    /// tokens carrying `org_id`, one primary-key lookup.
    pub async fn org_is_enabled(&self, realm: RealmId, id: OrgId) -> StoreResult<bool> {
        let row: Option<bool> = org::Entity::find_by_id(id.0)
            .filter(org::Column::RealmId.eq(realm.0))
            .select_only()
            .column(org::Column::Enabled)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(row == Some(true))
    }

    /// One page of organizations by alias. `search` matches part of the name or alias
    /// (ignoring case); `domain` selects the organization owning that domain.
    pub async fn list_orgs(
        &self,
        realm: RealmId,
        search: Option<&str>,
        domain_name: Option<&DomainName>,
        page: &PageRequest,
    ) -> StoreResult<Vec<Organization>> {
        let mut q = org::Entity::find()
            .filter(org::Column::RealmId.eq(realm.0))
            .order_by_asc(org::Column::Alias);
        if let Some(term) = search.filter(|s| !s.is_empty()) {
            let pat = contains_pattern(&term.to_lowercase());
            let like = || LikeExpr::new(pat.clone()).escape('\\');
            q = q.filter(Condition::any().add(org::Column::Alias.like(like())).add(
                Expr::expr(Func::lower(Expr::col((org::Entity, org::Column::Name)))).like(like()),
            ));
        }
        if let Some(d) = domain_name {
            q = q.filter(
                org::Column::Id.in_subquery(
                    Query::select()
                        .column(domain::Column::OrgId)
                        .from(domain::Entity)
                        .and_where(domain::Column::RealmId.eq(realm.0))
                        .and_where(domain::Column::Name.eq(d.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(after) = &page.after {
            q = q.filter(org::Column::Alias.gt(after.as_str()));
        }
        q.limit(page.limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(org_of)
            .collect()
    }

    pub async fn update_org(
        &self,
        realm: RealmId,
        id: OrgId,
        o: &NewOrganization,
    ) -> StoreResult<Organization> {
        let mut m = org::Entity::find_by_id(id.0)
            .filter(org::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?
            .into_active_model();
        apply(&mut m, o);
        org_of(m.update(&self.db).await?)
    }

    /// Deletes an organization; its managed members' accounts go with it, unmanaged
    /// members are only unlinked (memberships, domains, invitations cascade).
    pub async fn delete_org(&self, realm: RealmId, id: OrgId) -> StoreResult<()> {
        let tx = self.db.begin().await?;
        let managed = Query::select()
            .column(membership::Column::UserId)
            .from(membership::Entity)
            .and_where(membership::Column::RealmId.eq(realm.0))
            .and_where(membership::Column::OrgId.eq(id.0))
            .and_where(membership::Column::Managed.eq(true))
            .to_owned();
        user::Entity::delete_many()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Id.in_subquery(managed))
            .exec(&tx)
            .await?;
        let gone = org::Entity::delete_many()
            .filter(org::Column::RealmId.eq(realm.0))
            .filter(org::Column::Id.eq(id.0))
            .exec(&tx)
            .await?;
        exactly_one(gone)?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_org_domains(&self, realm: RealmId, id: OrgId) -> StoreResult<Vec<OrgDomain>> {
        domain::Entity::find()
            .filter(domain::Column::RealmId.eq(realm.0))
            .filter(domain::Column::OrgId.eq(id.0))
            .order_by_asc(domain::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| {
                Ok(OrgDomain {
                    name: DomainName::parse(&d.name)?,
                    verified: d.verified,
                })
            })
            .collect()
    }

    /// Adds a domain to an organization or updates its `verified` flag. `Conflict` when
    /// another organization of the realm has verified it.
    pub async fn put_org_domain(
        &self,
        realm: RealmId,
        id: OrgId,
        d: &OrgDomain,
    ) -> StoreResult<()> {
        let existing = domain::Entity::find_by_id((realm.0, d.name.as_str().to_owned()))
            .one(&self.db)
            .await?;
        match existing {
            // A verified domain is its organization's; an unverified claim routes nothing
            // and passes to the next organization that claims it (whoever then proves the
            // DNS record keeps it), so no organization can squat another's domain.
            Some(e) if e.org_id != id.0 && e.verified => Err(StoreError::Conflict),
            Some(e) => {
                let mut m = e.into_active_model();
                m.org_id = Set(id.0);
                m.verified = Set(d.verified);
                m.update(&self.db).await?;
                Ok(())
            }
            None => {
                domain::ActiveModel {
                    realm_id: Set(realm.0),
                    name: Set(d.name.as_str().to_owned()),
                    org_id: Set(id.0),
                    verified: Set(d.verified),
                }
                .insert(&self.db)
                .await?;
                Ok(())
            }
        }
    }

    pub async fn delete_org_domain(
        &self,
        realm: RealmId,
        id: OrgId,
        name: &DomainName,
    ) -> StoreResult<()> {
        let gone = domain::Entity::delete_many()
            .filter(domain::Column::RealmId.eq(realm.0))
            .filter(domain::Column::OrgId.eq(id.0))
            .filter(domain::Column::Name.eq(name.as_str()))
            .exec(&self.db)
            .await?;
        exactly_one(gone)?;
        Ok(())
    }

    pub async fn insert_org_role(&self, r: &OrgRole, now: UnixTime) -> StoreResult<()> {
        role::ActiveModel {
            id: Set(r.id.0),
            realm_id: Set(r.realm_id.0),
            name: Set(r.name.as_str().to_owned()),
            description: Set(r.description.clone()),
            created_at: Set(now.0),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The realm's role templates by name.
    pub async fn list_org_roles(&self, realm: RealmId) -> StoreResult<Vec<OrgRole>> {
        role::Entity::find()
            .filter(role::Column::RealmId.eq(realm.0))
            .order_by_asc(role::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(role_of)
            .collect()
    }

    /// The templates named; names the realm does not define are simply absent.
    pub async fn find_org_roles(
        &self,
        realm: RealmId,
        names: &[OrgRoleName],
    ) -> StoreResult<Vec<OrgRole>> {
        if names.is_empty() {
            return Ok(vec![]);
        }
        role::Entity::find()
            .filter(role::Column::RealmId.eq(realm.0))
            .filter(role::Column::Name.is_in(names.iter().map(OrgRoleName::as_str)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(role_of)
            .collect()
    }

    /// Deletes a template; assignments of it go with it (cascade).
    pub async fn delete_org_role(&self, realm: RealmId, name: &OrgRoleName) -> StoreResult<()> {
        let gone = role::Entity::delete_many()
            .filter(role::Column::RealmId.eq(realm.0))
            .filter(role::Column::Name.eq(name.as_str()))
            .exec(&self.db)
            .await?;
        exactly_one(gone)?;
        Ok(())
    }

    /// Adds a user to an organization with roles. `Conflict` if already a member. The
    /// caller has proven the organization, the user and the roles belong to `realm`.
    pub async fn add_member(
        &self,
        realm: RealmId,
        org_id: OrgId,
        user_id: UserId,
        managed: bool,
        roles: &[OrgRoleId],
        now: UnixTime,
    ) -> StoreResult<()> {
        let tx = self.db.begin().await?;
        let id = Uuid::now_v7();
        membership::ActiveModel {
            id: Set(id),
            realm_id: Set(realm.0),
            org_id: Set(org_id.0),
            user_id: Set(user_id.0),
            managed: Set(managed),
            created_at: Set(now.0),
        }
        .insert(&tx)
        .await?;
        set_roles(&tx, id, roles).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn membership_id(
        &self,
        realm: RealmId,
        org_id: OrgId,
        user_id: UserId,
    ) -> StoreResult<Option<Uuid>> {
        Ok(membership::Entity::find()
            .filter(membership::Column::RealmId.eq(realm.0))
            .filter(membership::Column::OrgId.eq(org_id.0))
            .filter(membership::Column::UserId.eq(user_id.0))
            .select_only()
            .column(membership::Column::Id)
            .into_tuple()
            .one(&self.db)
            .await?)
    }

    /// Replaces a member's roles. `NotFound` if the user is not a member.
    /// Replaces a member's roles. With `keep`, the change is undone (`Conflict`) when it
    /// would leave the organization without a member holding that role: checked inside the
    /// change's transaction, with the organization's row locked on PostgreSQL (SQLite has
    /// one writer at a time), so two administrators demoting each other at once cannot
    /// both succeed.
    pub async fn set_member_roles(
        &self,
        realm: RealmId,
        org_id: OrgId,
        user_id: UserId,
        roles: &[OrgRoleId],
        keep: Option<&OrgRoleName>,
    ) -> StoreResult<()> {
        let id = self
            .membership_id(realm, org_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let tx = self.begin_on_org(org_id).await?;
        set_roles(&tx, id, roles).await?;
        keep_one(&tx, realm, org_id, keep).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A transaction that holds the organization's row (PostgreSQL); on SQLite the first
    /// write takes the database's one write lock.
    async fn begin_on_org(&self, org_id: OrgId) -> StoreResult<sea_orm::DatabaseTransaction> {
        let tx = self.db.begin().await?;
        if self.backend() == crate::Backend::Postgres {
            org::Entity::find_by_id(org_id.0)
                .lock_exclusive()
                .one(&tx)
                .await?;
        }
        Ok(tx)
    }

    /// Gives a member one more role, in one INSERT that does nothing when they hold it
    /// already (two concurrent grants both succeed). `NotFound` if not a member.
    pub async fn grant_member_role(
        &self,
        realm: RealmId,
        org_id: OrgId,
        user_id: UserId,
        role: OrgRoleId,
    ) -> StoreResult<()> {
        let id = self
            .membership_id(realm, org_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        membership_role::Entity::insert(membership_role::ActiveModel {
            membership_id: Set(id),
            role_id: Set(role.0),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                membership_role::Column::MembershipId,
                membership_role::Column::RoleId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Unlinks a member (their account stays). `NotFound` if not a member.
    /// Ends a membership; with `keep`, as [`Store::set_member_roles`].
    pub async fn remove_member(
        &self,
        realm: RealmId,
        org_id: OrgId,
        user_id: UserId,
        keep: Option<&OrgRoleName>,
    ) -> StoreResult<()> {
        let tx = self.begin_on_org(org_id).await?;
        let gone = membership::Entity::delete_many()
            .filter(membership::Column::RealmId.eq(realm.0))
            .filter(membership::Column::OrgId.eq(org_id.0))
            .filter(membership::Column::UserId.eq(user_id.0))
            .exec(&tx)
            .await?;
        exactly_one(gone)?;
        keep_one(&tx, realm, org_id, keep).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The membership check: one statement on the `(org_id, user_id)` unique index,
    /// returning the membership with its roles. Disabled organizations count only when
    /// `include_disabled`.
    pub async fn get_membership(
        &self,
        realm: RealmId,
        org_id: OrgId,
        user_id: UserId,
        include_disabled: bool,
    ) -> StoreResult<Option<Membership>> {
        let mut q = memberships_with_roles();
        q.and_where(col("m", "org_id").eq(org_id.0))
            .and_where(col("m", "user_id").eq(user_id.0))
            .and_where(col("m", "realm_id").eq(realm.0));
        if !include_disabled {
            q.and_where(col("o", "enabled").eq(true));
        }
        Ok(fold_memberships(self.db.query_all(&q).await?)?.pop())
    }

    /// How many members of an organization hold the role `role` (at most `cap`: enough to
    /// tell "the last one" from "not the last").
    pub async fn count_members_with_role(
        &self,
        realm: RealmId,
        org_id: OrgId,
        role: &OrgRoleName,
        cap: u64,
    ) -> StoreResult<u64> {
        count_with_role(&self.db, realm, org_id, role, cap).await
    }

    /// A user's memberships with their roles, ordered by organization alias; one
    /// statement along the `(user_id, org_id)` index.
    pub async fn list_user_memberships(
        &self,
        realm: RealmId,
        user_id: UserId,
        include_disabled: bool,
    ) -> StoreResult<Vec<Membership>> {
        let mut q = memberships_with_roles();
        q.and_where(col("m", "user_id").eq(user_id.0))
            .and_where(col("m", "realm_id").eq(realm.0))
            .order_by((Alias::new("o"), Alias::new("alias")), Order::Asc);
        if !include_disabled {
            q.and_where(col("o", "enabled").eq(true));
        }
        fold_memberships(self.db.query_all(&q).await?)
    }

    /// One page of an organization's members by user id: two statements whose cost
    /// depends on the page size only (the member list walks the unique index).
    pub async fn list_members(
        &self,
        realm: RealmId,
        org_id: OrgId,
        search: Option<&str>,
        after: Option<UserId>,
        limit: u64,
    ) -> StoreResult<Vec<Member>> {
        let mut q = Query::select()
            .expr(col("m", "id"))
            .expr(col("m", "user_id"))
            .expr(col("u", "username"))
            .expr(col("u", "email"))
            .expr(col("m", "managed"))
            .expr(col("m", "created_at"))
            .from_as(membership::Entity, Alias::new("m"))
            .join_as(
                JoinType::InnerJoin,
                user::Entity,
                Alias::new("u"),
                on("u", "id", "m", "user_id"),
            )
            .and_where(col("m", "org_id").eq(org_id.0))
            .and_where(col("m", "realm_id").eq(realm.0))
            .order_by((Alias::new("m"), Alias::new("user_id")), Order::Asc)
            .limit(limit)
            .to_owned();
        if let Some(a) = after {
            q.and_where(col("m", "user_id").gt(a.0));
        }
        // By username or e-mail, within this organization's members only.
        if let Some(term) = search.filter(|t| !t.is_empty()) {
            let like = || LikeExpr::new(contains_pattern(&Email::normalize(term))).escape('\\');
            q.cond_where(
                Condition::any()
                    .add(col("u", "username").like(like()))
                    .add(col("u", "email_normalized").like(like())),
            );
        }
        let rows = self.db.query_all(&q).await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut members = Vec::with_capacity(rows.len());
        for r in rows {
            ids.push(r.try_get_by_index::<Uuid>(0)?);
            members.push(Member {
                user_id: UserId(r.try_get_by_index(1)?),
                username: r.try_get_by_index(2)?,
                email: r.try_get_by_index(3)?,
                roles: vec![],
                managed: r.try_get_by_index(4)?,
                created_at: UnixTime(r.try_get_by_index(5)?),
            });
        }
        if ids.is_empty() {
            return Ok(members);
        }
        let roles = Query::select()
            .expr(col("mr", "membership_id"))
            .expr(col("r", "name"))
            .from_as(membership_role::Entity, Alias::new("mr"))
            .join_as(
                JoinType::InnerJoin,
                role::Entity,
                Alias::new("r"),
                on("r", "id", "mr", "role_id"),
            )
            .and_where(col("mr", "membership_id").is_in(ids.clone()))
            .to_owned();
        let mut by_membership: HashMap<Uuid, Vec<OrgRoleName>> = HashMap::new();
        for r in self.db.query_all(&roles).await? {
            by_membership
                .entry(r.try_get_by_index(0)?)
                .or_default()
                .push(OrgRoleName::parse(&r.try_get_by_index::<String>(1)?)?);
        }
        for (id, m) in ids.iter().zip(members.iter_mut()) {
            m.roles = by_membership.remove(id).unwrap_or_default();
            m.roles.sort();
        }
        Ok(members)
    }

    pub async fn insert_invitation(&self, i: &Invitation) -> StoreResult<()> {
        invitation::ActiveModel {
            id: Set(i.id.0),
            realm_id: Set(i.realm_id.0),
            org_id: Set(i.org_id.0),
            email: Set(i.email.as_str().to_owned()),
            email_normalized: Set(i.email.normalized().to_owned()),
            roles: Set(join_list(
                &i.roles.iter().map(OrgRoleName::as_str).collect::<Vec<_>>(),
            )),
            status: Set(i.status.as_str().to_owned()),
            jti: Set(i.jti.clone()),
            delivered: Set(i.delivered),
            expires_at: Set(i.expires_at.0),
            created_at: Set(i.created_at.0),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn get_invitation(
        &self,
        realm: RealmId,
        org_id: OrgId,
        id: InvitationId,
    ) -> StoreResult<Option<Invitation>> {
        invitation::Entity::find_by_id(id.0)
            .filter(invitation::Column::RealmId.eq(realm.0))
            .filter(invitation::Column::OrgId.eq(org_id.0))
            .one(&self.db)
            .await?
            .map(invitation_of)
            .transpose()
    }

    /// One page of an organization's invitations, newest id last (ids are time-ordered).
    pub async fn list_invitations(
        &self,
        realm: RealmId,
        org_id: OrgId,
        after: Option<InvitationId>,
        limit: u64,
    ) -> StoreResult<Vec<Invitation>> {
        let mut q = invitation::Entity::find()
            .filter(invitation::Column::RealmId.eq(realm.0))
            .filter(invitation::Column::OrgId.eq(org_id.0))
            .order_by_asc(invitation::Column::Id);
        if let Some(a) = after {
            q = q.filter(invitation::Column::Id.gt(a.0));
        }
        q.limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(invitation_of)
            .collect()
    }

    /// Gives a pending invitation a new link (`jti`) and expiry; older links stop working.
    /// `false` when it is no longer pending.
    pub async fn renew_invitation(
        &self,
        realm: RealmId,
        org_id: OrgId,
        id: InvitationId,
        jti: &str,
        delivered: bool,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        let r = invitation::Entity::update_many()
            .col_expr(invitation::Column::Jti, Expr::value(jti))
            .col_expr(invitation::Column::Delivered, Expr::value(delivered))
            .col_expr(invitation::Column::ExpiresAt, Expr::value(expires_at.0))
            .filter(invitation::Column::RealmId.eq(realm.0))
            .filter(invitation::Column::OrgId.eq(org_id.0))
            .filter(invitation::Column::Id.eq(id.0))
            .filter(invitation::Column::Status.eq(InvitationStatus::Pending.as_str()))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Moves a pending invitation to `revoked`. `false` when it was not pending.
    pub async fn revoke_invitation(
        &self,
        realm: RealmId,
        org_id: OrgId,
        id: InvitationId,
    ) -> StoreResult<bool> {
        let r = invitation::Entity::update_many()
            .col_expr(
                invitation::Column::Status,
                Expr::value(InvitationStatus::Revoked.as_str()),
            )
            .filter(invitation::Column::RealmId.eq(realm.0))
            .filter(invitation::Column::OrgId.eq(org_id.0))
            .filter(invitation::Column::Id.eq(id.0))
            .filter(invitation::Column::Status.eq(InvitationStatus::Pending.as_str()))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Accepts an invitation and makes the user a member with its roles, in one
    /// transaction. The accept is one conditional UPDATE on (realm, org, id, current link,
    /// e-mail, pending, unexpired), so a link works once and only as issued. An existing
    /// member keeps the membership and gains the roles. `false`: nothing was accepted.
    #[allow(clippy::too_many_arguments)]
    pub async fn accept_invitation(
        &self,
        realm: RealmId,
        org_id: OrgId,
        id: InvitationId,
        jti: &str,
        email: &Email,
        user_id: UserId,
        roles: &[OrgRoleId],
        now: UnixTime,
    ) -> StoreResult<bool> {
        let tx = self.db.begin().await?;
        let r = invitation::Entity::update_many()
            .col_expr(
                invitation::Column::Status,
                Expr::value(InvitationStatus::Accepted.as_str()),
            )
            .filter(invitation::Column::RealmId.eq(realm.0))
            .filter(invitation::Column::OrgId.eq(org_id.0))
            .filter(invitation::Column::Id.eq(id.0))
            .filter(invitation::Column::Jti.eq(jti))
            .filter(invitation::Column::EmailNormalized.eq(email.normalized()))
            .filter(invitation::Column::Status.eq(InvitationStatus::Pending.as_str()))
            .filter(invitation::Column::ExpiresAt.gt(now.0))
            .exec(&tx)
            .await?;
        if r.rows_affected != 1 {
            return Ok(false);
        }
        let existing: Option<Uuid> = membership::Entity::find()
            .filter(membership::Column::RealmId.eq(realm.0))
            .filter(membership::Column::OrgId.eq(org_id.0))
            .filter(membership::Column::UserId.eq(user_id.0))
            .select_only()
            .column(membership::Column::Id)
            .into_tuple()
            .one(&tx)
            .await?;
        match existing {
            Some(m) => {
                if !roles.is_empty() {
                    membership_role::Entity::insert_many(roles.iter().map(|r| {
                        membership_role::ActiveModel {
                            membership_id: Set(m),
                            role_id: Set(r.0),
                        }
                    }))
                    .on_conflict_do_nothing()
                    .exec_without_returning(&tx)
                    .await?;
                }
            }
            None => {
                let m = Uuid::now_v7();
                membership::ActiveModel {
                    id: Set(m),
                    realm_id: Set(realm.0),
                    org_id: Set(org_id.0),
                    user_id: Set(user_id.0),
                    managed: Set(false),
                    created_at: Set(now.0),
                }
                .insert(&tx)
                .await?;
                set_roles(&tx, m, roles).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::two_realms;
    use crate::{PageRequest, Store, StoreError};
    use tessera_domain::{
        DomainName, Email, Invitation, InvitationId, InvitationStatus, NewOrganization, NewUser,
        OrgAlias, OrgDomain, OrgId, OrgRole, OrgRoleId, OrgRoleName, Realm, UnixTime, UserId,
        Username,
    };

    fn new_org(alias: &str) -> NewOrganization {
        NewOrganization {
            alias: OrgAlias::parse(alias).unwrap(),
            name: alias.to_uppercase(),
            description: None,
            enabled: true,
            attributes: Default::default(),
            external_id: None,
            logo_uri: None,
        }
    }

    fn domain(name: &str) -> OrgDomain {
        OrgDomain {
            name: DomainName::parse(name).unwrap(),
            verified: true,
        }
    }

    async fn user(s: &Store, r: &Realm, name: &str) -> UserId {
        let u = NewUser::new(Username::parse(name).unwrap());
        s.insert_user(r.id, UserId::new_v7(), &u, None, UnixTime(1))
            .await
            .unwrap()
            .id
    }

    async fn role(s: &Store, r: &Realm, name: &str) -> OrgRoleId {
        let role = OrgRole {
            id: OrgRoleId::new_v7(),
            realm_id: r.id,
            name: OrgRoleName::parse(name).unwrap(),
            description: None,
        };
        s.insert_org_role(&role, UnixTime(1)).await.unwrap();
        role.id
    }

    #[tokio::test]
    async fn aliases_are_unique_per_realm_and_domains_belong_to_one_organization() {
        let (s, a, b) = two_realms().await;
        let acme = s
            .insert_org(
                a.id,
                OrgId::new_v7(),
                &new_org("acme"),
                &[domain("acme.com")],
                UnixTime(1),
            )
            .await
            .unwrap();
        // Same alias and domain in another realm: independent.
        s.insert_org(
            b.id,
            OrgId::new_v7(),
            &new_org("acme"),
            &[domain("acme.com")],
            UnixTime(1),
        )
        .await
        .unwrap();
        let dup = s
            .insert_org(a.id, OrgId::new_v7(), &new_org("acme"), &[], UnixTime(1))
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict)));
        // A taken domain leaves no half-created organization behind.
        let taken = s
            .insert_org(
                a.id,
                OrgId::new_v7(),
                &new_org("other"),
                &[domain("acme.com")],
                UnixTime(1),
            )
            .await;
        assert!(matches!(taken, Err(StoreError::Conflict)));
        let alias = OrgAlias::parse("other").unwrap();
        assert!(s.find_org_by_alias(a.id, &alias).await.unwrap().is_none());
        let found = s
            .find_org_by_domain(a.id, &DomainName::parse("acme.com").unwrap(), true)
            .await
            .unwrap();
        assert_eq!(found.map(|o| o.id), Some(acme.id));
        assert!(s.get_org(b.id, acme.id).await.unwrap().is_none(), "ISO-5");
    }

    #[tokio::test]
    async fn the_membership_check_is_one_statement_and_carries_the_roles() {
        let (s, a, _) = two_realms().await;
        let org = s
            .insert_org(a.id, OrgId::new_v7(), &new_org("acme"), &[], UnixTime(1))
            .await
            .unwrap();
        let u = user(&s, &a, "alice").await;
        let admin = role(&s, &a, "admin").await;
        let billing = role(&s, &a, "billing").await;
        s.add_member(a.id, org.id, u, false, &[billing, admin], UnixTime(2))
            .await
            .unwrap();
        let before = s.statement_count();
        let m = s
            .get_membership(a.id, org.id, u, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.statement_count() - before, 1);
        let roles: Vec<_> = m.roles.iter().map(OrgRoleName::as_str).collect();
        assert_eq!(roles, ["admin", "billing"]);
        assert!(matches!(
            s.add_member(a.id, org.id, u, false, &[], UnixTime(3)).await,
            Err(StoreError::Conflict)
        ));
        // A disabled organization's memberships do not count unless asked for.
        let mut off = new_org("acme");
        off.enabled = false;
        s.update_org(a.id, org.id, &off).await.unwrap();
        assert!(
            s.get_membership(a.id, org.id, u, false)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.get_membership(a.id, org.id, u, true)
                .await
                .unwrap()
                .is_some()
        );
        assert!(!s.org_is_enabled(a.id, org.id).await.unwrap());
    }

    #[tokio::test]
    async fn member_pages_cost_two_statements_whatever_the_organization_size() {
        let (s, a, _) = two_realms().await;
        let org = s
            .insert_org(a.id, OrgId::new_v7(), &new_org("acme"), &[], UnixTime(1))
            .await
            .unwrap();
        let r = role(&s, &a, "admin").await;
        let mut ids = vec![];
        for i in 0..7 {
            let u = user(&s, &a, &format!("u{i}")).await;
            s.add_member(a.id, org.id, u, false, &[r], UnixTime(2))
                .await
                .unwrap();
            ids.push(u);
        }
        ids.sort();
        let mut seen = vec![];
        let mut after = None;
        loop {
            let before = s.statement_count();
            let page = s.list_members(a.id, org.id, None, after, 3).await.unwrap();
            assert!(s.statement_count() - before <= 2);
            if page.is_empty() {
                break;
            }
            assert!(page.iter().all(|m| m.roles.len() == 1));
            after = page.last().map(|m| m.user_id);
            seen.extend(page.into_iter().map(|m| m.user_id));
        }
        assert_eq!(seen, ids);
    }

    #[tokio::test]
    async fn a_users_memberships_come_ordered_by_alias_and_role_templates_cascade() {
        let (s, a, b) = two_realms().await;
        let u = user(&s, &a, "alice").await;
        let admin = role(&s, &a, "admin").await;
        for alias in ["zeta", "alpha", "mid"] {
            let o = s
                .insert_org(a.id, OrgId::new_v7(), &new_org(alias), &[], UnixTime(1))
                .await
                .unwrap();
            s.add_member(a.id, o.id, u, false, &[admin], UnixTime(2))
                .await
                .unwrap();
        }
        let all = s.list_user_memberships(a.id, u, false).await.unwrap();
        let aliases: Vec<_> = all.iter().map(|m| m.alias.as_str()).collect();
        assert_eq!(aliases, ["alpha", "mid", "zeta"]);
        assert!(
            s.list_user_memberships(b.id, u, true)
                .await
                .unwrap()
                .is_empty(),
            "ISO-9"
        );
        s.delete_org_role(a.id, &OrgRoleName::parse("admin").unwrap())
            .await
            .unwrap();
        let all = s.list_user_memberships(a.id, u, false).await.unwrap();
        assert!(all.iter().all(|m| m.roles.is_empty()));
        let page = s
            .list_orgs(
                a.id,
                Some("MI"),
                None,
                &PageRequest {
                    after: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
    }

    #[tokio::test]
    async fn deleting_an_organization_deletes_managed_members_only() {
        let (s, a, _) = two_realms().await;
        let org = s
            .insert_org(a.id, OrgId::new_v7(), &new_org("acme"), &[], UnixTime(1))
            .await
            .unwrap();
        let managed = user(&s, &a, "managed").await;
        let linked = user(&s, &a, "linked").await;
        s.add_member(a.id, org.id, managed, true, &[], UnixTime(2))
            .await
            .unwrap();
        s.add_member(a.id, org.id, linked, false, &[], UnixTime(2))
            .await
            .unwrap();
        s.delete_org(a.id, org.id).await.unwrap();
        assert!(s.get_user(a.id, managed).await.is_err());
        assert!(s.get_user(a.id, linked).await.is_ok());
        assert!(matches!(
            s.delete_org(a.id, org.id).await,
            Err(StoreError::NotFound)
        ));
    }

    #[tokio::test]
    async fn an_invitation_is_accepted_once_with_its_current_link_and_email_only() {
        let (s, a, b) = two_realms().await;
        let org = s
            .insert_org(a.id, OrgId::new_v7(), &new_org("acme"), &[], UnixTime(1))
            .await
            .unwrap();
        let u = user(&s, &a, "dave").await;
        let r = role(&s, &a, "billing").await;
        let inv = Invitation {
            id: InvitationId::new_v7(),
            realm_id: a.id,
            org_id: org.id,
            email: Email::parse("Dave@x.example").unwrap(),
            roles: vec![OrgRoleName::parse("billing").unwrap()],
            status: InvitationStatus::Pending,
            jti: "j1".into(),
            delivered: false,
            expires_at: UnixTime(100),
            created_at: UnixTime(1),
        };
        s.insert_invitation(&inv).await.unwrap();
        let email = Email::parse("dave@X.example").unwrap();
        let other = Email::parse("eve@x.example").unwrap();
        let accept = |realm, jti: &'static str, email, now| {
            let s = s.clone();
            async move {
                s.accept_invitation(realm, org.id, inv.id, jti, email, u, &[r], UnixTime(now))
                    .await
                    .unwrap()
            }
        };
        assert!(
            !accept(b.id, "j1", &email, 10).await,
            "ISO-6: another realm"
        );
        assert!(!accept(a.id, "old", &email, 10).await, "a replaced link");
        assert!(!accept(a.id, "j1", &other, 10).await, "another e-mail");
        assert!(!accept(a.id, "j1", &email, 100).await, "expired");
        assert!(
            s.renew_invitation(a.id, org.id, inv.id, "j1", false, UnixTime(200))
                .await
                .unwrap()
        );
        assert!(accept(a.id, "j1", &email, 150).await);
        assert!(!accept(a.id, "j1", &email, 151).await, "single use");
        let m = s
            .get_membership(a.id, org.id, u, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.roles.len(), 1);
        assert!(!s.revoke_invitation(a.id, org.id, inv.id).await.unwrap());
    }
}
