//! `tessera admin-key …`: scoped admin keys (biscuit) of a realm.

use clap::Subcommand;
use std::io::Write;
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;
use tessera_oidc::admin::admin_keys::NewAdminKey;

#[derive(Subcommand)]
pub enum AdminKeyCmd {
    /// Mint an admin key; prints `key <base64>`, `id <revocation id>` and the realm's
    /// root `public-key ed25519/<hex>` (the key is shown only here).
    Create {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The organization (alias or id) the key administers, like its administrator;
        /// without it the key administers the realm.
        #[arg(long)]
        organization: Option<String>,
        /// The key only reads (GET and HEAD).
        #[arg(long)]
        read_only: bool,
        /// Seconds until the key expires (60 to 31536000); without it, it does not expire.
        #[arg(long)]
        expires_in: Option<u64>,
        /// A name to recognise the key by in the list.
        #[arg(long)]
        name: Option<String>,
    },
    /// List a realm's admin keys: id, scope, rights, expiry, state, name (never the keys).
    List {
        /// The realm's name.
        #[arg(long)]
        realm: String,
    },
    /// Revoke an admin key: it and every key derived from it stop working at once.
    Revoke {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The key's revocation id, as `create` printed it and `list` shows it.
        id: String,
    },
}

pub async fn run(p: &Provider, cmd: AdminKeyCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        AdminKeyCmd::Create {
            realm,
            organization,
            read_only,
            expires_in,
            name,
        } => {
            let new = NewAdminKey {
                read_only,
                expires_in,
                name,
            };
            let m = p
                .mint_admin_key(op, &realm, organization.as_deref(), new)
                .await?;
            writeln!(out, "key {}", m.key)?;
            writeln!(out, "id {}", m.record.revocation_id)?;
            writeln!(out, "public-key {}", m.public_key)?;
        }
        AdminKeyCmd::List { realm } => {
            for k in p.list_admin_keys(op, &realm, None).await? {
                let scope = k
                    .org
                    .map_or_else(|| "realm".to_owned(), |o| format!("organization {o}"));
                let rights = if k.read_only { "read" } else { "read,write" };
                let expires = k
                    .expires_at
                    .map_or_else(|| "never".to_owned(), |t| t.0.to_string());
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                writeln!(
                    out,
                    "{}\t{scope}\t{rights}\texpires {expires}\t{state}\t{}",
                    k.revocation_id,
                    k.name.as_deref().unwrap_or("")
                )?;
            }
        }
        AdminKeyCmd::Revoke { realm, id } => {
            p.revoke_admin_key(op, &realm, None, &id).await?;
            writeln!(out, "revoked admin key {id}")?;
        }
    }
    Ok(())
}
