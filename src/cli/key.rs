//! `tessera key …`: a realm's signing keys.

use clap::Subcommand;
use std::io::Write;
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;

#[derive(Subcommand)]
pub enum KeyCmd {
    /// New active keys for every algorithm; the old ones stay in JWKS as passive.
    Rotate {
        /// The realm's name.
        #[arg(long)]
        realm: String,
    },
    /// List a realm's signing keys: kid, algorithm, status.
    List {
        /// The realm's name.
        #[arg(long)]
        realm: String,
    },
    /// Remove a passive key from JWKS; tokens it signed stop verifying.
    Retire {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The key's id (`kid`), as `tessera key list` shows it.
        #[arg(long)]
        kid: String,
    },
}

pub async fn run(p: &Provider, cmd: KeyCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        KeyCmd::Rotate { realm } => {
            for kid in p.rotate_keys(op, &realm).await? {
                writeln!(out, "new active key {kid}")?;
            }
        }
        KeyCmd::List { realm } => {
            for k in p.list_keys(op, &realm).await? {
                writeln!(out, "{}\t{}\t{}", k.kid, k.alg, k.status.as_str())?;
            }
        }
        KeyCmd::Retire { realm, kid } => {
            p.retire_key(op, &realm, &kid).await?;
            writeln!(out, "retired key {kid}")?;
        }
    }
    Ok(())
}
