//! How a realm (and an organization) presents itself on the sign-in pages.

use crate::DomainError;
use url::Url;

/// A logo shown on the sign-in pages: an `https` URL (a page served over https must not
/// load images over http), without credentials or fragment, at most 2048 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoUri(Url);

impl LogoUri {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::new("logo_uri", why.to_owned());
        if s.len() > 2048 {
            return Err(err("longer than 2048 characters"));
        }
        if s.contains(char::is_whitespace) {
            return Err(err("must not contain white space"));
        }
        let url = Url::parse(s).map_err(|_| err("must be an absolute https URL"))?;
        if url.scheme() != "https" || url.host_str().is_none() {
            return Err(err("must be an absolute https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain credentials"));
        }
        if url.fragment().is_some() {
            return Err(err("must not contain a fragment"));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `https://host[:port]`: what a page's `img-src` must allow to show it.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

/// The name people read on the sign-in pages instead of the realm's technical name:
/// 1 to 128 characters, no control characters, no surrounding white space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::new("display_name", why.to_owned());
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 128 {
            return Err(err("must be 1 to 128 characters"));
        }
        if t.chars().any(char::is_control) {
            return Err(err("must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A realm's branding; unset parts fall back to the realm's name and no logo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    pub display_name: Option<DisplayName>,
    pub logo_uri: Option<LogoUri>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_must_be_plain_https_urls() {
        assert!(LogoUri::parse("https://cdn.example.com/logo.svg").is_ok());
        for bad in [
            "http://cdn.example.com/logo.svg",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "https://user:pw@cdn.example.com/l.png",
            "https://cdn.example.com/l.png#x",
            "https://cdn.example.com/a b.png",
            "/static/logo.png",
        ] {
            assert!(LogoUri::parse(bad).is_err(), "{bad}");
        }
        let l = LogoUri::parse("https://cdn.example.com:8443/l.png").unwrap();
        assert_eq!(l.origin(), "https://cdn.example.com:8443");
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Acme Corp ").unwrap().as_str(),
            "Acme Corp"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(129)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }
}
