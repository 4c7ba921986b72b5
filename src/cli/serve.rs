//! `tessera serve` and `tessera init`: the flags that override configuration, and the first
//! start's message.

use clap::Args;
use std::io::Write;
use tessera::config::Settings;
use tessera_oidc::admin::seed::{Seeded, SeededKind};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
    /// HTTP worker threads (default: available CPUs).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Address of the Prometheus /metrics listener (default 127.0.0.1:9464).
    #[arg(long)]
    pub metrics_listen: Option<String>,
    /// A proxy (address or CIDR block) whose X-Forwarded-For names the client, such as
    /// the load balancer in front of the replicas (repeatable; default none).
    #[arg(long = "trusted-proxy")]
    pub trusted_proxies: Vec<String>,
}

pub fn print_seeded(
    out: &mut impl Write,
    seeded: &[Seeded],
    settings: &Settings,
) -> std::io::Result<()> {
    if seeded.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "First start: seeded realms, clients and users. The secrets are shown only this once."
    )?;
    for s in seeded {
        let (what, secret) = match s.kind {
            SeededKind::Client => ("client_id", "secret  "),
            SeededKind::User => ("username ", "password"),
        };
        writeln!(
            out,
            "  realm {:<8} {what} {:<14} {secret} {}",
            s.realm, s.name, s.secret
        )?;
    }
    let base = settings.public_url.trim_end_matches('/');
    let find = |name: &str| seeded.iter().find(|s| s.name == name);
    if let Some(d) = find("demo-service") {
        writeln!(
            out,
            "Try: curl -u {}:{} -d grant_type=client_credentials {base}/realms/demo/protocol/openid-connect/token",
            d.name, d.secret
        )?;
    }
    if find("demo-app").is_some() {
        writeln!(
            out,
            "Sign in as user demo in a browser: {base}/realms/demo/protocol/openid-connect/auth?client_id=demo-app&response_type=code&scope=openid%20profile%20email&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcb&state=xyz"
        )?;
    }
    if find("admin").is_some() {
        writeln!(
            out,
            "Administer in a browser: {base}/admin/console/ (user admin of realm master)"
        )?;
    }
    out.flush()
}
