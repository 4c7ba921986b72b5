//! What the console's pages show that no single admin operation returns. Each loader
//! goes through the admin operations (and so through the principal), costs a bounded
//! number of statements, and reads one page of a list (O(page), however large the
//! organization).

use crate::admin::AdminPrincipal;
use crate::admin::audit::AuditFilter;
use crate::{OAuthError, Provider};
use tessera_domain::{
    AuditEvent, ConsoleSession, Member, Membership, OrgDomain, OrgRole, OrgRoleName, Organization,
};

/// Rows per console list page.
pub const PAGE: u64 = 50;

/// An organization's member page.
pub struct MembersView {
    pub org: Organization,
    pub domains: Vec<OrgDomain>,
    pub members: Vec<Member>,
    /// The realm's organization roles, to choose from.
    pub roles: Vec<OrgRole>,
    /// The `after` of the next page, when there may be one.
    pub next: Option<String>,
}

/// A page of a list: its rows and the cursor of the next page.
pub fn next_cursor<T>(rows: &[T], key: impl Fn(&T) -> String) -> Option<String> {
    match rows.len() as u64 {
        PAGE => rows.last().map(key),
        _ => None,
    }
}

impl Provider {
    /// The organizations the session's person administers in its realm (an organization
    /// console's home), enabled ones only.
    pub async fn administered_orgs(
        &self,
        s: &ConsoleSession,
    ) -> Result<Vec<Membership>, OAuthError> {
        let mut orgs = self
            .store()
            .list_user_memberships(s.realm_id, s.user_id, false)
            .await?;
        orgs.retain(|m| m.roles.iter().any(|r| r.as_str() == OrgRoleName::ADMIN));
        Ok(orgs)
    }

    /// One page of an organization's members (optionally matching `search`), with the
    /// organization and the roles there are.
    pub async fn members_view(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: &str,
        search: Option<&str>,
        after: Option<&str>,
    ) -> Result<MembersView, OAuthError> {
        let (org, domains) = self.get_org(caller, realm, org).await?;
        let members = self
            .list_org_members(caller, realm, org.alias.as_str(), search, after, Some(PAGE))
            .await?;
        let roles = self.list_org_roles(caller, realm).await?;
        let next = next_cursor(&members, |m| m.user_id.to_string());
        Ok(MembersView {
            org,
            domains,
            members,
            roles,
            next,
        })
    }

    /// A page of the audit log of one organization: what its administrators did and
    /// what was done to it (its administrators and realm administrators).
    pub async fn org_events(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: &str,
        filter: AuditFilter,
    ) -> Result<(Organization, Vec<AuditEvent>), OAuthError> {
        let (org, _) = self.get_org(caller, realm, org).await?;
        let filter = AuditFilter {
            org: Some(org.id),
            ..filter
        };
        let events = self.audit_log_page(realm, filter, Some(PAGE)).await?;
        Ok((org, events))
    }
}

#[cfg(test)]
mod tests {
    use crate::admin::AdminPrincipal;
    use crate::admin::orgs::UserRef;
    use crate::test_util::provider;
    use crate::{OAuthError, Provider};
    use tessera_domain::{
        ConsoleSession, NewOrganization, NewUser, OrgAlias, OrgRoleName, RealmSettings, Username,
    };

    /// An organization with `n` members, the first its administrator with a console session.
    async fn org_with(p: &Provider, n: usize) -> ConsoleSession {
        let op = &AdminPrincipal::operator();
        p.create_realm(op, "r", RealmSettings::default())
            .await
            .unwrap();
        let o = NewOrganization {
            alias: OrgAlias::parse("acme").unwrap(),
            name: "Acme".into(),
            description: None,
            enabled: true,
            attributes: Default::default(),
            external_id: None,
            logo_uri: None,
        };
        p.create_org(op, "r", o, vec![]).await.unwrap();
        let mut first = None;
        for i in 0..n {
            let u = NewUser::new(Username::parse(&format!("user{i:03}")).unwrap());
            let u = p.create_user(op, "r", u, None).await.unwrap();
            let role = if i == 0 {
                OrgRoleName::ADMIN
            } else {
                OrgRoleName::MEMBER
            };
            let roles = vec![OrgRoleName::parse(role).unwrap()];
            p.add_org_member(op, "r", "acme", UserRef::Id(u.id), roles, false)
                .await
                .unwrap();
            first.get_or_insert(u);
        }
        let u = first.unwrap();
        ConsoleSession {
            id: uuid::Uuid::now_v7(),
            realm_id: u.realm_id,
            user_id: u.id,
            csrf: "c".into(),
            created_at: p.clock().now(),
            last_seen_at: p.clock().now(),
        }
    }

    /// What the members page runs: the caller from the session, then the page.
    async fn members_page(p: &Provider, s: &ConsoleSession) -> Result<usize, OAuthError> {
        let caller = p
            .resolve_admin(
                crate::admin::AdminCredentials::Console(s),
                crate::admin::principal::AdminTarget {
                    realm: Some("r"),
                    org: Some("acme"),
                    write: false,
                    path: "",
                },
            )
            .await?;
        p.console_user(s).await?;
        Ok(p.members_view(&caller, "r", "acme", None, None)
            .await?
            .members
            .len())
    }

    #[tokio::test]
    async fn the_members_page_costs_the_same_statements_for_3_or_120_members() {
        let mut costs = vec![];
        for n in [3, 120] {
            let (p, _) = provider().await;
            let s = org_with(&p, n).await;
            members_page(&p, &s).await.unwrap(); // warm the realm cache
            let before = p.store().statement_count();
            let shown = members_page(&p, &s).await.unwrap();
            costs.push(p.store().statement_count() - before);
            assert_eq!(shown, n.min(super::PAGE as usize));
        }
        assert_eq!(costs[0], costs[1], "O(page), not O(members)");
        assert!(costs[0] <= 10, "{} statements", costs[0]);
    }
}
