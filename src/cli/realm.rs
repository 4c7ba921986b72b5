//! `tessera realm …`: realms, straight in the database (as the operator).

use clap::Subcommand;
use std::io::{BufRead, Write};
use tessera_domain::{
    DisplayName, Email, GrantType, LogoUri, RealmSettings, RegistrationMode, SigningAlg,
    SmtpSecurity, SmtpSettings,
};
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;

#[derive(Subcommand)]
pub enum RealmCmd {
    /// Create a realm (a tenant: its own issuer, keys, users and clients).
    Create {
        /// The realm's name: 1 to 64 characters of a-z, 0-9 and '-'.
        name: String,
        /// Access-token signing algorithm: RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        access_token_alg: String,
        /// Access token lifetime in seconds, 10 to 86400.
        #[arg(long, default_value_t = 300)]
        access_token_lifetime: i64,
    },
    /// List realms: name, enabled, access-token algorithm, issuer.
    List,
    /// Change a realm's branding, audit retention, device and CIBA lifetimes and dynamic
    /// client registration settings; what is not given stays.
    Update {
        /// The realm's name.
        name: String,
        /// The name the sign-in pages show (an empty value: the realm's name again).
        #[arg(long)]
        display_name: Option<String>,
        /// The logo the sign-in pages show: an https URL (an empty value: no logo).
        #[arg(long)]
        logo_uri: Option<String>,
        /// Days the audit log keeps an entry (1 to 3650; default 365).
        #[arg(long)]
        audit_retention_days: Option<i64>,
        /// How long a device code lives, in seconds (60 to 3600; default 600).
        #[arg(long)]
        device_code_lifetime: Option<i64>,
        /// Seconds a device must leave between polls (1 to 60; default 5).
        #[arg(long)]
        device_poll_interval: Option<i64>,
        /// The longest a CIBA request lives, in seconds (60 to 3600; default 300).
        #[arg(long)]
        ciba_lifetime: Option<i64>,
        /// Seconds a CIBA client must leave between polls (1 to 60; default 5).
        #[arg(long)]
        ciba_poll_interval: Option<i64>,
        /// Who may register clients: closed, initial-token (holders of an initial access
        /// token, `tessera client initial-token`) or open (anyone, within the limits below).
        #[arg(long, value_parser = ["closed", "initial-token", "open"])]
        registration: Option<String>,
        /// Open registration: a host (or private-use scheme) redirect URIs may name;
        /// repeat for more. Replaces the stored list.
        #[arg(long = "registration-allowed-host")]
        allowed_hosts: Vec<String>,
        /// Open registration: a scope registered clients may ask for; repeat for more.
        #[arg(long = "registration-allowed-scope")]
        allowed_scopes: Vec<String>,
        /// Open registration: authorization_code or refresh_token; repeat for both.
        #[arg(long = "registration-allowed-grant-type")]
        allowed_grant_types: Vec<String>,
        /// Open registration: most dynamically registered clients the realm holds.
        #[arg(long = "registration-max-clients")]
        max_clients: Option<u32>,
        /// Open registration: registrations per minute from one address.
        #[arg(long = "registration-rate-per-minute")]
        rate_per_minute: Option<u32>,
        /// What every self-registered client's tokens may be for: a resource URI (an MCP
        /// server's, say) or a client id of the realm; repeat for more.
        #[arg(long = "registration-audience")]
        audiences: Vec<String>,
    },
    /// Delete a realm with everything in it.
    Delete {
        /// The realm's name: 1 to 64 characters of a-z, 0-9 and '-'.
        name: String,
    },
    /// Set the realm's SMTP server (invitation links are e-mailed through it), or remove it.
    Smtp {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The SMTP server's host name.
        #[arg(long, required_unless_present = "remove")]
        host: Option<String>,
        /// Default 587 for starttls, 465 for tls.
        #[arg(long)]
        port: Option<u16>,
        /// starttls, tls, or none (only for a server on a loopback address).
        #[arg(long, default_value = "starttls")]
        security: String,
        /// User name for SMTP authentication (AUTH PLAIN/LOGIN).
        #[arg(long)]
        username: Option<String>,
        /// Read the SMTP password from the first line of standard input.
        #[arg(long, requires = "username")]
        password_stdin: bool,
        /// The sender address of the realm's messages.
        #[arg(long, required_unless_present = "remove")]
        from: Option<String>,
        /// Remove the SMTP server: invitations go back to realm administrators.
        #[arg(long, conflicts_with_all = ["host", "port", "username", "password_stdin", "from"])]
        remove: bool,
    },
}

pub async fn run(
    p: &Provider,
    cmd: RealmCmd,
    out: &mut impl Write,
    input: &mut impl BufRead,
) -> anyhow::Result<()> {
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
                        "{}\t{}\t{}\t{}",
                        r.name,
                        if r.enabled { "enabled" } else { "disabled" },
                        r.access_token_alg,
                        p.issuer_for(&r.name)
                    )?;
                }
                match page.last() {
                    Some(r) if page.len() == 500 => after = Some(r.name.to_string()),
                    _ => break,
                }
            }
        }
        RealmCmd::Update {
            name,
            display_name,
            logo_uri,
            audit_retention_days,
            device_code_lifetime,
            device_poll_interval,
            ciba_lifetime,
            ciba_poll_interval,
            registration,
            allowed_hosts,
            allowed_scopes,
            allowed_grant_types,
            max_clients,
            rate_per_minute,
            audiences,
        } => {
            let cur = p.get_realm(op, &name).await?;
            let mut s = RealmSettings::from(&cur);
            if let Some(n) = display_name {
                s.branding.display_name = super::optional(&n, DisplayName::parse)?;
            }
            if let Some(l) = logo_uri {
                s.branding.logo_uri = super::optional(&l, LogoUri::parse)?;
            }
            if let Some(days) = audit_retention_days {
                s.audit_retention_days = days;
            }
            let a = &mut s.approvals;
            a.device_code_lifetime_secs =
                device_code_lifetime.unwrap_or(a.device_code_lifetime_secs);
            a.device_poll_interval_secs =
                device_poll_interval.unwrap_or(a.device_poll_interval_secs);
            a.ciba_lifetime_secs = ciba_lifetime.unwrap_or(a.ciba_lifetime_secs);
            a.ciba_poll_interval_secs = ciba_poll_interval.unwrap_or(a.ciba_poll_interval_secs);
            let reg = &mut s.registration;
            if let Some(m) = registration {
                reg.mode = RegistrationMode::parse(&m)?;
            }
            if !allowed_hosts.is_empty() {
                reg.open.allowed_hosts = allowed_hosts;
            }
            if !allowed_scopes.is_empty() {
                reg.open.allowed_scopes = allowed_scopes;
            }
            if !allowed_grant_types.is_empty() {
                reg.open.allowed_grant_types = allowed_grant_types
                    .iter()
                    .map(|g| GrantType::parse(g))
                    .collect::<Result<_, _>>()?;
            }
            reg.open.max_clients = max_clients.unwrap_or(reg.open.max_clients);
            reg.open.rate_per_minute = rate_per_minute.unwrap_or(reg.open.rate_per_minute);
            if !audiences.is_empty() {
                reg.open.audiences = audiences;
            }
            let r = p.update_realm(op, &name, s).await?;
            let o = &r.registration.open;
            writeln!(
                out,
                "realm {}: display name {}, logo {}",
                r.name,
                r.branding.display_name.as_ref().map_or("-", |n| n.as_str()),
                r.branding.logo_uri.as_ref().map_or("-", |l| l.as_str()),
            )?;
            writeln!(
                out,
                "realm {}: registration {}; open registration: hosts [{}], scopes [{}], grant \
                 types [{}], at most {} clients, {} per minute per address",
                r.name,
                r.registration.mode.as_str(),
                o.allowed_hosts.join(" "),
                o.allowed_scopes.join(" "),
                o.allowed_grant_types
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                o.max_clients,
                o.rate_per_minute
            )?;
        }
        RealmCmd::Delete { name } => {
            p.delete_realm(op, &name).await?;
            writeln!(out, "deleted realm {name}")?;
        }
        RealmCmd::Smtp {
            realm,
            remove: true,
            ..
        } => {
            p.delete_realm_smtp(op, &realm).await?;
            writeln!(out, "removed the SMTP server of realm {realm}")?;
        }
        RealmCmd::Smtp {
            realm,
            host,
            port,
            security,
            username,
            password_stdin,
            from,
            remove: false,
        } => {
            let security = SmtpSecurity::parse(&security)?;
            let settings = SmtpSettings {
                host: host.unwrap_or_default(),
                port: port.unwrap_or(match security {
                    SmtpSecurity::Tls => 465,
                    _ => 587,
                }),
                security,
                username,
                from: Email::parse(from.as_deref().unwrap_or_default())?,
            };
            let password = if password_stdin {
                Some(super::user::read_password(input)?)
            } else {
                None
            };
            let v = p.put_realm_smtp(op, &realm, settings, password).await?;
            writeln!(
                out,
                "realm {realm} sends e-mail through {}:{} ({}) as {}{}",
                v.settings.host,
                v.settings.port,
                v.settings.security.as_str(),
                v.settings.from,
                if v.has_password {
                    ", with a password"
                } else {
                    ""
                }
            )?;
        }
    }
    Ok(())
}
