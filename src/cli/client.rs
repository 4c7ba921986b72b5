//! `tessera client …`: clients of a realm and their token-exchange policies, built through
//! the same metadata path as the admin API.

use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use tessera_domain::{
    Client, ExchangePolicy, GrantType, IdpAlias, ImpersonationScope, RealmName, RedirectUri,
    TokenType,
};
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;
use tessera_oidc::clients::metadata::ClientMetadata;

#[derive(Subcommand)]
pub enum ClientCmd {
    /// Create a client. With --redirect-uri and no --grant-type it signs users in
    /// (authorization_code + refresh_token, scopes `openid profile email offline_access`
    /// and `organization` where the realm has organizations); without, it is a service
    /// client (client_credentials).
    Create(Box<ClientCreate>),
    /// Show a client's settings.
    Show(ClientRef),
    /// Change some of a client's settings; a list given here replaces the stored one.
    Update(Box<ClientUpdate>),
    /// List a realm's clients: client_id, id, type, grant types.
    List {
        /// The realm's name.
        #[arg(long)]
        realm: String,
    },
    /// Delete a client; its tokens stop working.
    Delete(ClientRef),
    /// The client's secret.
    #[command(subcommand)]
    Secret(SecretCmd),
    /// Set (replace) or remove the client's token exchange policy (RFC 8693). The client
    /// also needs --grant-type urn:ietf:params:oauth:grant-type:token-exchange.
    ExchangePolicy(Box<ExchangePolicyArgs>),
    /// Mint an initial access token for dynamic client registration (RFC 7591), shown
    /// once: `Authorization: Bearer` at /realms/{realm}/clients-registrations/openid-connect.
    InitialToken {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// Registrations it allows, 1 to 1000.
        #[arg(long, default_value_t = 1)]
        count: i64,
        /// Seconds until it expires, 60 to 31536000.
        #[arg(long, default_value_t = 86_400)]
        expires_in: i64,
        /// Id or alias of an organization: the clients registered with it belong to it.
        #[arg(long)]
        organization: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum SecretCmd {
    /// Replace the secret with a new generated one, shown once; the old one stops working.
    Rotate(ClientRef),
}

#[derive(Args)]
pub struct ClientRef {
    /// The realm's name.
    #[arg(long)]
    realm: String,
    /// The client's client_id (or its server-assigned id).
    #[arg(long)]
    client_id: String,
}

/// Settings that `create` and `update` share; on update, what is not given stays.
#[derive(Args)]
pub struct ClientFields {
    /// Display name (default: the client_id).
    #[arg(long)]
    name: Option<String>,
    /// Where users may be sent back after signing in, matched exactly (repeatable).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// A grant type it may use (repeatable): authorization_code, refresh_token,
    /// client_credentials, urn:ietf:params:oauth:grant-type:token-exchange,
    /// urn:ietf:params:oauth:grant-type:jwt-bearer,
    /// urn:ietf:params:oauth:grant-type:device_code (RFC 8628) or
    /// urn:openid:params:grant-type:ciba.
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    /// A scope it may request (repeatable); replaces the defaults.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// A role carried by the client's own tokens (repeatable; `admin` in realm master
    /// grants the admin API).
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Access token format: jwt (default) or opaque.
    #[arg(long)]
    access_token_format: Option<String>,
    /// Ask users for consent (third-party clients): true or false (alone: true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    consent_required: Option<bool>,
    /// ID token algorithm: RS256 (default), ES256 or EdDSA.
    #[arg(long)]
    id_token_alg: Option<String>,
    /// Where users may be sent after logging out, matched exactly (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// The client's back-channel logout endpoint (OpenID Connect Back-Channel Logout).
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// How a CIBA client hears that a person decided: poll (default) or ping.
    #[arg(long, value_parser = ["poll", "ping"])]
    ciba_delivery_mode: Option<String>,
    /// Where a ping client is told (CIBA Core §10.2); with --ciba-delivery-mode ping.
    #[arg(long)]
    ciba_notification_endpoint: Option<String>,
    /// Bind the client to this organization (alias or id) of the realm: its
    /// client_credentials tokens carry the organization.
    #[arg(long)]
    organization: Option<String>,
    /// Shape of the `organization` claim: map (default) or list.
    #[arg(long)]
    organization_claim: Option<String>,
    /// Let the client act as an admin console (its users may grant it the scope
    /// `tessera:admin`): true or false (alone: true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    admin_console: Option<bool>,
    /// Enable or disable the client: true or false.
    #[arg(long)]
    enabled: Option<bool>,
    /// An identifier of the API this client serves (RFC 8707 resource; repeatable; unique
    /// in the realm): tokens naming it in `aud` are meant for this client.
    #[arg(long = "resource-uri")]
    resource_uris: Vec<String>,
    /// What its access tokens carry in `aud`: a client id of the realm or a resource URI
    /// (repeatable); requests may narrow them with `resource` or `audience`.
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// How it authenticates: client_secret_basic, client_secret_post, private_key_jwt
    /// (with --jwks-uri or --jwks-file) or none.
    #[arg(long)]
    token_endpoint_auth_method: Option<String>,
    /// Where a private_key_jwt client publishes its JWK set.
    #[arg(long)]
    jwks_uri: Option<String>,
    /// A file holding a private_key_jwt client's JWK set (public keys).
    #[arg(long)]
    jwks_file: Option<std::path::PathBuf>,
}

impl ClientFields {
    /// Lays what was given over `m`.
    fn apply(self, m: &mut ClientMetadata) -> anyhow::Result<()> {
        let some = |v: Vec<String>| (!v.is_empty()).then_some(v);
        if let Some(n) = self.name {
            m.name = Some(n);
        }
        if let Some(v) = some(self.redirect_uris) {
            m.redirect_uris = v;
        }
        if let Some(v) = some(self.grant_types) {
            m.grant_types = Some(v);
        }
        if let Some(v) = some(self.scopes) {
            m.scopes = Some(v);
        }
        if let Some(v) = some(self.roles) {
            m.roles = v;
        }
        if let Some(v) = some(self.post_logout_redirect_uris) {
            m.post_logout_redirect_uris = v;
        }
        m.access_token_format = self.access_token_format.or(m.access_token_format.take());
        m.id_token_alg = self.id_token_alg.or(m.id_token_alg.take());
        m.backchannel_logout_uri = self
            .backchannel_logout_uri
            .or(m.backchannel_logout_uri.take());
        if let Some(mode) = self.ciba_delivery_mode {
            // Back to poll drops the endpoint the ping needed.
            if mode == "poll" {
                m.backchannel_client_notification_endpoint = None;
            }
            m.backchannel_token_delivery_mode = Some(mode);
        }
        m.backchannel_client_notification_endpoint = self
            .ciba_notification_endpoint
            .or(m.backchannel_client_notification_endpoint.take());
        m.organization = self.organization.or(m.organization.take());
        m.organization_claim = self.organization_claim.or(m.organization_claim.take());
        m.consent_required = self.consent_required.unwrap_or(m.consent_required);
        m.admin_console = self.admin_console.unwrap_or(m.admin_console);
        m.enabled = self.enabled.unwrap_or(m.enabled);
        if let Some(v) = some(self.resource_uris) {
            m.resource_uris = v;
        }
        if let Some(v) = some(self.audiences) {
            m.audiences = v;
        }
        if let Some(a) = self.token_endpoint_auth_method {
            // A method other than none makes an update's public client confidential.
            m.public = a == "none";
            m.token_endpoint_auth_method = Some(a);
        }
        if let Some(u) = self.jwks_uri {
            m.jwks_uri = Some(u);
            m.jwks = None;
        }
        if let Some(f) = self.jwks_file {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
            m.jwks = Some(
                serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{} is not a JSON JWK set: {e}", f.display()))?,
            );
            m.jwks_uri = None;
        }
        Ok(())
    }
}

#[derive(Args)]
pub struct ExchangePolicyArgs {
    /// The realm's name.
    #[arg(long)]
    realm: String,
    /// The client's client_id (or its server-assigned id).
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
    /// An identity provider of the realm (alias) whose tokens the client may present, as
    /// subject tokens and as jwt-bearer assertions (repeatable).
    #[arg(long = "trusted-idp")]
    trusted_idps: Vec<String>,
    /// Remove the policy: the client may no longer exchange tokens.
    #[arg(long, conflicts_with_all = [
        "audiences", "delegate", "impersonate", "impersonate_orgs", "max_lifetime", "scopes",
        "subject_types", "refresh_tokens", "may_act", "trusted_idps",
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
    /// A JWT of a trusted identity provider.
    #[value(name = "jwt")]
    Jwt,
    /// An ID token of a trusted identity provider.
    #[value(name = "id_token")]
    IdToken,
}

impl From<SubjectType> for TokenType {
    fn from(t: SubjectType) -> Self {
        match t {
            SubjectType::Access => TokenType::AccessToken,
            SubjectType::Refresh => TokenType::RefreshToken,
            SubjectType::Impersonation => TokenType::Impersonation,
            SubjectType::Jwt => TokenType::Jwt,
            SubjectType::IdToken => TokenType::IdToken,
        }
    }
}

#[derive(Args)]
pub struct ClientCreate {
    /// The realm's name.
    #[arg(long)]
    realm: String,
    /// The OAuth client_id: letters, digits and `-._:`, unique in the realm.
    #[arg(long)]
    client_id: String,
    /// A public client (no secret; PKCE required), e.g. a single-page or native app.
    #[arg(long)]
    public: bool,
    /// Use this secret (at least 32 characters) instead of generating one.
    #[arg(long)]
    secret: Option<String>,
    #[command(flatten)]
    fields: ClientFields,
}

#[derive(Args)]
pub struct ClientUpdate {
    #[command(flatten)]
    client: ClientRef,
    #[command(flatten)]
    fields: ClientFields,
}

pub async fn run(p: &Provider, cmd: ClientCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        ClientCmd::Create(a) => {
            let a = *a;
            let mut c = ClientMetadata {
                public: a.public,
                ..ClientMetadata::new(a.client_id)
            };
            a.fields.apply(&mut c)?;
            let given = a.secret.is_some();
            let (client, secret) = p.create_client(op, &a.realm, c, a.secret).await?;
            writeln!(
                out,
                "created client {} in realm {}",
                client.client_id, a.realm
            )?;
            show(p, &a.realm, &client, out)?;
            if let Some(s) = secret.filter(|_| !given) {
                writeln!(out, "client secret (shown once): {s}")?;
            }
        }
        ClientCmd::Show(r) => {
            let c = p.get_client(op, &r.realm, &r.client_id).await?;
            show(p, &r.realm, &c, out)?;
        }
        ClientCmd::Update(a) => {
            let ClientUpdate { client: r, fields } = *a;
            let old = p.get_client(op, &r.realm, &r.client_id).await?;
            let mut m = ClientMetadata::from(&old);
            fields.apply(&mut m)?;
            let c = p
                .update_client(op, &r.realm, &old.id.to_string(), m)
                .await?;
            writeln!(out, "updated client {} in realm {}", c.client_id, r.realm)?;
            show(p, &r.realm, &c, out)?;
        }
        ClientCmd::List { realm } => {
            let mut after = None;
            loop {
                let page = p
                    .list_clients(op, &realm, None, None, after.clone(), Some(500))
                    .await?;
                for c in &page {
                    let grants: Vec<_> = c.grant_types.iter().map(|g| g.as_str()).collect();
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        c.client_id,
                        c.id,
                        kind(c),
                        grants.join(",")
                    )?;
                }
                match page.last() {
                    Some(c) if page.len() == 500 => after = Some(c.client_id.to_string()),
                    _ => break,
                }
            }
        }
        ClientCmd::Delete(r) => {
            p.delete_client(op, &r.realm, &r.client_id).await?;
            writeln!(out, "deleted client {}", r.client_id)?;
        }
        ClientCmd::Secret(SecretCmd::Rotate(r)) => {
            let secret = p.regenerate_secret(op, &r.realm, &r.client_id).await?;
            writeln!(
                out,
                "new secret of client {} (shown once; the old one no longer works): {secret}",
                r.client_id
            )?;
        }
        ClientCmd::ExchangePolicy(a) => exchange_policy(p, op, *a, out).await?,
        ClientCmd::InitialToken {
            realm,
            count,
            expires_in,
            organization,
        } => {
            let (token, t) = p
                .mint_initial_token(
                    op,
                    &realm,
                    organization.as_deref(),
                    Some(count),
                    Some(expires_in),
                )
                .await?;
            writeln!(
                out,
                "initial access token {} of realm {realm}: {} registration(s) until {}{}",
                t.id,
                t.remaining,
                t.expires_at.0,
                t.org_id
                    .map(|o| format!(", for organization {o}"))
                    .unwrap_or_default()
            )?;
            writeln!(out, "initial access token (shown once): {token}")?;
        }
    }
    Ok(())
}

fn kind(c: &Client) -> &'static str {
    if c.is_public() {
        "public"
    } else {
        "confidential"
    }
}

/// A client's settings, one per line, with where to point an application at.
fn show(p: &Provider, realm: &str, c: &Client, out: &mut impl Write) -> anyhow::Result<()> {
    let list = |v: Vec<&str>| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(" ")
        }
    };
    let uris = |v: &[RedirectUri]| list(v.iter().map(|u| u.as_str()).collect());
    let issuer = RealmName::parse(realm).map(|r| p.issuer_for(&r))?;
    writeln!(out, "  client_id        {}", c.client_id)?;
    writeln!(out, "  id               {}", c.id)?;
    writeln!(out, "  name             {}", c.name)?;
    writeln!(out, "  type             {}", kind(c))?;
    writeln!(out, "  enabled          {}", c.enabled)?;
    writeln!(
        out,
        "  grant types      {}",
        list(c.grant_types.iter().map(|g| g.as_str()).collect())
    )?;
    writeln!(
        out,
        "  scopes           {}",
        list(c.scopes.iter().map(|s| s.as_str()).collect())
    )?;
    writeln!(out, "  authentication   {}", c.auth_method.as_str())?;
    if c.allows_grant(tessera_domain::GrantType::Ciba) {
        let delivery = match c.oidc.ciba_delivery.endpoint() {
            Some(e) => format!("ping to {}", e.as_str()),
            None => "poll".to_owned(),
        };
        writeln!(out, "  CIBA delivery    {delivery}")?;
    }
    writeln!(out, "  redirect URIs    {}", uris(&c.redirect_uris))?;
    writeln!(
        out,
        "  resource URIs    {}",
        list(c.apis.resource_uris.iter().map(|r| r.as_str()).collect())
    )?;
    writeln!(
        out,
        "  audiences        {}",
        list(c.apis.audiences.iter().map(String::as_str).collect())
    )?;
    writeln!(
        out,
        "  logout URIs      {}",
        uris(&c.oidc.post_logout_redirect_uris)
    )?;
    writeln!(
        out,
        "  roles            {}",
        list(c.roles.iter().map(String::as_str).collect())
    )?;
    writeln!(
        out,
        "  consent          {}",
        if c.oidc.consent_required {
            "required"
        } else {
            "not asked"
        }
    )?;
    writeln!(out, "  access tokens    {}", c.access_token_format.as_str())?;
    writeln!(out, "  ID token alg     {}", c.oidc.id_token_alg)?;
    writeln!(
        out,
        "  exchange policy  {}",
        if c.exchange.is_some() { "set" } else { "-" }
    )?;
    writeln!(out, "  issuer           {issuer}")?;
    writeln!(
        out,
        "  discovery        {issuer}/.well-known/openid-configuration"
    )?;
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
        trusted_idps: a.trusted_idps,
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
            v.join(", ")
        }
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    writeln!(
        out,
        "exchange policy of client {} in realm {}:",
        a.client_id, a.realm
    )?;
    let rows = [
        ("subject types", types.join(", ")),
        ("audiences", or_none(&policy.audiences)),
        ("trusted issuers", or_none(&policy.trusted_idps)),
        ("delegate", yes_no(policy.delegate).to_owned()),
        ("impersonate", impersonate),
        (
            "scope ceiling",
            policy
                .scope_ceiling
                .as_deref()
                .map_or_else(|| "none".to_owned(), |s| s.join(" ")),
        ),
        (
            "max lifetime",
            policy
                .max_lifetime_secs
                .map_or_else(|| "realm default".to_owned(), |s| format!("{s}s")),
        ),
        ("refresh tokens", yes_no(policy.refresh_tokens).to_owned()),
        (
            "may_act",
            policy.may_act.clone().unwrap_or_else(|| "-".into()),
        ),
    ];
    for (label, value) in rows {
        writeln!(out, "  {:<17}{value}", format!("{label}:"))?;
    }
    // Named, but its tokens are refused until it accepts them: say so now, not at the
    // first exchange.
    for alias in &policy.trusted_idps {
        let idp = p.get_idp(op, &a.realm, &IdpAlias::parse(alias)?).await?;
        if idp.settings.accept_tokens.is_none() {
            writeln!(
                out,
                "note: identity provider {alias} does not accept tokens yet (tessera idp update \
                 --realm {} {alias} --accept-tokens)",
                a.realm
            )?;
        } else if !idp.settings.enabled {
            writeln!(
                out,
                "note: identity provider {alias} is disabled: its tokens are refused"
            )?;
        }
    }
    if !client.allows_grant(GrantType::TokenExchange) {
        writeln!(
            out,
            "note: the client lacks the grant type {}: it cannot exchange yet",
            GrantType::TokenExchange.as_str()
        )?;
    }
    Ok(())
}
