use crate::DomainError;
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// Primary key of a realm. Every repository call below the realm takes one.
    RealmId
);
uuid_id!(
    /// Server-assigned identifier of a client row (what the admin API addresses).
    ClientUuid
);
uuid_id!(
    /// Primary key of a user; also the user's `sub`.
    UserId
);
uuid_id!(
    /// Primary key of an authorization grant: one user's authorization of one client,
    /// the family of its codes and refresh tokens.
    GrantId
);
uuid_id!(
    /// Primary key of a browser (SSO) session.
    SessionId
);
uuid_id!(
    /// Primary key of an organization; the `org_id` claim.
    OrgId
);
uuid_id!(
    /// Primary key of an organization role template.
    OrgRoleId
);
uuid_id!(
    /// Primary key of an invitation to an organization.
    InvitationId
);
uuid_id!(
    /// Primary key of an upstream identity provider of a realm.
    IdpId
);

/// `[A-Za-z0-9_-]{1,64}`: realm names appear in URL paths and issuers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RealmName(String);

impl RealmName {
    /// The realm whose administrators administer every realm.
    pub const MASTER: &'static str = "master";

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "realm",
                "use 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RealmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The OAuth `client_id`: 1..=128 visible ASCII characters (RFC 6749 A.1 allows VSCHAR;
/// we leave out space so ids survive logs and CLI arguments unquoted), or a client ID
/// metadata document URL of up to 2048 (draft-ietf-oauth-client-id-metadata-document).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

/// The longest client ID metadata document URL we take as a `client_id`.
pub const MAX_METADATA_URL_LEN: usize = 2048;

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let visible = !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if visible && (s.len() <= 128 || Self::document_url(s).is_some()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "client_id",
                "use 1 to 128 visible ASCII characters, or a metadata document URL",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL of the client's metadata document when the id is one: http(s), a host, a
    /// path other than `/`, no user information or fragment, and written in normal form (so
    /// one document has one id). Whether http and private hosts may be fetched is the
    /// outbound guard's decision.
    pub fn metadata_url(&self) -> Option<url::Url> {
        Self::document_url(&self.0)
    }

    fn document_url(s: &str) -> Option<url::Url> {
        if s.len() > MAX_METADATA_URL_LEN
            || !(s.starts_with("https://") || s.starts_with("http://"))
        {
            return None;
        }
        let url = url::Url::parse(s).ok()?;
        let ok = url.as_str() == s
            && url.host().is_some()
            && url.path() != "/"
            && url.username().is_empty()
            && url.password().is_none()
            && url.fragment().is_none();
        ok.then_some(url)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metadata_document_url_may_be_a_long_client_id_in_normal_form_only() {
        let long = format!("https://mcp.example/{}", "a".repeat(1500));
        let id = ClientId::parse(&long).unwrap();
        assert_eq!(id.metadata_url().unwrap().as_str(), long);
        assert!(
            ClientId::parse("https://mcp.example/client.json")
                .unwrap()
                .metadata_url()
                .is_some()
        );
        assert!(ClientId::parse("my-app").unwrap().metadata_url().is_none());
        // Short ids that are not document URLs stay plain ids.
        assert!(
            ClientId::parse("https://mcp.example/")
                .unwrap()
                .metadata_url()
                .is_none()
        );
        assert!(
            ClientId::parse("https://MCP.example/x")
                .unwrap()
                .metadata_url()
                .is_none()
        );
        for bad in [
            format!("https://mcp.example/{}", "a".repeat(2048)),
            format!("https://u@mcp.example/{}", "a".repeat(200)),
            format!("https://mcp.example/{}#f", "a".repeat(200)),
            format!("https://mcp.example/a/../{}", "a".repeat(200)),
            format!("ftp://mcp.example/{}", "a".repeat(200)),
            format!("https://mcp.example/{} x", "a".repeat(200)),
        ] {
            assert!(ClientId::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn realm_name_rejects_path_characters_and_empty() {
        assert!(RealmName::parse("demo").is_ok());
        assert!(RealmName::parse("my_realm-2").is_ok());
        for bad in ["", "a/b", "a b", "..", "é", &"x".repeat(65)] {
            assert!(RealmName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn client_id_rejects_space_and_control_characters() {
        assert!(ClientId::parse("demo-service").is_ok());
        assert!(ClientId::parse("urn:x:y").is_ok());
        for bad in ["", "a b", "a\nb", "\u{7f}", &"x".repeat(129)] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
