//! Layered configuration: command-line flags > `TESSERA_*` environment > TOML file > defaults.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to bind, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// Public base URL; issuers are `{public_url}/realms/{realm}`. Never taken from request headers.
    pub public_url: String,
    /// Where the SQLite database and the generated master key live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Base64 of 32 bytes sealing signing keys at rest; default: `data_dir/master.key`, generated on first start.
    pub master_key: Option<String>,
    /// HTTP worker threads (default: one per CPU available to the process).
    pub workers: Option<usize>,
    pub db_max_connections: u32,
    /// Address of the Prometheus `/metrics` listener, apart from the public one so that
    /// it can stay on loopback or an internal network.
    pub metrics_listen: String,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client, e.g. the
    /// load balancer in front of several replicas. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    /// Let calls to other servers (back-channel logout, upstream providers) use `http` and
    /// reach loopback, private and link-local addresses: development only.
    pub outbound_allow_private: bool,
    /// A PEM file of extra certificate authorities that calls to other servers trust
    /// besides the system's (a company CA in front of an upstream provider or a client's
    /// `jwks_uri`).
    pub outbound_ca_file: Option<PathBuf>,
    /// The name server (`address:port`) asked for the TXT records that verify an
    /// organization's domains; default: the system's resolvers.
    pub dns_server: Option<std::net::SocketAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            master_key: None,
            workers: None,
            db_max_connections: 10,
            metrics_listen: "127.0.0.1:9464".into(),
            trusted_proxies: Vec::new(),
            outbound_allow_private: false,
            outbound_ca_file: None,
            dns_server: None,
        }
    }
}

/// Values given on the command line; `None` leaves lower layers in charge.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<Vec<String>>,
}

const ENV_KEYS: &[&str] = &[
    "listen",
    "public_url",
    "data_dir",
    "database_url",
    "master_key",
    "workers",
    "db_max_connections",
    "metrics_listen",
    "trusted_proxies",
    "outbound_allow_private",
    "outbound_ca_file",
    "dns_server",
];

impl Settings {
    /// Loads settings; `file` is an optional TOML file (missing file = no layer).
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        fig.merge(Env::prefixed("TESSERA_").only(ENV_KEYS))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    /// Checks what a later failure would only hint at (an issuer without a scheme).
    pub fn validate(&self) -> Result<(), String> {
        let bad = || {
            format!(
                "public_url must be an absolute http or https URL such as https://id.example.com \
                 (got {:?})",
                self.public_url
            )
        };
        let u = url::Url::parse(&self.public_url).map_err(|_| bad())?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(bad());
        }
        self.trusted_proxy_nets()?;
        if u.query().is_some() || u.fragment().is_some() || !u.username().is_empty() {
            return Err(format!(
                "public_url must not carry a query, fragment or user name (got {:?})",
                self.public_url
            ));
        }
        Ok(())
    }

    /// The trusted proxies as networks (a bare address is a network of one).
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("trusted_proxies: {p:?} is not an address or CIDR block"))
            })
            .collect()
    }

    /// Whether the database is the embedded SQLite file (one server per data directory).
    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("tessera.db").display()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure type.
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_environment_and_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "listen = \"0.0.0.0:1\"\npublic_url = \"https://file\"\nworkers = 3",
            )?;
            jail.set_env("TESSERA_PUBLIC_URL", "https://env");
            jail.set_env("TESSERA_TEST_DATABASE_URL", "ignored");
            let o = Overrides {
                listen: Some("127.0.0.1:2".into()),
                ..Default::default()
            };
            let s = Settings::load(Some(Path::new("t.toml")), &o).unwrap();
            assert_eq!(s.listen, "127.0.0.1:2");
            assert_eq!(s.public_url, "https://env");
            assert_eq!(s.workers, Some(3));
            Ok(())
        });
    }

    #[test]
    fn public_url_must_be_an_absolute_http_url() {
        let with = |u: &str| Settings {
            public_url: u.into(),
            ..Settings::default()
        };
        for bad in [
            "127.0.0.1:18085",
            "id.example.com",
            "ftp://x",
            "https://",
            "https://x/?a=1",
        ] {
            assert!(with(bad).validate().is_err(), "{bad}");
        }
        for good in ["http://127.0.0.1:18085", "https://id.example.com/auth"] {
            assert!(with(good).validate().is_ok(), "{good}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_cidr_blocks() {
        let with = |p: &[&str]| Settings {
            trusted_proxies: p.iter().map(|s| (*s).to_owned()).collect(),
            ..Settings::default()
        };
        let nets = with(&["127.0.0.1", "10.0.0.0/8", "::1"])
            .trusted_proxy_nets()
            .unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[0].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(!nets[0].contains(&"127.0.0.2".parse::<std::net::IpAddr>().unwrap()));
        assert!(with(&["nope"]).validate().is_err());
        assert!(with(&["10.0.0.0/33"]).validate().is_err());
    }

    #[test]
    fn outbound_private_addresses_are_refused_unless_the_environment_allows_them() {
        figment::Jail::expect_with(|jail| {
            let load = || Settings::load(None, &Overrides::default()).unwrap();
            assert!(!load().outbound_allow_private);
            jail.set_env("TESSERA_OUTBOUND_ALLOW_PRIVATE", "true");
            assert!(load().outbound_allow_private);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "lisen = \"x\"")?;
            assert!(Settings::load(Some(Path::new("t.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }
}
