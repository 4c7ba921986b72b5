//! Command-line options of the load generators in `examples/` (included with `#[path]`):
//! `--name value` or `--name=value`, `--header`, and every option also as an environment
//! variable `<PREFIX><NAME>` (upper case, `-` → `_`); the command line wins.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderValue;
use std::collections::BTreeMap;

pub struct Options {
    map: BTreeMap<String, String>,
    usage: &'static str,
    /// `--header`: print the markdown table header first.
    pub header: bool,
}

impl Options {
    /// The environment's `<env_prefix>…` variables, then this process's arguments.
    pub fn parse(env_prefix: &str, usage: &'static str) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix(env_prefix) {
                map.insert(name.to_lowercase().replace('_', "-"), v);
            }
        }
        let mut header = false;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--header" => header = true,
                "-h" | "--help" => return Err(usage.into()),
                _ => {
                    let name = a
                        .strip_prefix("--")
                        .ok_or_else(|| format!("unexpected argument {a}\n{usage}"))?;
                    let (name, value) = match name.split_once('=') {
                        Some((n, v)) => (n.to_owned(), v.to_owned()),
                        None => (
                            name.to_owned(),
                            args.next()
                                .ok_or_else(|| format!("--{name} needs a value"))?,
                        ),
                    };
                    map.insert(name, value);
                }
            }
        }
        Ok(Self { map, usage, header })
    }

    /// Option `k`, else `default`; required when there is no default.
    pub fn take(&mut self, k: &str, default: Option<&str>) -> Result<String, String> {
        self.map
            .remove(k)
            .or_else(|| default.map(str::to_owned))
            .ok_or_else(|| format!("--{k} is required\n{}", self.usage))
    }

    /// A finite, non-negative number.
    pub fn number(&mut self, k: &str, default: &str) -> Result<f64, String> {
        let v = self.take(k, Some(default))?;
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| format!("--{k}: not a number: {v}"))
    }
}

/// `Authorization: Basic …` for client_secret_basic; RFC 6749 §2.3.1 form-encodes id and
/// secret first.
pub fn basic_auth(client_id: &str, secret: &str) -> Result<HeaderValue, String> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    HeaderValue::from_str(&format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    ))
    .map_err(|e| e.to_string())
}
