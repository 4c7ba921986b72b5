//! `tessera client …`: clients of a realm and their token-exchange policies, built through
//! the same metadata path as the admin API.

use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use tessera_domain::{ExchangePolicy, GrantType, ImpersonationScope, TokenType};
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;
use tessera_oidc::clients::metadata::ClientMetadata;

#[derive(Subcommand)]
pub enum ClientCmd {
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
pub struct ExchangePolicyArgs {
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
pub struct ClientCreate {
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
    /// Let the client act as an admin console: its users may grant it the scope
    /// `tessera:admin`, and the admin API accepts those tokens.
    #[arg(long)]
    admin_console: bool,
}

pub async fn run(p: &Provider, cmd: ClientCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        ClientCmd::Create(a) => {
            let a = *a;
            let c = ClientMetadata {
                public: a.public,
                redirect_uris: a.redirect_uris,
                grant_types: (!a.grant_types.is_empty()).then_some(a.grant_types),
                scopes: a.scopes,
                roles: a.roles,
                access_token_format: Some(a.access_token_format),
                consent_required: a.consent_required,
                id_token_alg: Some(a.id_token_alg),
                post_logout_redirect_uris: a.post_logout_redirect_uris,
                backchannel_logout_uri: a.backchannel_logout_uri,
                organization: a.organization,
                organization_claim: Some(a.organization_claim),
                admin_console: a.admin_console,
                ..ClientMetadata::new(a.client_id)
            };
            let given = a.secret.is_some();
            let (client, secret) = p.create_client(op, &a.realm, c, a.secret).await?;
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
                let page = p.list_clients(op, &realm, after.clone(), Some(500)).await?;
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
            let c = p.find_client(op, &realm, &client_id).await?;
            p.delete_client(op, &realm, c.id).await?;
            writeln!(out, "deleted client {client_id}")?;
        }
        ClientCmd::ExchangePolicy(a) => exchange_policy(p, op, *a, out).await?,
    }
    Ok(())
}

/// `access_token` for `urn:ietf:params:oauth:token-type:access_token`.
fn short_type(t: &TokenType) -> &str {
    t.as_str().rsplit(':').next().unwrap_or(t.as_str())
}

async fn exchange_policy(
    p: &Provider,
    op: &AdminPrincipal,
    a: ExchangePolicyArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if a.remove {
        p.set_exchange_policy(op, &a.realm, &a.client_id, None)
            .await?;
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
            orgs.push(p.get_org(op, &a.realm, o).await?.0.id);
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
        .set_exchange_policy(op, &a.realm, &a.client_id, Some(policy.clone()))
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
