//! The organization context of tokens: which organizations a grant carries, re-checked
//! against current memberships every time a token is issued, and the claim it becomes.

use crate::{OAuthError, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_domain::{
    Client, DomainName, Membership, ORG_SCOPE, OrgAlias, OrgClaimFormat, OrgId, OrgRoleName,
    OrgScope, OrgSelection, Organization, Scope, ScopeSet, UserId,
};

/// One organization in the map form of the claim. Clients must ignore unknown members,
/// so fields may be added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgEntry {
    pub id: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `"organization": {"acme": {"id": …, "roles": […]}}` (Keycloak's shape), or the compact
/// list of aliases a client can ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrgClaim {
    Map(BTreeMap<String, OrgEntry>),
    List(Vec<String>),
}

/// What a token carries about organizations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrgContext {
    #[serde(rename = "organization", skip_serializing_if = "Option::is_none")]
    pub claim: Option<OrgClaim>,
    /// Set when exactly one organization is active, so resource servers can route on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<OrgId>,
}

impl OrgContext {
    /// The claim for `(alias, id, roles)` entries in the client's format.
    fn claim<'a>(
        entries: impl Iterator<Item = (&'a OrgAlias, OrgId, &'a [OrgRoleName])>,
        format: OrgClaimFormat,
    ) -> OrgClaim {
        match format {
            OrgClaimFormat::Map => OrgClaim::Map(
                entries
                    .map(|(alias, id, roles)| {
                        let roles = roles.iter().map(|r| r.as_str().to_owned()).collect();
                        let entry = OrgEntry {
                            id: id.to_string(),
                            roles,
                        };
                        (alias.to_string(), entry)
                    })
                    .collect(),
            ),
            OrgClaimFormat::List => {
                OrgClaim::List(entries.map(|(a, _, _)| a.to_string()).collect())
            }
        }
    }

    fn of(memberships: &[Membership], format: OrgClaimFormat, single: bool) -> Self {
        let entries = memberships
            .iter()
            .map(|m| (&m.alias, m.org_id, m.roles.as_slice()));
        Self {
            claim: Some(Self::claim(entries, format)),
            org_id: if single {
                memberships.first().map(|m| m.org_id)
            } else {
                None
            },
        }
    }

    /// An organization's own service client: the organization, no member roles.
    fn of_org(org: &Organization, format: OrgClaimFormat) -> Self {
        let entry = (&org.alias, org.id, &[][..]);
        Self {
            claim: Some(Self::claim(std::iter::once(entry), format)),
            org_id: Some(org.id),
        }
    }
}

/// Drops every form of the `organization` scope: what is granted when the organization
/// context is not (feature off, or the user belongs to none).
pub fn without_org_scopes(scope: &ScopeSet) -> ScopeSet {
    ScopeSet::from_scopes(scope.iter().filter(|s| !OrgScope::is_org_scope(s)).cloned())
}

/// The organization part of a requested scope, or `invalid_scope`.
pub fn requested_org_scope(scope: &ScopeSet) -> Result<Option<OrgScope>, OAuthError> {
    OrgScope::from_scopes(scope).map_err(|e| OAuthError::InvalidScope(e.to_string().into()))
}

/// The plain `organization` scope token.
pub fn org_scope_token() -> Scope {
    Scope::parse(ORG_SCOPE).expect("a valid scope token")
}

/// What to do with the `organization` scope of an authorization, once the user is known.
#[derive(Debug)]
pub enum OrgDecision {
    /// Grant this context (`None`: the scope is not granted).
    Grant(Option<OrgSelection>),
    /// The user belongs to several organizations: show the chooser.
    Choose(Vec<Membership>),
}

impl Provider {
    /// An enabled organization of the realm by alias.
    pub async fn enabled_org(
        &self,
        ctx: &RealmCtx,
        alias: &str,
    ) -> Result<Option<Organization>, OAuthError> {
        let Ok(alias) = OrgAlias::parse(alias) else {
            return Ok(None);
        };
        Ok(self
            .store()
            .find_org_by_alias(ctx.realm.id, &alias)
            .await?
            .filter(|o| o.enabled))
    }

    /// The organization a login is for: `organization=<alias>`, else the verified domain
    /// of a `login_hint` e-mail address.
    pub async fn login_org(
        &self,
        ctx: &RealmCtx,
        hint: Option<&str>,
        login_hint: Option<&str>,
    ) -> Result<Option<Organization>, OAuthError> {
        if !ctx.realm.organizations_enabled {
            return Ok(None);
        }
        if let Some(alias) = hint {
            return self.enabled_org(ctx, alias).await;
        }
        let Some(domain) = login_hint.and_then(DomainName::of_email) else {
            return Ok(None);
        };
        Ok(self
            .store()
            .find_org_by_domain(ctx.realm.id, &domain, true)
            .await?
            .filter(|o| o.enabled))
    }

    /// Decides the organization context of an authorization for `user`: the membership
    /// check of the authorization endpoint (ORG-1, ORG-9). `chosen` is the chooser's
    /// answer or the login's pre-selected organization.
    pub async fn decide_org(
        &self,
        ctx: &RealmCtx,
        scope: &ScopeSet,
        user: UserId,
        chosen: Option<&str>,
    ) -> Result<OrgDecision, OAuthError> {
        if !ctx.realm.organizations_enabled {
            return Ok(OrgDecision::Grant(None));
        }
        let realm = ctx.realm.id;
        let not_member =
            || OAuthError::AccessDenied("the user is not a member of the organization".into());
        match requested_org_scope(scope)? {
            None => Ok(OrgDecision::Grant(None)),
            Some(OrgScope::All) => Ok(OrgDecision::Grant(Some(OrgSelection::All))),
            Some(OrgScope::One(alias)) => {
                let org = self
                    .enabled_org(ctx, alias.as_str())
                    .await?
                    .ok_or_else(not_member)?;
                self.store()
                    .get_membership(realm, org.id, user, false)
                    .await?
                    .ok_or_else(not_member)?;
                Ok(OrgDecision::Grant(Some(OrgSelection::Required(org.id))))
            }
            Some(OrgScope::Any) => {
                let all = self
                    .store()
                    .list_user_memberships(realm, user, false)
                    .await?;
                if let Some(m) = chosen.and_then(|c| all.iter().find(|m| m.alias.as_str() == c)) {
                    return Ok(OrgDecision::Grant(Some(OrgSelection::Chosen(m.org_id))));
                }
                Ok(match all.len() {
                    0 => OrgDecision::Grant(None),
                    1 => OrgDecision::Grant(Some(OrgSelection::Chosen(all[0].org_id))),
                    _ => OrgDecision::Choose(all),
                })
            }
        }
    }

    /// The claim a user token carries for `selection`, from current memberships (ORG-2):
    /// a chosen organization the user has left drops out; a required one fails the grant.
    pub async fn user_org_context(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        user: UserId,
        selection: Option<OrgSelection>,
    ) -> Result<OrgContext, OAuthError> {
        let Some(selection) = selection.filter(|_| ctx.realm.organizations_enabled) else {
            return Ok(OrgContext::default());
        };
        let realm = ctx.realm.id;
        let format = client.org.claim_format;
        match selection {
            OrgSelection::All => {
                let all = self
                    .store()
                    .list_user_memberships(realm, user, false)
                    .await?;
                Ok(OrgContext::of(&all, format, false))
            }
            OrgSelection::Chosen(id) | OrgSelection::Required(id) => {
                match self.store().get_membership(realm, id, user, false).await? {
                    Some(m) => Ok(OrgContext::of(&[m], format, true)),
                    None if matches!(selection, OrgSelection::Required(_)) => {
                        Err(OAuthError::InvalidGrant(
                            "the user is no longer a member of the organization".into(),
                        ))
                    }
                    None => Ok(OrgContext::default()),
                }
            }
        }
    }

    /// The context of an organization's own service client (ORG-8): the organization
    /// must exist and be enabled, else the client may not get tokens.
    pub async fn client_org_context(
        &self,
        ctx: &RealmCtx,
        client: &Client,
    ) -> Result<OrgContext, OAuthError> {
        let Some(id) = client.org.bound_to else {
            return Ok(OrgContext::default());
        };
        let org = self
            .store()
            .get_org(ctx.realm.id, id)
            .await?
            .filter(|o| o.enabled)
            .ok_or_else(|| {
                OAuthError::UnauthorizedClient("the client's organization is disabled".into())
            })?;
        if !ctx.realm.organizations_enabled {
            return Ok(OrgContext::default());
        }
        Ok(OrgContext::of_org(&org, client.org.claim_format))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::UnixTime;

    fn m(alias: &str, roles: &[&str]) -> Membership {
        Membership {
            org_id: OrgId::new_v7(),
            alias: OrgAlias::parse(alias).unwrap(),
            org_name: alias.to_uppercase(),
            user_id: UserId::new_v7(),
            roles: roles
                .iter()
                .map(|r| OrgRoleName::parse(r).unwrap())
                .collect(),
            managed: false,
            created_at: UnixTime(0),
        }
    }

    #[test]
    fn map_claim_has_one_key_per_organization_with_id_and_roles() {
        let acme = m("acme", &["admin"]);
        let c = OrgContext::of(
            &[acme.clone(), m("globex", &[])],
            OrgClaimFormat::Map,
            false,
        );
        let json = serde_json::to_value(c.claim.unwrap()).unwrap();
        assert_eq!(json["acme"]["id"], acme.org_id.to_string());
        assert_eq!(json["acme"]["roles"], serde_json::json!(["admin"]));
        assert_eq!(json["globex"]["roles"], serde_json::json!([]));
        assert_eq!(c.org_id, None, "org_id only when exactly one is active");
    }

    #[test]
    fn list_claim_is_the_aliases_and_single_context_sets_org_id() {
        let acme = m("acme", &["admin"]);
        let c = OrgContext::of(std::slice::from_ref(&acme), OrgClaimFormat::List, true);
        assert_eq!(
            serde_json::to_value(c.claim.unwrap()).unwrap(),
            serde_json::json!(["acme"])
        );
        assert_eq!(c.org_id, Some(acme.org_id));
    }

    #[test]
    fn without_org_scopes_drops_every_form() {
        let s = ScopeSet::parse("openid organization organization:acme organizations").unwrap();
        assert_eq!(without_org_scopes(&s).to_string(), "openid organizations");
    }
}
