use crate::DomainError;
use std::collections::BTreeSet;
use std::fmt;

/// One scope token: 1*NQCHAR (RFC 6749 §3.3), at most 256 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let nqchar = |b: u8| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
        if !s.is_empty() && s.len() <= 256 && s.bytes().all(nqchar) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "scope",
                format!("{s:?} is not a scope token"),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A set of scopes; order-insensitive, displayed space-separated in sorted order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-delimited `scope` parameter. Empty tokens from repeated
    /// spaces are refused: RFC 6749 §3.3 delimits with exactly one space.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.is_empty() {
            return Ok(Self::default());
        }
        s.split(' ')
            .map(Scope::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Parses a list in which every element must be exactly one scope token.
    pub fn from_list<S: AsRef<str>>(items: &[S]) -> Result<Self, DomainError> {
        items
            .iter()
            .map(|s| Scope::parse(s.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn from_scopes(items: impl IntoIterator<Item = Scope>) -> Self {
        Self(items.into_iter().collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }
    pub fn contains(&self, s: &str) -> bool {
        self.0.iter().any(|x| x.0 == s)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
    /// Scopes of `self` that `allowed` does not contain.
    pub fn not_in<'a>(&'a self, allowed: &'a ScopeSet) -> impl Iterator<Item = &'a Scope> {
        self.0.difference(&allowed.0)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&s.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_set_parses_space_delimited_tokens_and_sorts_them() {
        let s = ScopeSet::parse("b a b").unwrap();
        assert_eq!(s.to_string(), "a b");
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn scope_set_rejects_quotes_backslashes_and_double_spaces() {
        for bad in ["a\"b", "a\\b", "a  b", " a", "a\tb", "é"] {
            assert!(ScopeSet::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn list_elements_must_each_be_one_token() {
        assert_eq!(ScopeSet::from_list(&["b", "a"]).unwrap().to_string(), "a b");
        assert!(ScopeSet::from_list(&["a b"]).is_err());
    }

    #[test]
    fn subset_and_difference() {
        let want = ScopeSet::parse("a c").unwrap();
        let allowed = ScopeSet::parse("a b").unwrap();
        assert!(!want.is_subset(&allowed));
        assert_eq!(
            want.not_in(&allowed)
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
            ["c"]
        );
    }
}
