//! `tessera idp …`: upstream OpenID providers of a realm, straight in the database (as the
//! operator). The client secret is read from standard input (`--client-secret-stdin`),
//! never from arguments, and never printed.

use clap::Subcommand;
use std::io::{BufRead, Write};
use tessera_domain::{
    DomainName, IdpAlias, IdpSettings, OrgAlias, RequiredClaim, UpstreamAuthMethod,
};
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;
use tessera_oidc::admin::idps::{IdpDraft, IdpView};

#[derive(Subcommand)]
pub enum IdpCmd {
    /// Add an upstream OpenID provider; prints the redirect and back-channel logout URIs to
    /// register there.
    Create {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// 1 to 64 characters of a-z, 0-9, '-' and '_': part of the URLs registered upstream.
        alias: String,
        /// The upstream's issuer, exactly as its discovery document states it.
        #[arg(long)]
        issuer: String,
        /// Our client id at the upstream.
        #[arg(long)]
        client_id: String,
        /// Read our client secret at the upstream from the first line of standard input.
        #[arg(long, required = true)]
        client_secret_stdin: bool,
        /// The login page's button label (default: the alias).
        #[arg(long)]
        display_name: Option<String>,
        /// A scope to ask the upstream for (repeatable; default: openid profile email).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// client_secret_basic (default) or client_secret_post.
        #[arg(long)]
        auth_method: Option<String>,
        /// The upstream's verified e-mail addresses count as verified here.
        #[arg(long)]
        trust_email: bool,
        /// Sign-in goes on without an e-mail address from the upstream.
        #[arg(long)]
        email_optional: bool,
        /// Only existing (linked) users sign in: no user is created on first sign-in.
        #[arg(long)]
        no_create_users: bool,
        /// The organization (alias) whose provider this is: it creates managed members.
        #[arg(long)]
        organization: Option<String>,
        /// A domain of the organization this provider answers for (repeatable).
        #[arg(long = "domain", requires = "organization")]
        domains: Vec<String>,
        /// Sign-ins for addresses under the domains go straight to this provider.
        #[arg(long, requires = "domains")]
        redirect_on_domain: bool,
        /// No button on the login page (kc_idp_hint and domains still reach it).
        #[arg(long)]
        hide_on_login: bool,
        /// NAME=VALUE: a claim every sign-in must carry with this value (repeatable).
        #[arg(long = "required-claim")]
        required_claims: Vec<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// List providers by alias: alias, id, enabled, issuer, organization.
    List {
        /// The realm's name.
        #[arg(long)]
        realm: String,
    },
    /// Show a provider's settings and the URIs to register at the upstream.
    Show {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The provider's alias.
        alias: String,
    },
    /// Delete a provider and its users' links (the users stay).
    Delete {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The provider's alias.
        alias: String,
    },
}

fn enabled(v: &IdpView) -> &'static str {
    if v.settings.enabled {
        "enabled"
    } else {
        "disabled"
    }
}

/// The two URIs an operator registers at the upstream.
fn print_uris(out: &mut impl Write, v: &IdpView) -> std::io::Result<()> {
    writeln!(out, "redirect URI:            {}", v.redirect_uri)?;
    writeln!(out, "back-channel logout URI: {}", v.backchannel_logout_uri)
}

fn print_settings(out: &mut impl Write, v: &IdpView) -> anyhow::Result<()> {
    let s = &v.settings;
    let list = |items: Vec<&str>| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(" ")
        }
    };
    writeln!(out, "alias:              {} ({})", s.alias, v.id)?;
    writeln!(
        out,
        "display name:       {}",
        s.display_name.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "issuer:             {}", s.issuer)?;
    writeln!(out, "client id:          {}", s.client_id)?;
    writeln!(out, "auth method:        {}", s.auth_method.as_str())?;
    writeln!(out, "scopes:             {}", s.scopes.join(" "))?;
    writeln!(out, "status:             {}", enabled(v))?;
    writeln!(out, "trust e-mail:       {}", s.trust_email)?;
    writeln!(out, "e-mail optional:    {}", s.email_optional)?;
    writeln!(out, "create users:       {}", s.create_users)?;
    writeln!(out, "hide on login:      {}", s.hide_on_login)?;
    let org = v.organization.as_ref().map(|o| o.to_string());
    writeln!(out, "organization:       {}", org.as_deref().unwrap_or("-"))?;
    let domains = s.domains.iter().map(DomainName::as_str).collect();
    writeln!(out, "domains:            {}", list(domains))?;
    writeln!(out, "redirect on domain: {}", s.redirect_on_domain)?;
    let claims: Vec<String> = s
        .required_claims
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect();
    writeln!(
        out,
        "required claims:    {}",
        list(claims.iter().map(String::as_str).collect())
    )?;
    Ok(print_uris(out, v)?)
}

pub async fn run(
    p: &Provider,
    cmd: IdpCmd,
    out: &mut impl Write,
    input: &mut impl BufRead,
) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        IdpCmd::Create {
            realm,
            alias,
            issuer,
            client_id,
            client_secret_stdin: _,
            display_name,
            scopes,
            auth_method,
            trust_email,
            email_optional,
            no_create_users,
            organization,
            domains,
            redirect_on_domain,
            hide_on_login,
            required_claims,
            disabled,
        } => {
            let defaults = IdpSettings::new(IdpAlias::parse(&alias)?, issuer, client_id);
            let settings = IdpSettings {
                display_name,
                scopes: if scopes.is_empty() {
                    defaults.scopes
                } else {
                    scopes
                },
                auth_method: match auth_method.as_deref() {
                    Some(m) => UpstreamAuthMethod::parse(m)?,
                    None => defaults.auth_method,
                },
                trust_email,
                email_optional,
                create_users: !no_create_users,
                domains: domains
                    .iter()
                    .map(|d| DomainName::parse(d))
                    .collect::<Result<_, _>>()?,
                redirect_on_domain,
                hide_on_login,
                required_claims: required_claims
                    .iter()
                    .map(|c| RequiredClaim::parse(c))
                    .collect::<Result<_, _>>()?,
                enabled: !disabled,
                ..defaults
            };
            let draft = IdpDraft {
                settings,
                organization: organization.as_deref().map(OrgAlias::parse).transpose()?,
            };
            let secret = super::user::read_secret(input, "client secret")?;
            let v = p.create_idp(op, &realm, draft, &secret).await?;
            writeln!(
                out,
                "created identity provider {} ({}) in realm {realm}; register at the provider:",
                v.settings.alias, v.id
            )?;
            print_uris(out, &v)?;
        }
        IdpCmd::List { realm } => {
            for v in p.list_idps(op, &realm).await? {
                let org = v.organization.as_ref().map(|o| o.to_string());
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    v.settings.alias,
                    v.id,
                    enabled(&v),
                    v.settings.issuer,
                    org.as_deref().unwrap_or("-")
                )?;
            }
        }
        IdpCmd::Show { realm, alias } => {
            let v = p.get_idp(op, &realm, &IdpAlias::parse(&alias)?).await?;
            print_settings(out, &v)?;
        }
        IdpCmd::Delete { realm, alias } => {
            p.delete_idp(op, &realm, &IdpAlias::parse(&alias)?).await?;
            writeln!(out, "deleted identity provider {alias}")?;
        }
    }
    Ok(())
}
