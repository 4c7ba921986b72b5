//! `tessera`: run the server, or administer realms, clients, keys, users and organizations
//! directly in the database.

mod org_cmd;
mod user_cmd;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use tessera::config::{Overrides, Settings};
use tessera::startup::{Application, open_provider};
use tessera_domain::{
    AccessTokenFormat, ClientId, ExchangePolicy, GrantType, ImpersonationScope, NewClient,
    OidcSettings, OrgClaimFormat, OrgSettings, RealmSettings, RedirectUri, ScopeSet, SigningAlg,
    TokenType,
};
use tessera_oidc::admin::SeededKind;
use tessera_oidc::admin::orgs::OrgCaller;

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "Multi-tenant OAuth 2.0 / OpenID Connect server"
)]
struct Cli {
    /// TOML configuration file (flags > TESSERA_* environment > file > defaults).
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and the master key (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (default: SQLite in the data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates, and seeds realms `master` and `demo` on an empty database).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage realms.
    #[command(subcommand)]
    Realm(RealmCmd),
    /// Manage clients.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Manage users.
    #[command(subcommand)]
    User(user_cmd::UserCmd),
    /// Manage organizations, their role templates and members.
    #[command(subcommand)]
    Org(org_cmd::OrgCmd),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
    /// Public base URL the issuer is built from (default http://127.0.0.1:8080).
    #[arg(long)]
    public_url: Option<String>,
    /// HTTP worker threads (default: available CPUs).
    #[arg(long)]
    workers: Option<usize>,
}

#[derive(Subcommand)]
enum RealmCmd {
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

#[derive(Subcommand)]
enum ClientCmd {
    Create(Box<ClientCreate>),
    List {
        #[arg(long)]
        realm: String,
    },
    Delete {
        #[arg(long)]
        realm: String,
        #[arg(long)]
        client_id: String,
    },
    /// Set (replace) or remove the client's token exchange policy (RFC 8693). The client
    /// also needs --grant-type urn:ietf:params:oauth:grant-type:token-exchange.
    ExchangePolicy(Box<ExchangePolicyArgs>),
}

#[derive(Args)]
struct ExchangePolicyArgs {
    #[arg(long)]
    realm: String,
    #[arg(long)]
    client_id: String,
    /// An audience it may ask for: a client id of the realm or an absolute URI (repeatable;
    /// its own client id is always allowed).
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// May present an actor_token (delegation).
    #[arg(long)]
    delegate: bool,
    /// May impersonate any user of the realm (never administrators).
    #[arg(long, conflicts_with = "impersonate_orgs")]
    impersonate: bool,
    /// May impersonate members of this organization (alias or id; repeatable).
    #[arg(long = "impersonate-org")]
    impersonate_orgs: Vec<String>,
    /// Longest lifetime of an exchanged token, 10 to 86400 seconds (default: the realm's).
    #[arg(long)]
    max_lifetime: Option<i64>,
    /// A scope exchanged tokens may carry at most (repeatable; none: no ceiling beyond the
    /// subject token's).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// A subject token type it may present (repeatable; default access_token).
    #[arg(long = "subject-type", value_enum)]
    subject_types: Vec<SubjectType>,
    /// May ask for refresh tokens.
    #[arg(long)]
    refresh_tokens: bool,
    /// Access tokens issued to this client name this client id in `may_act`.
    #[arg(long)]
    may_act: Option<String>,
    /// Remove the policy: the client may no longer exchange tokens.
    #[arg(long, conflicts_with_all = [
        "audiences", "delegate", "impersonate", "impersonate_orgs", "max_lifetime", "scopes",
        "subject_types", "refresh_tokens", "may_act",
    ])]
    remove: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum SubjectType {
    #[value(name = "access_token")]
    Access,
    #[value(name = "refresh_token")]
    Refresh,
    #[value(name = "impersonation_token")]
    Impersonation,
}

impl From<SubjectType> for TokenType {
    fn from(t: SubjectType) -> Self {
        match t {
            SubjectType::Access => TokenType::AccessToken,
            SubjectType::Refresh => TokenType::RefreshToken,
            SubjectType::Impersonation => TokenType::Impersonation,
        }
    }
}

#[derive(Args)]
struct ClientCreate {
    #[arg(long)]
    realm: String,
    #[arg(long)]
    client_id: String,
    /// A public client (no secret).
    #[arg(long)]
    public: bool,
    /// Use this secret (at least 32 characters) instead of generating one.
    #[arg(long)]
    secret: Option<String>,
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Allowed grant types (default client_credentials for confidential clients).
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Roles carried by the client's own tokens (`admin` in realm master grants the admin API).
    #[arg(long = "role")]
    roles: Vec<String>,
    #[arg(long, default_value = "jwt")]
    access_token_format: String,
    /// Ask users for consent (third-party clients).
    #[arg(long)]
    consent_required: bool,
    /// ID token algorithm: RS256, ES256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    id_token_alg: String,
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// Bind the client to this organization (alias or id) of the realm: its
    /// client_credentials tokens carry the organization.
    #[arg(long)]
    organization: Option<String>,
    /// Shape of the `organization` claim: map (default) or list.
    #[arg(long, default_value = "map")]
    organization_claim: String,
}

#[derive(Subcommand)]
enum KeyCmd {
    /// New active keys for every algorithm; the old ones stay in JWKS as passive.
    Rotate {
        #[arg(long)]
        realm: String,
    },
    List {
        #[arg(long)]
        realm: String,
    },
    /// Remove a passive key from JWKS; tokens it signed stop verifying.
    Retire {
        #[arg(long)]
        realm: String,
        #[arg(long)]
        kid: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut overrides = Overrides {
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        ..Default::default()
    };
    if let Command::Serve(a) = &cli.command {
        overrides.listen = a.listen.clone();
        overrides.public_url = a.public_url.clone();
        overrides.workers = a.workers;
    }
    let settings =
        Settings::load(cli.config.as_deref(), &overrides).context("reading configuration")?;
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Serve(_) => {
            let app = Application::build(&settings).await?;
            print_seeded(&mut out, &app, &settings)?;
            drop(out);
            tracing::info!(listen = %settings.listen, public_url = %settings.public_url, "tessera is serving");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            open_provider(&settings).await?;
            writeln!(out, "migrations applied")?;
        }
        Command::Realm(cmd) => {
            let p = open_provider(&settings).await?;
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
                    let r = p.create_realm(&name, s).await?;
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
                        let page = p.list_realms(after.clone(), Some(500)).await?;
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
                    p.delete_realm(&name).await?;
                    writeln!(out, "deleted realm {name}")?;
                }
            }
        }
        Command::Client(cmd) => {
            let p = open_provider(&settings).await?;
            match cmd {
                ClientCmd::Create(a) => {
                    let grant_types = if a.grant_types.is_empty() && !a.public {
                        vec![GrantType::ClientCredentials]
                    } else {
                        a.grant_types
                            .iter()
                            .map(|g| GrantType::parse(g))
                            .collect::<Result<_, _>>()?
                    };
                    let c = NewClient {
                        client_id: ClientId::parse(&a.client_id)?,
                        name: a.client_id.clone(),
                        enabled: true,
                        public: a.public,
                        redirect_uris: a
                            .redirect_uris
                            .iter()
                            .map(|u| RedirectUri::parse(u))
                            .collect::<Result<_, _>>()?,
                        grant_types,
                        scopes: ScopeSet::from_list(&a.scopes)?,
                        roles: a.roles,
                        access_token_format: AccessTokenFormat::parse(&a.access_token_format)?,
                        oidc: OidcSettings {
                            consent_required: a.consent_required,
                            id_token_alg: SigningAlg::parse(&a.id_token_alg)?,
                            post_logout_redirect_uris: a
                                .post_logout_redirect_uris
                                .iter()
                                .map(|u| RedirectUri::parse(u))
                                .collect::<Result<_, _>>()?,
                            backchannel_logout_uri: a
                                .backchannel_logout_uri
                                .as_deref()
                                .map(RedirectUri::parse)
                                .transpose()?,
                        },
                        org: OrgSettings {
                            bound_to: match &a.organization {
                                Some(o) => {
                                    Some(p.get_org(&a.realm, o, &OrgCaller::RealmAdmin).await?.0.id)
                                }
                                None => None,
                            },
                            claim_format: OrgClaimFormat::parse(&a.organization_claim)?,
                        },
                        exchange: None,
                    };
                    let given = a.secret.is_some();
                    let (client, secret) = p.create_client(&a.realm, c, a.secret).await?;
                    writeln!(
                        out,
                        "created client {} ({}) in realm {}",
                        client.client_id, client.id, a.realm
                    )?;
                    if let Some(s) = secret.filter(|_| !given) {
                        writeln!(out, "client secret (shown once): {s}")?;
                    }
                }
                ClientCmd::List { realm } => {
                    let mut after = None;
                    loop {
                        let page = p.list_clients(&realm, after.clone(), Some(500)).await?;
                        for c in &page {
                            let grants: Vec<_> = c.grant_types.iter().map(|g| g.as_str()).collect();
                            writeln!(
                                out,
                                "{}\t{}\t{}\t{}",
                                c.client_id,
                                c.id,
                                if c.is_public() {
                                    "public"
                                } else {
                                    "confidential"
                                },
                                grants.join(",")
                            )?;
                        }
                        match page.last() {
                            Some(c) if page.len() == 500 => after = Some(c.client_id.to_string()),
                            _ => break,
                        }
                    }
                }
                ClientCmd::Delete { realm, client_id } => {
                    let c = p.find_client(&realm, &client_id).await?;
                    p.delete_client(&realm, c.id).await?;
                    writeln!(out, "deleted client {client_id}")?;
                }
                ClientCmd::ExchangePolicy(a) => exchange_policy(&p, *a, &mut out).await?,
            }
        }
        Command::User(cmd) => {
            let p = open_provider(&settings).await?;
            user_cmd::run(&p, cmd, &mut out, &mut std::io::stdin().lock()).await?;
        }
        Command::Org(cmd) => {
            let p = open_provider(&settings).await?;
            org_cmd::run(&p, cmd, &mut out).await?;
        }
        Command::Key(cmd) => {
            let p = open_provider(&settings).await?;
            match cmd {
                KeyCmd::Rotate { realm } => {
                    for kid in p.rotate_keys(&realm).await? {
                        writeln!(out, "new active key {kid}")?;
                    }
                }
                KeyCmd::List { realm } => {
                    for k in p.list_keys(&realm).await? {
                        writeln!(out, "{}\t{}\t{}", k.kid, k.alg, k.status.as_str())?;
                    }
                }
                KeyCmd::Retire { realm, kid } => {
                    p.retire_key(&realm, &kid).await?;
                    writeln!(out, "retired key {kid}")?;
                }
            }
        }
    }
    Ok(())
}

fn print_seeded(
    out: &mut impl Write,
    app: &Application,
    settings: &Settings,
) -> std::io::Result<()> {
    if app.seeded.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "First start: seeded realms, clients and a user. The secrets are shown only this once."
    )?;
    for s in &app.seeded {
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
    let find = |name: &str| app.seeded.iter().find(|s| s.name == name);
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
    out.flush()
}

/// `access_token` for `urn:ietf:params:oauth:token-type:access_token`.
fn short_type(t: &TokenType) -> &str {
    t.as_str().rsplit(':').next().unwrap_or(t.as_str())
}

async fn exchange_policy(
    p: &tessera_oidc::Provider,
    a: ExchangePolicyArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if a.remove {
        p.set_exchange_policy(&a.realm, &a.client_id, None).await?;
        writeln!(
            out,
            "removed the exchange policy of client {} in realm {}",
            a.client_id, a.realm
        )?;
        return Ok(());
    }
    let impersonate = if a.impersonate {
        ImpersonationScope::AllUsers
    } else if a.impersonate_orgs.is_empty() {
        ImpersonationScope::Nobody
    } else {
        let mut orgs = Vec::with_capacity(a.impersonate_orgs.len());
        for o in &a.impersonate_orgs {
            orgs.push(p.get_org(&a.realm, o, &OrgCaller::RealmAdmin).await?.0.id);
        }
        ImpersonationScope::Organizations(orgs)
    };
    let mut subject_token_types: Vec<TokenType> = vec![];
    for t in a.subject_types.iter().map(|&t| TokenType::from(t)) {
        if !subject_token_types.contains(&t) {
            subject_token_types.push(t);
        }
    }
    let policy = ExchangePolicy {
        subject_token_types: if subject_token_types.is_empty() {
            ExchangePolicy::default().subject_token_types
        } else {
            subject_token_types
        },
        audiences: a.audiences,
        delegate: a.delegate,
        impersonate,
        scope_ceiling: (!a.scopes.is_empty()).then_some(a.scopes),
        max_lifetime_secs: a.max_lifetime,
        refresh_tokens: a.refresh_tokens,
        may_act: a.may_act,
    };
    let client = p
        .set_exchange_policy(&a.realm, &a.client_id, Some(policy.clone()))
        .await?;
    let types: Vec<_> = policy.subject_token_types.iter().map(short_type).collect();
    let impersonate = match &policy.impersonate {
        ImpersonationScope::Nobody => "nobody".to_owned(),
        ImpersonationScope::AllUsers => "all users".to_owned(),
        ImpersonationScope::Organizations(_) => {
            format!("members of {}", a.impersonate_orgs.join(","))
        }
    };
    let or_none = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(",")
        }
    };
    writeln!(
        out,
        "exchange policy of client {} in realm {}: subject types {}; audiences {}; delegate {}; impersonate {}; scope ceiling {}; max lifetime {}; refresh tokens {}; may_act {}",
        a.client_id,
        a.realm,
        types.join(","),
        or_none(&policy.audiences),
        if policy.delegate { "yes" } else { "no" },
        impersonate,
        policy
            .scope_ceiling
            .as_deref()
            .map_or_else(|| "none".to_owned(), |s| s.join(" ")),
        policy
            .max_lifetime_secs
            .map_or_else(|| "realm default".to_owned(), |s| format!("{s}s")),
        if policy.refresh_tokens { "yes" } else { "no" },
        policy.may_act.as_deref().unwrap_or("-"),
    )?;
    if !client.allows_grant(GrantType::TokenExchange) {
        writeln!(
            out,
            "note: the client lacks the grant type {}: it cannot exchange yet",
            GrantType::TokenExchange.as_str()
        )?;
    }
    Ok(())
}
