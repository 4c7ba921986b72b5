use crate::entity::user;
use crate::{PageRequest, Store, StoreError, StoreResult};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use tessera_domain::{
    DomainError, Email, NewUser, RealmId, UnixTime, User, UserAttributes, UserId, Username,
};

pub(crate) fn to_domain(m: user::Model) -> StoreResult<User> {
    let attributes: UserAttributes = serde_json::from_str(&m.attributes)
        .map_err(|e| DomainError::new("attributes", e.to_string()))?;
    Ok(User {
        id: UserId(m.id),
        realm_id: RealmId(m.realm_id),
        username: Username::parse(&m.username)?,
        // The normalized column is derived; re-deriving it keeps one source of truth.
        email: m.email.as_deref().map(Email::parse).transpose()?,
        email_verified: m.email_verified,
        given_name: m.given_name,
        family_name: m.family_name,
        enabled: m.enabled,
        attributes,
        created_at: UnixTime(m.created_at),
    })
}

pub(crate) fn apply(m: &mut user::ActiveModel, u: &NewUser) {
    m.username = Set(u.username.as_str().to_owned());
    m.email = Set(u.email.as_ref().map(|e| e.as_str().to_owned()));
    m.email_normalized = Set(u.email.as_ref().map(|e| e.normalized().to_owned()));
    m.email_verified = Set(u.email_verified);
    m.given_name = Set(u.given_name.clone());
    m.family_name = Set(u.family_name.clone());
    m.enabled = Set(u.enabled);
    m.attributes = Set(serde_json::Value::Object(u.attributes.clone()).to_string());
}

/// `%term%` for LIKE, with the term's own wildcards escaped (escape character `\`).
pub(crate) fn contains_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    pub async fn insert_user(
        &self,
        realm: RealmId,
        id: UserId,
        u: &NewUser,
        password_hash: Option<String>,
        now: UnixTime,
    ) -> StoreResult<User> {
        let mut m = user::ActiveModel {
            id: Set(id.0),
            realm_id: Set(realm.0),
            password_hash: Set(password_hash),
            created_at: Set(now.0),
            ..Default::default()
        };
        apply(&mut m, u);
        to_domain(m.insert(&self.db).await?)
    }

    async fn user_row(&self, realm: RealmId, id: UserId) -> StoreResult<user::Model> {
        user::Entity::find_by_id(id.0)
            .filter(user::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn get_user(&self, realm: RealmId, id: UserId) -> StoreResult<User> {
        to_domain(self.user_row(realm, id).await?)
    }

    pub async fn find_user_by_username(
        &self,
        realm: RealmId,
        username: &Username,
    ) -> StoreResult<Option<User>> {
        user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Username.eq(username.as_str()))
            .one(&self.db)
            .await?
            .map(to_domain)
            .transpose()
    }

    /// By the normalized address, so any case or normalization form of it matches.
    pub async fn find_user_by_email(
        &self,
        realm: RealmId,
        email: &Email,
    ) -> StoreResult<Option<User>> {
        user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::EmailNormalized.eq(email.normalized()))
            .one(&self.db)
            .await?
            .map(to_domain)
            .transpose()
    }

    /// What a login form sends: a username or an e-mail address. A username match wins
    /// over an e-mail match (usernames may contain `@`).
    pub async fn find_user_by_login(
        &self,
        realm: RealmId,
        login: &str,
    ) -> StoreResult<Option<User>> {
        Ok(self
            .find_user_credentials(realm, login)
            .await?
            .map(|(u, _)| u))
    }

    /// As [`Store::find_user_by_login`], with the stored password hash (PHC string), for
    /// verification only.
    pub async fn find_user_credentials(
        &self,
        realm: RealmId,
        login: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
        let username = Username::parse(login).ok();
        let email = Email::parse(login).ok();
        let mut any = Condition::any();
        if let Some(u) = &username {
            any = any.add(user::Column::Username.eq(u.as_str()));
        }
        if let Some(e) = &email {
            any = any.add(user::Column::EmailNormalized.eq(e.normalized()));
        }
        if username.is_none() && email.is_none() {
            return Ok(None);
        }
        let rows = user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(any)
            .limit(2)
            .all(&self.db)
            .await?;
        // One identifier, one account: when it is one user's username and another's
        // e-mail (data from before creation refused such pairs), neither is signed in,
        // rather than whichever the lookup happens to prefer.
        if rows.len() > 1 {
            tracing::warn!(realm = %realm.0, "a login name matches two users; refused");
            return Ok(None);
        }
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let hash = row.password_hash.clone();
        Ok(Some((to_domain(row)?, hash)))
    }

    /// Users of one realm ordered by username, one keyset page. `search` matches a
    /// substring of the username, e-mail, given or family name, ignoring case (for names
    /// with non-ASCII letters only on PostgreSQL: SQLite's `lower` folds ASCII only).
    pub async fn list_users(
        &self,
        realm: RealmId,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Vec<User>> {
        let mut q = user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .order_by_asc(user::Column::Username);
        if let Some(term) = search.filter(|s| !s.is_empty()) {
            let pat = contains_pattern(&Email::normalize(term));
            let like = || LikeExpr::new(pat.clone()).escape('\\');
            let lower_like = |c: user::Column| {
                Expr::expr(Func::lower(Expr::col((user::Entity, c)))).like(like())
            };
            q = q.filter(
                Condition::any()
                    .add(user::Column::Username.like(like()))
                    .add(user::Column::EmailNormalized.like(like()))
                    .add(lower_like(user::Column::GivenName))
                    .add(lower_like(user::Column::FamilyName)),
            );
        }
        if let Some(after) = &page.after {
            q = q.filter(user::Column::Username.gt(after.as_str()));
        }
        q.limit(page.limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    /// Replaces a user's profile; the password hash is kept.
    pub async fn update_user(&self, realm: RealmId, id: UserId, u: &NewUser) -> StoreResult<User> {
        let mut m = self.user_row(realm, id).await?.into_active_model();
        apply(&mut m, u);
        to_domain(m.update(&self.db).await?)
    }

    /// Sets (or with `None` removes) the password hash.
    pub async fn set_user_password_hash(
        &self,
        realm: RealmId,
        id: UserId,
        password_hash: Option<String>,
    ) -> StoreResult<()> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Marks the user's e-mail verified if it is still `email` (one conditional UPDATE);
    /// `false` when the address has changed meanwhile.
    pub async fn verify_user_email(
        &self,
        realm: RealmId,
        id: UserId,
        email: &Email,
    ) -> StoreResult<bool> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::EmailVerified, Expr::value(true))
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Id.eq(id.0))
            .filter(user::Column::EmailNormalized.eq(email.normalized()))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Makes `email` the user's verified address (`Conflict` when another user holds it).
    pub async fn set_user_verified_email(
        &self,
        realm: RealmId,
        id: UserId,
        email: &Email,
    ) -> StoreResult<()> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(email.as_str()))
            .col_expr(
                user::Column::EmailNormalized,
                Expr::value(email.normalized()),
            )
            .col_expr(user::Column::EmailVerified, Expr::value(true))
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn delete_user(&self, realm: RealmId, id: UserId) -> StoreResult<()> {
        let res = user::Entity::delete_many()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::{realm, test_store};
    use crate::{PageRequest, Store, StoreError};
    use tessera_domain::{
        Email, NewUser, PasswordParams, Realm, RealmSettings, UnixTime, User, UserId, Username,
    };

    fn new_user(name: &str, email: Option<&str>) -> NewUser {
        NewUser {
            email: email.map(|e| Email::parse(e).unwrap()),
            ..NewUser::new(Username::parse(name).unwrap())
        }
    }

    async fn two_realms(s: &Store) -> (Realm, Realm) {
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        (a, b)
    }

    async fn add(s: &Store, r: &Realm, u: &NewUser, hash: Option<&str>) -> User {
        s.insert_user(
            r.id,
            UserId::new_v7(),
            u,
            hash.map(str::to_owned),
            UnixTime(3),
        )
        .await
        .unwrap()
    }

    fn page(after: Option<&str>, limit: u64) -> PageRequest {
        PageRequest {
            after: after.map(str::to_owned),
            limit,
        }
    }

    fn names(users: &[User]) -> Vec<&str> {
        users.iter().map(|u| u.username.as_str()).collect()
    }

    #[tokio::test]
    async fn user_round_trips_every_field() {
        let s = test_store().await;
        let (a, _) = two_realms(&s).await;
        let mut u = new_user("Alice", Some("Alice@Example.com"));
        u.email_verified = true;
        u.given_name = Some("Alice".into());
        u.family_name = Some("Liddell".into());
        u.enabled = false;
        u.attributes
            .insert("dept".into(), serde_json::json!(["r&d", 7]));
        let stored = add(&s, &a, &u, Some("$argon2id$x")).await;
        assert_eq!(stored.username.as_str(), "alice");
        assert_eq!(stored.email.as_ref().unwrap().as_str(), "Alice@Example.com");
        assert_eq!(s.get_user(a.id, stored.id).await.unwrap(), stored);
        let (found, hash) = s
            .find_user_credentials(a.id, "ALICE@example.COM")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, stored);
        assert_eq!(hash.as_deref(), Some("$argon2id$x"));
        assert_eq!(found.attributes["dept"], serde_json::json!(["r&d", 7]));
    }

    #[tokio::test]
    async fn lookups_by_username_email_and_login_ignore_case_and_normalization() {
        let s = test_store().await;
        let (a, _) = two_realms(&s).await;
        let jose = add(
            &s,
            &a,
            &new_user("jose", Some("Jos\u{e9}@Example.com")),
            None,
        )
        .await;
        let nfd = Email::parse("JOSE\u{301}@EXAMPLE.COM").unwrap();
        assert_eq!(
            s.find_user_by_email(a.id, &nfd).await.unwrap().unwrap().id,
            jose.id
        );
        let upper = Username::parse("JOSE").unwrap();
        assert_eq!(
            s.find_user_by_username(a.id, &upper)
                .await
                .unwrap()
                .unwrap()
                .id,
            jose.id
        );
        for login in ["JOSE", "jose\u{301}@example.com", "Jos\u{e9}@EXAMPLE.com"] {
            let found = s.find_user_by_login(a.id, login).await.unwrap();
            assert_eq!(found.map(|u| u.id), Some(jose.id), "{login}");
        }
        for login in ["", "nobody", "a b", "jose@example.org"] {
            assert!(
                s.find_user_by_login(a.id, login).await.unwrap().is_none(),
                "{login}"
            );
        }
    }

    #[tokio::test]
    async fn a_login_name_that_is_one_users_username_and_anothers_email_signs_in_nobody() {
        // The engine refuses such pairs at creation; rows from before must not let the
        // username's owner sign in as the e-mail's (or the other way round).
        let s = test_store().await;
        let (a, _) = two_realms(&s).await;
        add(&s, &a, &new_user("bob", Some("x@corp")), None).await;
        add(&s, &a, &new_user("x@corp", None), None).await;
        assert!(
            s.find_user_by_login(a.id, "X@corp")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.find_user_by_login(a.id, "x@corp")
                .await
                .unwrap()
                .is_none()
        );
        assert!(s.find_user_by_login(a.id, "bob").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn duplicate_username_or_email_in_one_realm_conflicts() {
        let s = test_store().await;
        let (a, _) = two_realms(&s).await;
        add(&s, &a, &new_user("alice", Some("alice@example.com")), None).await;
        for dup in [
            new_user("ALICE", None),
            new_user("alice2", Some("ALICE@example.com")),
        ] {
            let again = s
                .insert_user(a.id, UserId::new_v7(), &dup, None, UnixTime(1))
                .await;
            assert!(matches!(again, Err(StoreError::Conflict)), "{dup:?}");
        }
        // Many users without an e-mail do not collide.
        add(&s, &a, &new_user("carol", None), None).await;
        add(&s, &a, &new_user("dave", None), None).await;
    }

    #[tokio::test]
    async fn same_username_in_two_realms_stays_apart_iso_5_iso_9() {
        let s = test_store().await;
        let (a, b) = two_realms(&s).await;
        let ua = add(
            &s,
            &a,
            &new_user("alice", Some("alice@example.com")),
            Some("ha"),
        )
        .await;
        let ub = add(
            &s,
            &b,
            &new_user("alice", Some("alice@example.com")),
            Some("hb"),
        )
        .await;
        assert_ne!(ua.id, ub.id);
        let (found, hash) = s
            .find_user_credentials(b.id, "alice")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.id, hash.as_deref()), (ub.id, Some("hb")));
        // Realm a addressing realm b's user by id finds nothing and changes nothing.
        assert!(matches!(
            s.get_user(a.id, ub.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.update_user(a.id, ub.id, &new_user("mallory", None)).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.set_user_password_hash(a.id, ub.id, Some("x".into()))
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.delete_user(a.id, ub.id).await,
            Err(StoreError::NotFound)
        ));
        let listed = s.list_users(a.id, None, &page(None, 10)).await.unwrap();
        assert_eq!(listed.iter().map(|u| u.id).collect::<Vec<_>>(), [ua.id]);
        let searched = s
            .list_users(a.id, Some("alice"), &page(None, 10))
            .await
            .unwrap();
        assert_eq!(searched.iter().map(|u| u.id).collect::<Vec<_>>(), [ua.id]);
        assert_eq!(
            s.find_user_credentials(b.id, "alice")
                .await
                .unwrap()
                .unwrap()
                .1
                .as_deref(),
            Some("hb")
        );
    }

    #[tokio::test]
    async fn user_list_pages_by_username_and_searches_names_and_emails() {
        let s = test_store().await;
        let (a, b) = two_realms(&s).await;
        for (name, email, given, family) in [
            ("carol", Some("carol@shop.example"), "Carol", "Danvers"),
            ("alice", Some("alice@example.com"), "Alice", "Liddell"),
            ("bob", None, "Bob", "Ross"),
            ("dan_1", None, "Dan", "Percent%"),
        ] {
            let mut u = new_user(name, email);
            u.given_name = Some(given.into());
            u.family_name = Some(family.into());
            add(&s, &a, &u, None).await;
        }
        add(&s, &b, &new_user("aaron", None), None).await;
        let p1 = s.list_users(a.id, None, &page(None, 2)).await.unwrap();
        assert_eq!(names(&p1), ["alice", "bob"]);
        let p2 = s
            .list_users(a.id, None, &page(Some("bob"), 2))
            .await
            .unwrap();
        assert_eq!(names(&p2), ["carol", "dan_1"]);
        let search = |term: &'static str| {
            let s = &s;
            async move {
                s.list_users(a.id, Some(term), &page(None, 10))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(names(&search("LIDDELL").await), ["alice"]);
        assert_eq!(names(&search("example").await), ["alice", "carol"]);
        assert_eq!(names(&search("DAN").await), ["carol", "dan_1"]);
        assert_eq!(names(&search("@SHOP").await), ["carol"]);
        // LIKE wildcards in the term are literal.
        assert_eq!(names(&search("%").await), ["dan_1"]);
        assert_eq!(names(&search("_").await), ["dan_1"]);
        assert!(search("zzz").await.is_empty());
        // Search and keyset paging combine.
        let after = s
            .list_users(a.id, Some("example"), &page(Some("alice"), 10))
            .await
            .unwrap();
        assert_eq!(names(&after), ["carol"]);
    }

    #[tokio::test]
    async fn update_keeps_the_password_and_set_password_hash_replaces_it() {
        let s = test_store().await;
        let (a, _) = two_realms(&s).await;
        let u = add(&s, &a, &new_user("alice", Some("a@x")), Some("h1")).await;
        let mut changed = new_user("alice2", Some("b@x"));
        changed.enabled = false;
        let updated = s.update_user(a.id, u.id, &changed).await.unwrap();
        assert_eq!(updated.username.as_str(), "alice2");
        assert!(!updated.enabled);
        assert!(s.find_user_by_login(a.id, "a@x").await.unwrap().is_none());
        let creds = s.find_user_credentials(a.id, "b@x").await.unwrap().unwrap();
        assert_eq!(creds.1.as_deref(), Some("h1"));
        s.set_user_password_hash(a.id, u.id, Some("h2".into()))
            .await
            .unwrap();
        let creds = s
            .find_user_credentials(a.id, "alice2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(creds.1.as_deref(), Some("h2"));
        s.set_user_password_hash(a.id, u.id, None).await.unwrap();
        let creds = s
            .find_user_credentials(a.id, "alice2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(creds.1, None);
    }

    #[tokio::test]
    async fn deleting_a_user_or_its_realm_removes_it() {
        let s = test_store().await;
        let (a, b) = two_realms(&s).await;
        let ua = add(&s, &a, &new_user("alice", None), None).await;
        let ub = add(&s, &b, &new_user("alice", None), None).await;
        let ua2 = add(&s, &a, &new_user("bob", None), None).await;
        s.delete_user(a.id, ua.id).await.unwrap();
        assert!(matches!(
            s.delete_user(a.id, ua.id).await,
            Err(StoreError::NotFound)
        ));
        s.delete_realm(a.id).await.unwrap();
        assert!(matches!(
            s.get_user(a.id, ua2.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(s.get_user(b.id, ub.id).await.is_ok());
    }

    #[tokio::test]
    async fn realm_password_params_round_trip() {
        let s = test_store().await;
        let (a, _) = two_realms(&s).await;
        let params = PasswordParams {
            m_cost: 256,
            t_cost: 1,
            p_cost: 1,
        };
        let settings = RealmSettings {
            password_params: Some(params),
            ..Default::default()
        };
        let r = s.update_realm(a.id, &settings).await.unwrap();
        assert_eq!(r.password_params, Some(params));
        let found = s.find_realm_by_name(&a.name).await.unwrap().unwrap();
        assert_eq!(found.password_params, Some(params));
        let r = s
            .update_realm(a.id, &RealmSettings::default())
            .await
            .unwrap();
        assert_eq!(r.password_params, None);
    }

    #[tokio::test]
    async fn migrations_after_the_foundation_roll_back_and_forward() {
        use migration::{Migrator, MigratorTrait};
        let s = test_store().await;
        let later = Migrator::migrations().len() as u32 - 1;
        Migrator::down(&s.db, Some(later)).await.unwrap();
        assert_eq!(
            Migrator::get_applied_migrations(&s.db).await.unwrap().len(),
            1
        );
        Migrator::up(&s.db, None).await.unwrap();
        let (a, _) = two_realms(&s).await;
        add(&s, &a, &new_user("alice", None), None).await;
    }
}
