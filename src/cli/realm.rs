//! `tessera realm …`: realms, straight in the database (as the operator).

use clap::Subcommand;
use std::io::Write;
use tessera_domain::{RealmSettings, SigningAlg};
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;

#[derive(Subcommand)]
pub enum RealmCmd {
    Create {
        name: String,
        /// Access-token signing algorithm: RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        access_token_alg: String,
        #[arg(long, default_value_t = 300)]
        access_token_lifetime: i64,
    },
    List,
    Delete {
        name: String,
    },
}

pub async fn run(p: &Provider, cmd: RealmCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        RealmCmd::Create {
            name,
            access_token_alg,
            access_token_lifetime,
        } => {
            let s = RealmSettings {
                enabled: true,
                access_token_alg: SigningAlg::parse(&access_token_alg)?,
                access_token_lifetime_secs: access_token_lifetime,
                ..RealmSettings::default()
            };
            let r = p.create_realm(op, &name, s).await?;
            writeln!(
                out,
                "created realm {} ({}), issuer {}",
                r.name,
                r.id,
                p.issuer_for(&r.name)
            )?;
        }
        RealmCmd::List => {
            let mut after = None;
            loop {
                let page = p.list_realms(op, after.clone(), Some(500)).await?;
                for r in &page {
                    writeln!(
                        out,
                        "{}\t{}\t{}",
                        r.name,
                        if r.enabled { "enabled" } else { "disabled" },
                        r.access_token_alg
                    )?;
                }
                match page.last() {
                    Some(r) if page.len() == 500 => after = Some(r.name.to_string()),
                    _ => break,
                }
            }
        }
        RealmCmd::Delete { name } => {
            p.delete_realm(op, &name).await?;
            writeln!(out, "deleted realm {name}")?;
        }
    }
    Ok(())
}
