use crate::{DomainError, RealmId, UnixTime};
use std::fmt;

/// JWS algorithms a realm signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlg {
    Rs256,
    Es256,
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    /// The JOSE `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| DomainError::new("alg", "use RS256, ES256 or EdDSA"))
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Active keys sign; passive keys only verify (and stay in JWKS); retired keys are gone from both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Passive,
    Retired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Passive => "passive",
            KeyStatus::Retired => "retired",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "active" => Ok(Self::Active),
            "passive" => Ok(Self::Passive),
            "retired" => Ok(Self::Retired),
            _ => Err(DomainError::new("status", "use active, passive or retired")),
        }
    }
}

/// A signing key as stored: the private part is sealed under the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub realm_id: RealmId,
    pub kid: String,
    pub alg: SigningAlg,
    pub status: KeyStatus,
    pub sealed_private_key: Vec<u8>,
    pub created_at: UnixTime,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("realm_id", &self.realm_id)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}
