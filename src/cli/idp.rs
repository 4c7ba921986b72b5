//! `tessera idp …`: upstream OpenID providers of a realm, straight in the database (as the
//! operator). The client secret is read from standard input (`--client-secret-stdin`),
//! never from arguments, and never printed.

use clap::{Args, Subcommand, ValueEnum};
use std::io::{BufRead, Write};
use tessera_domain::{
    ClientKeys, DomainName, IdpAlias, IdpSettings, MapUsers, OrgAdminExchange, OrgAlias,
    RequiredClaim, TokenTrust, UpstreamAuthMethod,
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
        /// Our client id at the upstream (none for a token-only issuer).
        #[arg(long, required_unless_present_any = ["jwks_uri", "jwks_file"])]
        client_id: Option<String>,
        /// Read our client secret at the upstream from the first line of standard input.
        #[arg(long, required_unless_present_any = ["jwks_uri", "jwks_file"])]
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
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Change what a provider's tokens must satisfy, its keys, its secret or its state.
    Update {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The provider's alias.
        alias: String,
        /// The login page's button label.
        #[arg(long)]
        display_name: Option<String>,
        /// Read a new client secret from the first line of standard input.
        #[arg(long)]
        client_secret_stdin: bool,
        /// Stop accepting tokens.
        #[arg(long, conflicts_with = "accept_tokens")]
        no_accept_tokens: bool,
        /// Stop the organization-admin exchange.
        #[arg(long, conflicts_with = "org_admin_exchange")]
        no_org_admin_exchange: bool,
        /// Enable the provider.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the provider: no sign-in and no token through it.
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        trust: TrustArgs,
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

/// What a provider's tokens must satisfy, and the organization-admin exchange.
#[derive(Args)]
pub struct TrustArgs {
    /// Accept the provider's tokens in token exchange and the jwt-bearer grant (for the
    /// clients whose exchange policy trusts it).
    #[arg(long)]
    accept_tokens: bool,
    /// An `aud` value that means us at the provider (repeatable; ID tokens are also
    /// accepted for our client id there).
    #[arg(long = "token-audience")]
    token_audiences: Vec<String>,
    /// Oldest `iat` accepted, seconds (default 3600).
    #[arg(long)]
    max_token_age: Option<i64>,
    /// An accepted signing algorithm (repeatable; default: the asymmetric ones the
    /// provider announces).
    #[arg(long = "allowed-alg")]
    allowed_algs: Vec<String>,
    /// Every token must carry a `jti`, accepted once.
    #[arg(long)]
    require_jti: bool,
    /// The claim naming the subject (default sub).
    #[arg(long)]
    subject_claim: Option<String>,
    /// How a token's subject becomes a local user (default link).
    #[arg(long, value_enum)]
    map_users: Option<MapUsersArg>,
    /// A token-only issuer: its JWKS URL (no client, no login button).
    #[arg(long, conflicts_with = "jwks_file")]
    jwks_uri: Option<String>,
    /// A token-only issuer: a file holding its JWKS.
    #[arg(long)]
    jwks_file: Option<std::path::PathBuf>,
    /// The provider's ID tokens obtain organization-admin credentials for its organization.
    #[arg(long)]
    org_admin_exchange: bool,
    /// The claim that must equal the organization's external id (default org_id).
    #[arg(long)]
    org_claim: Option<String>,
    /// The claim naming the upstream role (default org_role).
    #[arg(long)]
    org_role_claim: Option<String>,
    /// An upstream role that makes an administrator (repeatable; default owner, admin).
    #[arg(long = "org-admin-role")]
    org_admin_roles: Vec<String>,
    /// A claim that must name one of the organization's verified domains.
    #[arg(long)]
    org_domain_claim: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum MapUsersArg {
    Link,
    Email,
    Create,
}

impl TrustArgs {
    /// Applies the given options onto `s`: options left out keep what `s` has.
    fn apply(self, s: &mut IdpSettings) -> anyhow::Result<()> {
        let touches_trust = self.accept_tokens
            || !self.token_audiences.is_empty()
            || self.max_token_age.is_some()
            || !self.allowed_algs.is_empty()
            || self.require_jti
            || self.subject_claim.is_some()
            || self.map_users.is_some();
        if touches_trust {
            let mut t = s.accept_tokens.clone().unwrap_or_default();
            if !self.token_audiences.is_empty() {
                t.audiences = self.token_audiences;
            }
            if let Some(a) = self.max_token_age {
                t.max_age_secs = a;
            }
            if !self.allowed_algs.is_empty() {
                t.allowed_algs = self.allowed_algs;
            }
            t.require_jti |= self.require_jti;
            if let Some(c) = self.subject_claim {
                t.subject_claim = c;
            }
            if let Some(m) = self.map_users {
                t.map_users = match m {
                    MapUsersArg::Link => MapUsers::Link,
                    MapUsersArg::Email => MapUsers::Email,
                    MapUsersArg::Create => MapUsers::Create,
                };
            }
            s.accept_tokens = Some(t);
        }
        if let Some(uri) = self.jwks_uri {
            s.keys = Some(ClientKeys::parse_uri(&uri)?);
        }
        if let Some(file) = self.jwks_file {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            s.keys = Some(ClientKeys::parse_jwks(&text)?);
        }
        let touches_exchange = self.org_admin_exchange
            || self.org_claim.is_some()
            || self.org_role_claim.is_some()
            || !self.org_admin_roles.is_empty()
            || self.org_domain_claim.is_some();
        if touches_exchange {
            let mut x = s.org_admin_exchange.clone().unwrap_or_default();
            if let Some(c) = self.org_claim {
                x.org_claim = c;
            }
            if let Some(c) = self.org_role_claim {
                x.role_claim = c;
            }
            if !self.org_admin_roles.is_empty() {
                x.admin_roles = self.org_admin_roles;
            }
            if self.org_domain_claim.is_some() {
                x.domain_claim = self.org_domain_claim;
            }
            s.org_admin_exchange = Some::<OrgAdminExchange>(x);
        }
        Ok(())
    }
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
    if s.token_only() {
        writeln!(
            out,
            "client id:          - (token-only issuer: signs nobody in)"
        )?;
    } else {
        writeln!(out, "client id:          {}", s.client_id)?;
    }
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
    match &s.keys {
        Some(ClientKeys::JwksUri(u)) => {
            writeln!(out, "keys:               {u} (token-only issuer)")?
        }
        Some(ClientKeys::Jwks(_)) => writeln!(
            out,
            "keys:               a JWKS document (token-only issuer)"
        )?,
        None => {}
    }
    match &s.accept_tokens {
        Some(t) => print_trust(out, t)?,
        None => writeln!(out, "accepts tokens:     no")?,
    }
    match &s.org_admin_exchange {
        Some(x) => {
            writeln!(out, "org-admin exchange: yes")?;
            writeln!(
                out,
                "  org claim:        {} (= the organization's external id)",
                x.org_claim
            )?;
            writeln!(
                out,
                "  role claim:       {} (one of {})",
                x.role_claim,
                x.admin_roles.join(", ")
            )?;
            writeln!(
                out,
                "  domain claim:     {}",
                x.domain_claim
                    .as_deref()
                    .map(|d| format!("{d} (a verified domain of the organization)"))
                    .unwrap_or_else(|| "-".to_owned())
            )?;
        }
        None => writeln!(out, "org-admin exchange: no")?,
    }
    // A token-only issuer has nothing to register: it is never redirected to.
    if !s.token_only() {
        print_uris(out, v)?;
    }
    Ok(())
}

fn print_trust(out: &mut impl Write, t: &TokenTrust) -> std::io::Result<()> {
    let or = |v: &[String], none: &str| {
        if v.is_empty() {
            none.to_owned()
        } else {
            v.join(" ")
        }
    };
    writeln!(out, "accepts tokens:     yes")?;
    writeln!(out, "  audiences:        {}", or(&t.audiences, "-"))?;
    writeln!(out, "  max token age:    {}s", t.max_age_secs)?;
    writeln!(
        out,
        "  algorithms:       {}",
        or(&t.allowed_algs, "as the provider announces")
    )?;
    writeln!(
        out,
        "  jti:              {}",
        if t.require_jti {
            "required, accepted once"
        } else {
            "optional"
        }
    )?;
    writeln!(out, "  subject claim:    {}", t.subject_claim)?;
    writeln!(out, "  map users:        {}", t.map_users.as_str())
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
            client_secret_stdin,
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
            trust,
        } => {
            let defaults = IdpSettings::new(
                IdpAlias::parse(&alias)?,
                issuer,
                client_id.unwrap_or_default(),
            );
            let mut settings = IdpSettings {
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
            trust.apply(&mut settings)?;
            let draft = IdpDraft {
                settings,
                organization: organization.as_deref().map(OrgAlias::parse).transpose()?,
            };
            let secret = if client_secret_stdin {
                Some(super::user::read_secret(input, "client secret")?)
            } else {
                None
            };
            let v = p.create_idp(op, &realm, draft, secret.as_deref()).await?;
            if v.settings.token_only() {
                writeln!(
                    out,
                    "created token-only issuer {} ({}) in realm {realm}: name it in a client's \
                     exchange policy (--trusted-idp {})",
                    v.settings.alias, v.id, v.settings.alias
                )?;
            } else {
                writeln!(
                    out,
                    "created identity provider {} ({}) in realm {realm}; register at the provider:",
                    v.settings.alias, v.id
                )?;
                print_uris(out, &v)?;
            }
        }
        IdpCmd::Update {
            realm,
            alias,
            display_name,
            client_secret_stdin,
            no_accept_tokens,
            no_org_admin_exchange,
            enable,
            disable,
            trust,
        } => {
            let v = p.get_idp(op, &realm, &IdpAlias::parse(&alias)?).await?;
            let mut settings = v.settings;
            if display_name.is_some() {
                settings.display_name = display_name;
            }
            if enable || disable {
                settings.enabled = enable;
            }
            if no_accept_tokens {
                settings.accept_tokens = None;
            }
            if no_org_admin_exchange {
                settings.org_admin_exchange = None;
            }
            trust.apply(&mut settings)?;
            let secret = if client_secret_stdin {
                Some(super::user::read_secret(input, "client secret")?)
            } else {
                None
            };
            let draft = IdpDraft {
                settings,
                organization: v.organization,
            };
            let v = p.update_idp(op, &realm, draft, secret.as_deref()).await?;
            writeln!(
                out,
                "updated identity provider {} ({})",
                v.settings.alias, v.id
            )?;
            print_settings(out, &v)?;
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
