//! The organization-admin exchange, `POST /realms/{realm}/organizations/{alias}/token-exchange`:
//! an admin web app whose people sign in at the organization's own identity provider trades
//! such a person's ID token for ordinary OAuth credentials on that organization, straight
//! from the browser. No client authentication: the ID token is the credential, and the
//! browser's `Origin` (one of the organization's verified domains, or under one, over
//! https) names the app. What it gets is a confidential client of the organization, made for
//! that person, upstream session and origin (the same three reuse it), managed by RFC 7592
//! with its registration token, and a user grant of that client with its tokens. The
//! client's tokens administer this organization only (`admin::principal`), and the
//! upstream's back-channel logout for the session deletes the client (`logout`).

use super::trust::{JtiUse, Presented};
use crate::clients::metadata::ClientMetadata;
use crate::crypto::foreign::ForeignJws;
use crate::crypto::{random_id, random_token, sha256};
use crate::token::response::TokenResponse;
use crate::token::user_tokens::{UserTokens, issue_user_tokens};
use crate::tokens::targets::Targets;
use crate::{OAuthError, Params, Provider, RealmCtx};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use tessera_domain::{
    ADMIN_SCOPE, Client, DomainName, Email, Grant, GrantId, IdentityProvider, IdpId, ORG_SCOPE,
    OrgAdminExchange, OrgAlias, OrgId, OrgRoleName, OrgSelection, Organization, RealmId, ScopeSet,
    UnixTime,
};
use tessera_storage::{OrgAdminBinding, StoreError};

/// What the exchange's tokens may be for; a request asks for a subset (all by default).
/// The admin scope makes them admin-API tokens, `organization` carries the organization
/// in them, `openid` lets the app read who signed in (an ID token, userinfo).
pub const ORG_ADMIN_SCOPES: [&str; 3] = [ADMIN_SCOPE, ORG_SCOPE, "openid"];

/// Clients one organization may obtain per minute: a stolen or replayed ID token cannot
/// fill the realm with clients.
pub const CLIENTS_PER_MINUTE: u64 = 10;

/// Where the issued client's authorization responses go: the admin app's own
/// `/callback` on the requesting origin (an RFC 7592 update may change it).
const CALLBACK_PATH: &str = "/callback";

/// Largest ID token read: an ID token with organization claims is a few KiB.
const MAX_ID_TOKEN: usize = 16 * 1024;

/// The request body: JSON `{"id_token": "…", "scope": "…"}`, or the same as a form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgAdminRequest {
    pub id_token: String,
    #[serde(default)]
    pub scope: Option<String>,
}

impl OrgAdminRequest {
    pub fn from_json(body: &[u8]) -> Result<Self, OAuthError> {
        serde_json::from_slice(body).map_err(|_| {
            OAuthError::invalid_request(
                "the body must be a JSON object with a string id_token and an optional string scope",
            )
        })
    }

    pub fn from_params(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            id_token: p.require("id_token")?.to_owned(),
            scope: p.get("scope").map(str::to_owned),
        })
    }
}

/// A standard token response (RFC 6749 §5.1) and the issued client's credentials
/// (RFC 7591 §3.2.1): both are shown once.
#[derive(Debug, Serialize)]
pub struct OrgAdminCredentials {
    #[serde(flatten)]
    pub tokens: TokenResponse,
    pub client_id: String,
    pub client_secret: String,
    pub registration_access_token: String,
    pub registration_client_uri: String,
}

/// A browser origin an organization's exchange accepts, with the organization: only
/// [`Provider::org_admin_origin`] makes one, so the exchange cannot run for an origin
/// nobody checked.
#[derive(Debug, Clone)]
pub struct AdminOrigin {
    origin: String,
    org: Organization,
}

impl AdminOrigin {
    /// The origin, as `Access-Control-Allow-Origin` repeats it.
    pub fn as_str(&self) -> &str {
        &self.origin
    }
}

fn refused_origin() -> OAuthError {
    OAuthError::Forbidden(
        "this origin may not use the organization's token exchange: use https on one of its \
         verified domains or a subdomain of one"
            .into(),
    )
}

fn denied(why: &'static str) -> OAuthError {
    OAuthError::Forbidden(why.into())
}

/// `origin` when it is exactly a browser's serialization of an https origin
/// (`https://host[:port]`, lowercase, no default port, no path) whose host is one of
/// `domains` or a subdomain of one. Look-alikes (`acme.com.evil.test`, `evilacme.com`),
/// `null`, IP addresses and http never pass. http is refused even on loopback: the
/// client's redirect URI comes from the origin, and an organization's domain is never a
/// loopback name that http redirect URIs allow.
pub(crate) fn allowed_origin(origin: &str, domains: &[DomainName]) -> Option<String> {
    if origin.len() > 300 {
        return None;
    }
    let url = url::Url::parse(origin).ok()?;
    let serialized = url.origin().ascii_serialization();
    if url.scheme() != "https" || serialized != origin {
        return None;
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        return None;
    };
    let under = |d: &DomainName| {
        host == d.as_str()
            || host
                .strip_suffix(d.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    };
    domains.iter().any(under).then_some(serialized)
}

/// Whether a claim names an administrator role: a string, or an array with one.
fn is_admin(x: &OrgAdminExchange, claim: Option<&Value>) -> bool {
    match claim {
        Some(Value::String(r)) => x.is_admin_role(r),
        Some(Value::Array(roles)) => roles
            .iter()
            .take(50)
            .any(|r| r.as_str().is_some_and(|r| x.is_admin_role(r))),
        _ => false,
    }
}

/// The requested scope, within [`ORG_ADMIN_SCOPES`]; all of them when none is asked.
fn requested_scope(raw: Option<&str>) -> Result<ScopeSet, OAuthError> {
    let all = || ScopeSet::from_list(&ORG_ADMIN_SCOPES);
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(all()?);
    };
    let want =
        ScopeSet::parse(raw).map_err(|_| OAuthError::InvalidScope("malformed scope".into()))?;
    match OAuthError::scopes_refused(want.not_in(&all()?)) {
        Some(e) => Err(e),
        None => Ok(want),
    }
}

fn warn(p: &IdentityProvider, reason: &str) {
    tracing::warn!(
        target: "tessera::security",
        event = "org_admin_exchange_refused",
        realm = %p.realm_id,
        idp = %p.settings.alias,
        reason,
        "an organization-admin exchange was refused"
    );
}

impl Provider {
    /// The CORS gate, for the preflight and the exchange alike: the origin when the
    /// organization (by alias) accepts it, else 403 (an unknown organization reads the
    /// same as a refused origin).
    pub async fn org_admin_origin(
        &self,
        realm: &str,
        alias: &str,
        origin: &str,
    ) -> Result<AdminOrigin, OAuthError> {
        let ctx = self.realm(realm).await?;
        let Ok(alias) = OrgAlias::parse(alias) else {
            return Err(refused_origin());
        };
        let org = self
            .store
            .find_org_by_alias(ctx.realm.id, &alias)
            .await?
            .ok_or_else(refused_origin)?;
        let domains = self.verified_domains(ctx.realm.id, org.id).await?;
        let origin = allowed_origin(origin, &domains).ok_or_else(refused_origin)?;
        Ok(AdminOrigin { origin, org })
    }

    /// Runs the exchange for a checked origin: the ID token's provider (by `iss`, among
    /// the organization's providers marked for the exchange), every check of
    /// `federation::trust`, then the organization's rules (external id, administrator
    /// role, domain, session), the local user as the organization's administrator, the
    /// client (new, or this person's for this session and origin with new credentials),
    /// and the tokens of a grant on this organization.
    pub async fn org_admin_exchange(
        &self,
        realm: &str,
        at: &AdminOrigin,
        req: &OrgAdminRequest,
    ) -> Result<OrgAdminCredentials, OAuthError> {
        let ctx = self.realm(realm).await?;
        let org = &at.org;
        if req.id_token.is_empty() || req.id_token.len() > MAX_ID_TOKEN {
            return Err(OAuthError::invalid_request(
                "id_token is missing or too large",
            ));
        }
        let scope = requested_scope(req.scope.as_deref())?;
        let p = self.exchange_provider(&ctx, org, &req.id_token).await?;
        // Re-read: the origin check may be a moment old, and a disabled organization's
        // administrators get nothing.
        let org = self
            .store
            .get_org(ctx.realm.id, org.id)
            .await?
            .filter(|o| o.enabled)
            .ok_or_else(|| denied("the organization is disabled"))?;
        let ext = self
            .verify_external(
                &ctx,
                p.clone(),
                &req.id_token,
                Presented::IdToken,
                JtiUse::Spend,
            )
            .await?;
        let rules = p.settings.org_admin_exchange.clone().unwrap_or_default();
        let text = |k: &str| ext.claims.get(k).and_then(Value::as_str);
        let Some(external_id) = org.external_id.as_deref() else {
            warn(&p, "the organization has no external id");
            return Err(denied(
                "the organization accepts no organization-admin exchange (no external id)",
            ));
        };
        if text(&rules.org_claim) != Some(external_id) {
            warn(&p, "the organization claim names another organization");
            return Err(denied("the ID token is for another organization"));
        }
        if !is_admin(&rules, ext.claims.get(&rules.role_claim)) {
            warn(&p, "the role claim is not an administrator role");
            return Err(denied(
                "the ID token does not make its holder an administrator of the organization",
            ));
        }
        if let Some(claim) = &rules.domain_claim {
            let verified = self.verified_domains(ctx.realm.id, org.id).await?;
            let named = text(claim).and_then(|d| DomainName::parse(d).ok());
            if !named.is_some_and(|d| verified.contains(&d)) {
                warn(&p, "the domain claim is not a verified domain");
                return Err(denied(
                    "the ID token's domain is not a verified domain of the organization",
                ));
            }
        }
        let Some(sid) = ext.sid.clone() else {
            warn(&p, "no sid");
            return Err(OAuthError::InvalidGrant(
                "the ID token names no upstream session (sid)".into(),
            ));
        };
        let user = self.exchange_admin(&ctx, &p, &ext, &org).await?;
        let now = self.clock.now();
        let binding = OrgAdminBinding {
            // The store gives the new client its id.
            client: tessera_domain::ClientUuid(uuid::Uuid::nil()),
            realm_id: ctx.realm.id,
            org_id: org.id,
            user_id: user.id,
            idp_id: p.id,
            upstream_sid: sid,
            origin: at.origin.clone(),
            created_at: now,
        };
        let (client, secret, rat) = self.exchange_client(&ctx, &binding).await?;
        let grant = Grant {
            id: GrantId::new_v7(),
            realm_id: ctx.realm.id,
            client: client.id,
            user_id: user.id,
            session_id: None,
            sid: random_id(),
            scope: scope.clone(),
            auth_time: now,
            offline: false,
            // Removed from the organization, the person's refresh tokens stop working.
            org: Some(OrgSelection::Required(org.id)),
            targets: vec![],
            created_at: now,
            expires_at: now.plus_secs(ctx.realm.lifetimes.refresh_max_secs),
            revoked_at: None,
        };
        self.store.insert_grant(&grant).await?;
        let tokens = issue_user_tokens(
            self,
            &ctx,
            &client,
            UserTokens {
                grant: &grant,
                user: &user,
                scope: scope.clone(),
                org: grant.org,
                targets: Targets::Default(client.apis.audiences.clone()),
                nonce: None,
            },
        )
        .await?;
        tracing::info!(
            target: "tessera::security",
            event = "org_admin_exchange",
            realm = %ctx.realm.name,
            org = %org.alias,
            idp = %p.settings.alias,
            user_id = %user.id,
            client_id = %client.client_id,
            "organization-admin credentials issued"
        );
        Ok(OrgAdminCredentials {
            tokens,
            registration_client_uri: self.registration_client_uri(&ctx, &client.client_id),
            client_id: client.client_id.to_string(),
            client_secret: secret,
            registration_access_token: rat,
        })
    }

    /// The domains an organization has proven it owns.
    pub(crate) async fn verified_domains(
        &self,
        realm: RealmId,
        org: OrgId,
    ) -> Result<Vec<DomainName>, OAuthError> {
        Ok(self
            .store
            .list_org_domains(realm, org)
            .await?
            .into_iter()
            .filter(|d| d.verified)
            .map(|d| d.name)
            .collect())
    }

    /// The organization's provider that issued the token, by its unverified `iss`: only
    /// an enabled provider of this organization marked for the exchange (XID-1). Nothing
    /// is trusted yet; this only picks the one verifier.
    async fn exchange_provider(
        &self,
        ctx: &RealmCtx,
        org: &Organization,
        token: &str,
    ) -> Result<Arc<IdentityProvider>, OAuthError> {
        let refused =
            || OAuthError::InvalidGrant("the ID token's issuer is not trusted here".into());
        let iss = ForeignJws::parse(token)
            .and_then(|j| j.claims())
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| {
                OAuthError::InvalidGrant(
                    "the ID token is not a signed JWT naming its issuer".into(),
                )
            })?;
        let idps = self.realm_idps(ctx).await?;
        let p = idps
            .iter()
            .find(|p| {
                p.settings.org_id == Some(org.id)
                    && p.settings.org_admin_exchange.is_some()
                    && p.settings.issuer == iss
            })
            .ok_or_else(refused)?;
        if !p.settings.enabled {
            warn(p, "the provider is disabled");
            return Err(refused());
        }
        Ok(p.clone())
    }

    /// The token's person as the organization's administrator: the linked user (a member
    /// from then on), or a new managed member; the organization's `admin` role added to
    /// their membership.
    /// A disabled user gets nothing (XID-8).
    async fn exchange_admin(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        ext: &super::trust::ExternalToken,
        org: &Organization,
    ) -> Result<tessera_domain::User, OAuthError> {
        let id = ext.identity();
        let as_denied = |e: OAuthError| match e {
            OAuthError::Broker { desc, .. } => {
                warn(p, &desc);
                denied("the ID token's person has no usable account here")
            }
            e => e,
        };
        // As on the other token paths, the link is not written (a token is not a sign-in).
        let user = match self.store.find_link(ctx.realm.id, p, &id.subject).await? {
            Some(link) => {
                let user = self.linked_user(ctx, p, &link).await.map_err(as_denied)?;
                self.join_provider_org(ctx, p, &user).await?;
                user
            }
            None => {
                let email = id.email.as_deref().and_then(|e| Email::parse(e).ok());
                self.create_upstream_user(ctx, p, &id, email)
                    .await
                    .map_err(as_denied)?
            }
        };
        let realm = ctx.realm.id;
        let membership = self
            .store
            .get_membership(realm, org.id, user.id, true)
            .await?
            .ok_or_else(|| denied("the ID token's person is not a member of the organization"))?;
        if !membership
            .roles
            .iter()
            .any(|r| r.as_str() == OrgRoleName::ADMIN)
        {
            let admin = self
                .store
                .find_org_roles(realm, &[OrgRoleName::parse(OrgRoleName::ADMIN)?])
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| denied("this realm has no organization role admin"))?;
            self.store
                .grant_member_role(realm, org.id, user.id, admin.id)
                .await?;
        }
        Ok(user)
    }

    /// The client for this person, upstream session and origin, with fresh credentials
    /// (shown once): the one issued before, or a new one within the organization's rate.
    async fn exchange_client(
        &self,
        ctx: &RealmCtx,
        b: &OrgAdminBinding,
    ) -> Result<(Client, String, String), OAuthError> {
        let realm = ctx.realm.id;
        let (secret, rat) = (random_token(), random_token());
        let hashes = || (sha256(secret.as_bytes()), sha256(rat.as_bytes()));
        let find = || {
            self.store.find_org_admin_binding(
                realm,
                b.idp_id,
                &b.upstream_sid,
                b.user_id,
                &b.origin,
            )
        };
        if let Some(id) = find().await? {
            let (s, r) = hashes();
            match self.store.rotate_org_admin_client(realm, id, s, r).await {
                Ok(c) => {
                    self.forget_client(realm, &c.client_id).await;
                    return Ok((c, secret, rat));
                }
                // Deleted since (a logout, an RFC 7592 DELETE): make a new one.
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let since = UnixTime(b.created_at.0 - 60);
        if self
            .store
            .count_org_admin_bindings_since(realm, b.org_id, since)
            .await?
            >= CLIENTS_PER_MINUTE
        {
            tracing::warn!(
                target: "tessera::security",
                event = "org_admin_exchange_rate_limited",
                realm = %ctx.realm.name,
                org = %b.org_id,
                "the organization obtained as many clients as it may this minute"
            );
            return Err(OAuthError::RateLimited {
                retry_after_secs: 60,
            });
        }
        let host = url::Url::parse(&b.origin)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let m = ClientMetadata {
            name: Some(host),
            redirect_uris: vec![format!("{}{CALLBACK_PATH}", b.origin)],
            grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
            scopes: Some(vec!["openid".into(), ORG_SCOPE.into()]),
            organization: Some(b.org_id.to_string()),
            admin_console: true,
            ..ClientMetadata::new(format!("org-admin-{}", random_id()))
        };
        let c = self.build_client(&ctx.realm, m).await?;
        let (s, r) = hashes();
        match self.store.insert_org_admin_client(&c, s, r, b).await {
            Ok(client) => Ok((client, secret, rat)),
            // A concurrent first exchange of the same session made it: take that one. Gone
            // again at once (a logout in between): the caller may simply retry.
            Err(StoreError::Conflict) => {
                let id = find().await?.ok_or(OAuthError::TemporarilyUnavailable)?;
                let (s, r) = hashes();
                let c = self
                    .store
                    .rotate_org_admin_client(realm, id, s, r)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => OAuthError::TemporarilyUnavailable,
                        e => e.into(),
                    })?;
                self.forget_client(realm, &c.client_id).await;
                Ok((c, secret, rat))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the clients the exchange bound to an upstream session that ended, as an
    /// RFC 7592 DELETE would: their grants and refresh tokens go with them and their
    /// access tokens stop verifying. Returns how many.
    pub(crate) async fn end_org_admin_clients(
        &self,
        ctx: &RealmCtx,
        idp: IdpId,
        sid: &str,
    ) -> Result<usize, OAuthError> {
        let realm = ctx.realm.id;
        let ids = self
            .store
            .org_admin_clients_of_session(realm, idp, sid)
            .await?;
        let mut ended = 0;
        for id in ids {
            let client = match self.store.get_client(realm, id).await {
                Ok(c) => c,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            match self.store.delete_client(realm, id).await {
                Ok(()) => ended += 1,
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            self.forget_client(realm, &client.client_id).await;
        }
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> Vec<DomainName> {
        vec![DomainName::parse("acme.com").unwrap()]
    }

    #[test]
    fn only_https_origins_on_a_verified_domain_or_under_one_pass() {
        for ok in [
            "https://acme.com",
            "https://admin.acme.com",
            "https://a.b.acme.com:8443",
        ] {
            assert_eq!(allowed_origin(ok, &domains()).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "null",
            "",
            "http://admin.acme.com",
            "https://acme.com.evil.test",
            "https://evilacme.com",
            "https://admin.acme.com/",
            "https://admin.acme.com/path",
            "https://ADMIN.acme.com",
            "https://admin.acme.com:443",
            "https://user@admin.acme.com",
            "https://admin.acme.com.",
            "https://127.0.0.1",
            "http://localhost:3000",
            "file://acme.com",
            "https://acme.com\n",
        ] {
            assert_eq!(allowed_origin(bad, &domains()), None, "{bad:?}");
        }
        assert_eq!(allowed_origin("https://acme.com", &[]), None);
    }

    #[test]
    fn the_role_is_an_admin_role_as_a_string_or_in_an_array() {
        let x = OrgAdminExchange::default();
        let v = |j: Value| is_admin(&x, Some(&j));
        assert!(v(Value::from("Admin")));
        assert!(v(Value::from("OWNER")));
        assert!(v(serde_json::json!(["member", "admin"])));
        assert!(!v(Value::from("member")));
        assert!(!v(serde_json::json!(["member"])));
        assert!(!v(serde_json::json!({"role": "admin"})));
        assert!(!v(serde_json::json!(true)));
        assert!(!is_admin(&x, None));
    }

    #[test]
    fn the_scope_is_a_subset_of_the_organization_admin_scopes() {
        assert_eq!(
            requested_scope(None).unwrap(),
            ScopeSet::from_list(&ORG_ADMIN_SCOPES).unwrap()
        );
        assert_eq!(
            requested_scope(Some(ADMIN_SCOPE)).unwrap().to_string(),
            ADMIN_SCOPE
        );
        assert_eq!(
            requested_scope(Some("tessera:admin offline_access"))
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        assert_eq!(
            requested_scope(Some("a\"b")).unwrap_err().code(),
            "invalid_scope"
        );
    }
}
