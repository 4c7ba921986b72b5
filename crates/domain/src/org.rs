//! Organizations inside a realm: their members, domains, role templates and invitations,
//! and the `organization` scope that puts them into tokens.

use crate::{
    DomainError, Email, InvitationId, LogoUri, OrgId, OrgRoleId, RealmId, Scope, ScopeSet,
    UnixTime, UserAttributes, UserId,
};
use std::fmt;

/// The scope that asks for organization context; `organization:<alias>` and
/// `organization:*` are its parameterized forms.
pub const ORG_SCOPE: &str = "organization";

/// `[a-z0-9][a-z0-9-]{0,63}`, URL-safe, unique per realm. Never UUID-shaped, so a path
/// segment is an id or an alias without ambiguity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgAlias(String);

impl OrgAlias {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if is_slug(s, b"-") {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "alias",
                "use 1 to 64 characters of a-z, 0-9 and '-', not starting with '-'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 1 to 64 of `a-z`, `0-9` and the `extra` punctuation, starting with a letter or digit,
/// and not shaped like a UUID: a URL path segment that is never mistaken for an id.
pub(crate) fn is_slug(s: &str, extra: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
        && uuid::Uuid::parse_str(s).is_err()
}

impl fmt::Display for OrgAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A DNS name an organization claims (`acme.com`): lower-cased ASCII labels.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        // No trailing root dot: one spelling per name, and one the admin API's schema states.
        let s = s.to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if s.len() <= 253 && s.contains('.') && s.split('.').all(label_ok) {
            Ok(Self(s))
        } else {
            Err(DomainError::new(
                "domain",
                "use a DNS name such as example.com (ASCII labels; IDNs in punycode)",
            ))
        }
    }

    /// The domain part of an e-mail address, if it is a valid domain name.
    pub fn of_email(email: &str) -> Option<Self> {
        let (_, domain) = email.rsplit_once('@')?;
        Self::parse(domain).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization role name: one scope-like token, at most 64 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgRoleName(String);

impl OrgRoleName {
    /// The role that lets a member administer their own organization.
    pub const ADMIN: &'static str = "admin";
    pub const MEMBER: &'static str = "member";
    /// The role templates every realm starts with, with their descriptions.
    pub const TEMPLATES: [(&'static str, &'static str); 2] = [
        (Self::ADMIN, "Manages the organization"),
        (Self::MEMBER, "Belongs to the organization"),
    ];

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "role",
                "use 1 to 64 characters of A-Z, a-z, 0-9, '-', '_', '.' and ':'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub realm_id: RealmId,
    pub alias: OrgAlias,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub attributes: UserAttributes,
    /// The organization's id at its own identity provider (what an upstream's `org_id`
    /// claim names); unique within the realm.
    pub external_id: Option<String>,
    /// Shown on the sign-in pages of logins for this organization.
    pub logo_uri: Option<LogoUri>,
    pub created_at: UnixTime,
}

/// What an administrator supplies to create or replace an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrganization {
    pub alias: OrgAlias,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub attributes: UserAttributes,
    pub external_id: Option<String>,
    pub logo_uri: Option<LogoUri>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgDomain {
    pub name: DomainName,
    /// Only verified domains route logins (`login_hint`) to the organization.
    pub verified: bool,
}

/// A role template of the realm, assignable to members of any of its organizations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRole {
    pub id: OrgRoleId,
    pub realm_id: RealmId,
    pub name: OrgRoleName,
    pub description: Option<String>,
}

/// One user's membership of one organization, with the organization it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub org_id: OrgId,
    pub alias: OrgAlias,
    pub org_name: String,
    pub user_id: UserId,
    pub roles: Vec<OrgRoleName>,
    /// Created through the organization's identity provider: the user is deleted with
    /// the organization. Unmanaged members are only unlinked.
    pub managed: bool,
    pub created_at: UnixTime,
}

/// A member as an organization's member list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub username: String,
    pub email: Option<String>,
    pub roles: Vec<OrgRoleName>,
    pub managed: bool,
    pub created_at: UnixTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "pending" => Ok(Self::Pending),
            "accepted" => Ok(Self::Accepted),
            "expired" => Ok(Self::Expired),
            "revoked" => Ok(Self::Revoked),
            _ => Err(DomainError::new(
                "status",
                "use pending, accepted, expired or revoked",
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub realm_id: RealmId,
    pub org_id: OrgId,
    pub email: Email,
    pub roles: Vec<OrgRoleName>,
    /// As stored; a pending invitation past `expires_at` reads as expired (see `status_at`).
    pub status: InvitationStatus,
    /// The id of the current link's token: resending replaces it, so older links die.
    pub jti: String,
    /// The current link went to the invited address by e-mail: accepting it proves the
    /// address. A link handed to an administrator proves nothing about it.
    pub delivered: bool,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
}

impl Invitation {
    pub fn status_at(&self, now: UnixTime) -> InvitationStatus {
        match self.status {
            InvitationStatus::Pending if self.expires_at <= now => InvitationStatus::Expired,
            s => s,
        }
    }
}

/// Which organizations an `organization` scope asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgScope {
    /// `organization`: one, picked by the user when they belong to several.
    Any,
    /// `organization:<alias>`: that one; the user must be a member.
    One(OrgAlias),
    /// `organization:*`: every membership.
    All,
}

impl OrgScope {
    /// The organization request inside a scope set, if any. A parameterized form wins
    /// over the plain scope; two different parameterized forms are refused.
    pub fn from_scopes(scopes: &ScopeSet) -> Result<Option<Self>, DomainError> {
        let mut found: Option<Self> = None;
        for s in scopes.iter() {
            let this = match s.as_str().strip_prefix(ORG_SCOPE) {
                Some("") => Self::Any,
                Some(":*") => Self::All,
                Some(rest) => match rest.strip_prefix(':') {
                    Some(alias) => Self::One(OrgAlias::parse(alias)?),
                    None => continue,
                },
                None => continue,
            };
            found = match (found, this) {
                (None, t) | (Some(Self::Any), t) => Some(t),
                (Some(f), Self::Any) => Some(f),
                (Some(f), t) if f == t => Some(f),
                _ => {
                    return Err(DomainError::new(
                        "scope",
                        "ask for one organization:<alias> or for organization:*, not several",
                    ));
                }
            };
        }
        Ok(found)
    }

    /// `organization:<alias>`, `organization:*` and `organization` all need the client
    /// to hold the plain `organization` scope.
    pub fn is_org_scope(s: &Scope) -> bool {
        s.as_str() == ORG_SCOPE
            || s.as_str()
                .strip_prefix(ORG_SCOPE)
                .is_some_and(|r| r.starts_with(':'))
    }
}

/// The organization context a grant (and each refresh token) carries, by organization id
/// so renaming an alias does not break it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrgSelection {
    /// Picked by the user (or pre-selected) for the plain `organization` scope: if the
    /// membership ends, the organization drops out of the claim.
    Chosen(OrgId),
    /// Asked for by `organization:<alias>`: if the membership ends, the grant fails.
    Required(OrgId),
    /// `organization:*`.
    All,
}

impl OrgSelection {
    pub fn to_db(self) -> String {
        match self {
            Self::Chosen(id) => format!("chosen:{id}"),
            Self::Required(id) => format!("required:{id}"),
            Self::All => "all".into(),
        }
    }
    pub fn from_db(s: &str) -> Result<Self, DomainError> {
        let id = |v: &str| {
            uuid::Uuid::parse_str(v)
                .map(OrgId)
                .map_err(|_| DomainError::new("organization", "not an organization id"))
        };
        match s.split_once(':') {
            None if s == "all" => Ok(Self::All),
            Some(("chosen", v)) => Ok(Self::Chosen(id(v)?)),
            Some(("required", v)) => Ok(Self::Required(id(v)?)),
            _ => Err(DomainError::new("organization", "unknown selection")),
        }
    }
    /// The one active organization, if the selection names one.
    pub fn single(self) -> Option<OrgId> {
        match self {
            Self::Chosen(id) | Self::Required(id) => Some(id),
            Self::All => None,
        }
    }
}

/// How a client wants the `organization` claim: Keycloak's map (default) or a list of aliases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrgClaimFormat {
    #[default]
    Map,
    List,
}

impl OrgClaimFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Map => "map",
            Self::List => "list",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "map" => Ok(Self::Map),
            "list" => Ok(Self::List),
            _ => Err(DomainError::new("organization_claim", "use map or list")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org_scope(s: &str) -> Result<Option<OrgScope>, DomainError> {
        OrgScope::from_scopes(&ScopeSet::parse(s).unwrap())
    }

    #[test]
    fn alias_is_url_safe_lowercase_and_never_uuid_shaped() {
        assert!(OrgAlias::parse("acme-42").is_ok());
        for bad in [
            "",
            "Acme",
            "-acme",
            "a b",
            "a/b",
            "a.b",
            "0190a5a2-7c2b-7a6e-8a5e-3c1f2b9d4e11",
            &"a".repeat(65),
        ] {
            assert!(OrgAlias::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn domain_names_are_lowercased_and_need_a_dot() {
        assert_eq!(DomainName::parse("Acme.COM").unwrap().as_str(), "acme.com");
        for bad in [
            "localhost",
            "a..b",
            "-a.com",
            "a_b.com",
            "exa mple.com",
            "",
            "acme.com.",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            DomainName::of_email("Jo@Acme.com").unwrap().as_str(),
            "acme.com"
        );
        assert!(DomainName::of_email("jo").is_none());
    }

    #[test]
    fn organization_scope_forms_parse_and_the_parameterized_form_wins() {
        assert_eq!(org_scope("openid").unwrap(), None);
        assert_eq!(org_scope("organization").unwrap(), Some(OrgScope::Any));
        assert_eq!(org_scope("organization:*").unwrap(), Some(OrgScope::All));
        assert_eq!(
            org_scope("organization organization:acme").unwrap(),
            Some(OrgScope::One(OrgAlias::parse("acme").unwrap()))
        );
        // Not our scope: a different word that starts the same.
        assert_eq!(org_scope("organizations").unwrap(), None);
        assert!(org_scope("organization:acme organization:globex").is_err());
        assert!(org_scope("organization:acme organization:*").is_err());
        assert!(org_scope("organization:Bad!").is_err());
    }

    #[test]
    fn selection_round_trips_through_its_stored_form() {
        let id = OrgId::new_v7();
        for s in [
            OrgSelection::Chosen(id),
            OrgSelection::Required(id),
            OrgSelection::All,
        ] {
            assert_eq!(OrgSelection::from_db(&s.to_db()).unwrap(), s);
        }
        assert!(OrgSelection::from_db("chosen:nope").is_err());
        assert!(OrgSelection::from_db("").is_err());
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_reads_expired() {
        let inv = Invitation {
            id: InvitationId::new_v7(),
            realm_id: RealmId::new_v7(),
            org_id: OrgId::new_v7(),
            email: Email::parse("a@b.example").unwrap(),
            roles: vec![],
            status: InvitationStatus::Pending,
            jti: "j".into(),
            delivered: false,
            expires_at: UnixTime(100),
            created_at: UnixTime(0),
        };
        assert_eq!(inv.status_at(UnixTime(99)), InvitationStatus::Pending);
        assert_eq!(inv.status_at(UnixTime(100)), InvitationStatus::Expired);
    }
}
