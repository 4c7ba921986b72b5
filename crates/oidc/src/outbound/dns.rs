//! TXT lookups, for proving control of a domain: hickory-resolver over the system's
//! resolver configuration, or over the one name server configured (`dns_server`, also how
//! the tests point it at a server of their own), with a deadline and a cap on what is
//! read.

use super::OutboundError;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{ResolveErrorKind, TokioResolver};
use std::net::SocketAddr;
use std::time::Duration;

/// At most this many TXT strings of a name are looked at.
const MAX_RECORDS: usize = 32;

#[derive(Clone)]
pub struct TxtResolver {
    inner: TokioResolver,
}

impl TxtResolver {
    /// A resolver asking `server`, or the system's name servers. Answers are not cached:
    /// a record just published must be seen at once.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Self, String> {
        let builder = match server {
            Some(addr) => TokioResolver::builder_with_config(
                ResolverConfig::from_parts(
                    None,
                    vec![],
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
                ),
                TokioConnectionProvider::default(),
            ),
            None => TokioResolver::builder_tokio()
                .map_err(|e| format!("the system's DNS configuration is unusable: {e}"))?,
        };
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        Ok(Self {
            inner: builder.with_options(opts).build(),
        })
    }

    /// The TXT strings published at `name` (each record's strings joined, RFC 7208 §3.3);
    /// none when the name has no TXT record.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, OutboundError> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.inner.txt_lookup(fqdn).await {
            Ok(found) => Ok(found
                .iter()
                .take(MAX_RECORDS)
                .map(|t| {
                    t.txt_data()
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>()
                })
                .collect()),
            Err(e) if e.is_no_records_found() => Ok(vec![]),
            Err(e) => match e.kind() {
                ResolveErrorKind::Proto(p) if p.is_no_records_found() => Ok(vec![]),
                _ => Err(OutboundError::Transport(format!("DNS: {e}"))),
            },
        }
    }
}
