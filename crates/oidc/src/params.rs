//! `application/x-www-form-urlencoded` request bodies, parsed strictly: UTF-8 only,
//! no repeated parameters (RFC 6749 §3.2), empty values treated as absent (§3.1).

use crate::OAuthError;
use percent_encoding::percent_decode;

/// Upper bound on parameters in one request; more is never legitimate.
pub const MAX_PARAMS: usize = 64;

#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a form body. Names listed in `repeatable` (e.g. RFC 8693 `audience`) may
    /// appear more than once; any other repetition is `invalid_request`.
    pub fn parse_form(body: &[u8], repeatable: &[&str]) -> Result<Self, OAuthError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            if out.len() == MAX_PARAMS {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            if !repeatable.contains(&name.as_str()) && out.iter().any(|(n, _)| *n == name) {
                return Err(OAuthError::InvalidRequest(
                    format!("parameter {} is repeated", printable(&name)).into(),
                ));
            }
            out.push((name, value));
        }
        Ok(Self(out))
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The parameter's value; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::InvalidRequest(format!("missing parameter {name}").into()))
    }
}

fn decode(raw: &[u8]) -> Result<String, OAuthError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| OAuthError::invalid_request("parameters must be UTF-8"))
}

/// A parameter name safe to echo in an error description.
fn printable(s: &str) -> String {
    s.chars()
        .take(40)
        .filter(|c| c.is_ascii_graphic())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_and_treats_empty_as_absent() {
        let p = Params::parse_form(b"a=x+y%21&b=&c", &[]).unwrap();
        assert_eq!(p.get("a"), Some("x y!"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), None);
        assert!(p.require("b").is_err());
    }

    #[test]
    fn rejects_repeated_parameters_unless_repeatable() {
        let e = Params::parse_form(b"scope=a&scope=b", &[]).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        let p = Params::parse_form(b"audience=a&audience=b", &["audience"]).unwrap();
        assert_eq!(p.get_all("audience").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn rejects_non_utf8_and_too_many_parameters() {
        assert!(Params::parse_form(b"a=%ff%fe", &[]).is_err());
        assert!(Params::parse_form(b"a=\xff", &[]).is_err());
        let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=1")).collect();
        assert!(Params::parse_form(many.join("&").as_bytes(), &[]).is_err());
    }
}
