//! Upstream identity providers of a realm and the links of users to them, shared by the
//! admin REST API and the CLI. Realm administrators manage them; an organization's
//! administrators may read their own organization's providers, and no other (ISO-10).
//! The client secret is write-only: sealed on the way in, bound to the realm and the
//! provider's id, and in no view.

use super::{AdminPrincipal, conflict, not_found};
use crate::{OAuthError, Provider, RealmCtx};
use std::sync::Arc;
use tessera_domain::{
    DiscoveryPreview, FederatedIdentity, IdentityProvider, IdpAlias, IdpId, IdpSettings, OrgAlias,
    OrgId, RealmId, UnixTime, UserId,
};
use tessera_storage::StoreError;

/// Longest upstream client secret.
pub const MAX_SECRET_CHARS: usize = 1024;

/// A provider as an administrator sets it, created or replaced as a whole.
#[derive(Debug, Clone)]
pub struct IdpDraft {
    /// Everything but `org_id`, which is resolved from `organization`. On replacement,
    /// `settings.alias` names the provider (an alias never changes).
    pub settings: IdpSettings,
    /// The organization whose provider this is, by alias.
    pub organization: Option<OrgAlias>,
}

/// A provider as administrators see it: never its secret, and with the two addresses to
/// register at the upstream.
#[derive(Debug, Clone)]
pub struct IdpView {
    pub id: IdpId,
    pub settings: IdpSettings,
    /// The alias of the organization whose provider this is.
    pub organization: Option<OrgAlias>,
    pub created_at: UnixTime,
    /// Where the upstream sends the browser back: its redirect URI for us.
    pub redirect_uri: String,
    /// Where the upstream posts logout tokens (OIDC Back-Channel Logout).
    pub backchannel_logout_uri: String,
}

/// RFC 6749 Appendix A.2: a client secret is made of VSCHARs.
fn check_secret(secret: &str) -> Result<(), OAuthError> {
    let ok = !secret.is_empty()
        && secret.len() <= MAX_SECRET_CHARS
        && secret.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(
            "client_secret must be 1 to 1024 printable ASCII characters",
        ))
    }
}

/// The secret a provider needs: one for a sign-in provider, none for a token-only issuer.
fn secret_for<'a>(s: &IdpSettings, secret: Option<&'a str>) -> Result<Option<&'a str>, OAuthError> {
    match (s.token_only(), secret) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(OAuthError::invalid_request(
            "a token-only issuer (jwks or jwks_uri) has no client secret",
        )),
        (false, Some(secret)) => check_secret(secret).map(|()| Some(secret)),
        (false, None) => Err(OAuthError::invalid_request(
            "client_secret is required (a token-only issuer gives jwks or jwks_uri instead)",
        )),
    }
}

/// Whether the caller may read this provider: a realm administrator any of them, an
/// organization's administrator only their organization's (ISO-10).
fn reads(caller: &AdminPrincipal, p: &IdentityProvider) -> bool {
    caller.manages_realm(p.realm_id)
        || p.settings
            .org_id
            .is_some_and(|org| caller.manages_org(p.realm_id, org))
}

impl Provider {
    /// The draft's settings with `org_id` set, checked: the organization must be one of
    /// this realm, and every domain one of that organization's. What the realm's state
    /// refuses is a conflict (409), what the settings' own rules refuse a bad request.
    async fn resolve_idp_draft(
        &self,
        realm: RealmId,
        draft: IdpDraft,
    ) -> Result<IdpSettings, OAuthError> {
        let IdpDraft {
            mut settings,
            organization,
        } = draft;
        // The body's own rules first: a bad request, never a conflict.
        if let Some(tessera_domain::ClientKeys::Jwks(text)) = &settings.keys {
            let set = serde_json::from_str(text)
                .map_err(|_| OAuthError::invalid_request("jwks is not a JSON document"))?;
            crate::clients::metadata::public_jwk_set(&set)?;
        }
        settings.org_id = match &organization {
            None => None,
            Some(alias) => {
                let org = self
                    .store()
                    .find_org_by_alias(realm, alias)
                    .await?
                    .ok_or_else(|| {
                        OAuthError::Conflict(
                            format!("the realm has no organization {alias}").into(),
                        )
                    })?;
                let owned = self.store().list_org_domains(realm, org.id).await?;
                if let Some(d) = settings
                    .domains
                    .iter()
                    .find(|d| !owned.iter().any(|o| o.name == **d))
                {
                    return Err(OAuthError::Conflict(
                        format!(
                            "domain {} is not a domain of organization {alias}",
                            d.as_str()
                        )
                        .into(),
                    ));
                }
                Some(org.id)
            }
        };
        settings.validate()?;
        // A token-only issuer is never called at its issuer URL, only at its jwks_uri.
        let called = match &settings.keys {
            Some(tessera_domain::ClientKeys::JwksUri(u)) => Some(("jwks_uri", u.to_string())),
            Some(tessera_domain::ClientKeys::Jwks(_)) => None,
            None => Some(("issuer", settings.issuer.clone())),
        };
        if let Some((field, url)) = called
            && let Err(why) = self.outbound().precheck(&url)
        {
            return Err(OAuthError::InvalidRequest(
                format!("{field}: {why} (see the setting outbound_allow_private)").into(),
            ));
        }
        Ok(settings)
    }

    async fn idp_view(&self, ctx: &RealmCtx, p: IdentityProvider) -> Result<IdpView, OAuthError> {
        let organization = match p.settings.org_id {
            Some(org) => self
                .store()
                .get_org(ctx.realm.id, org)
                .await?
                .map(|o| o.alias),
            None => None,
        };
        let alias = &p.settings.alias;
        Ok(IdpView {
            redirect_uri: self.broker_redirect_uri(&ctx.realm.name, alias),
            backchannel_logout_uri: self.broker_logout_uri(&ctx.realm.name, alias),
            id: p.id,
            organization,
            created_at: p.created_at,
            settings: p.settings,
        })
    }

    /// The realm's providers the caller may read, by alias; only `org`'s when given.
    async fn idp_views(
        &self,
        caller: &AdminPrincipal,
        ctx: &RealmCtx,
        org: Option<OrgId>,
    ) -> Result<Vec<IdpView>, OAuthError> {
        let mut out = Vec::new();
        for p in self.store().list_idps(ctx.realm.id).await? {
            if reads(caller, &p) && org.is_none_or(|o| p.settings.org_id == Some(o)) {
                out.push(self.idp_view(ctx, p).await?);
            }
        }
        Ok(out)
    }

    /// A provider of the realm that the caller may read: anything else is not found.
    async fn admin_idp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        alias: &IdpAlias,
    ) -> Result<(Arc<RealmCtx>, IdentityProvider), OAuthError> {
        let ctx = self.admin_realm(realm).await?;
        match self.store().find_idp(ctx.realm.id, alias).await? {
            Some(p) if reads(caller, &p) => Ok((ctx, p)),
            _ => Err(not_found("identity provider")),
        }
    }

    /// Creates a provider; its secret is sealed to it (realm and id) before it is stored.
    /// A sign-in provider needs a secret; a token-only issuer (own keys) has none.
    pub async fn create_idp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        draft: IdpDraft,
        secret: Option<&str>,
    ) -> Result<IdpView, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        let settings = self.resolve_idp_draft(ctx.realm.id, draft).await?;
        let secret = secret_for(&settings, secret)?;
        let mut p = IdentityProvider {
            id: IdpId::new_v7(),
            realm_id: ctx.realm.id,
            settings,
            secret_sealed: Vec::new(),
            created_at: self.clock().now(),
        };
        if let Some(secret) = secret {
            p.secret_sealed = self.seal_idp_secret(&p, secret);
        }
        self.store()
            .insert_idp(&p)
            .await
            .map_err(conflict("provider with this alias"))?;
        self.forget_idp(&p).await;
        self.idp_view(&ctx, p).await
    }

    /// Reads the discovery document at `issuer` for a realm administrator deciding to add
    /// it; nothing is stored. The fetch goes through the guarded outbound client.
    pub async fn preview_idp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        issuer: &str,
    ) -> Result<DiscoveryPreview, OAuthError> {
        caller.require_realm_admin()?;
        self.admin_realm(realm).await?;
        if let Err(why) = self.outbound().precheck(issuer) {
            return Err(OAuthError::InvalidRequest(
                format!("issuer: {why} (see the setting outbound_allow_private)").into(),
            ));
        }
        self.discovery_preview(issuer).await
    }

    /// The realm's providers by alias (an organization's administrator: their own
    /// organization's only).
    pub async fn list_idps(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
    ) -> Result<Vec<IdpView>, OAuthError> {
        let ctx = self.admin_realm(realm).await?;
        self.idp_views(caller, &ctx, None).await
    }

    /// An organization's providers, for its administrators and realm administrators.
    pub async fn org_idps(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
    ) -> Result<Vec<IdpView>, OAuthError> {
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        self.idp_views(caller, &ctx, Some(org.id)).await
    }

    pub async fn get_idp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        alias: &IdpAlias,
    ) -> Result<IdpView, OAuthError> {
        let (ctx, p) = self.admin_idp(caller, realm, alias).await?;
        self.idp_view(&ctx, p).await
    }

    /// Replaces the settings of the provider `draft.settings.alias` names. Without a new
    /// secret the stored one is kept, for the same issuer only: a secret is never sent to
    /// another server than the one that issued it.
    pub async fn update_idp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        draft: IdpDraft,
        secret: Option<&str>,
    ) -> Result<IdpView, OAuthError> {
        caller.require_realm_admin()?;
        secret.map(check_secret).transpose()?;
        let (ctx, old) = self.admin_idp(caller, realm, &draft.settings.alias).await?;
        let settings = self.resolve_idp_draft(ctx.realm.id, draft).await?;
        let sealed = match secret {
            _ if settings.token_only() => {
                if secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "a token-only issuer (jwks or jwks_uri) has no client secret",
                    ));
                }
                Some(Vec::new())
            }
            Some(s) => Some(self.seal_idp_secret(&old, s)),
            // A token-only issuer turned into a sign-in provider: it has no secret yet.
            None if old.secret_sealed.is_empty() => {
                return Err(OAuthError::Conflict(
                    "a sign-in provider needs its client_secret: none is stored".into(),
                ));
            }
            None if settings.issuer != old.settings.issuer => {
                return Err(OAuthError::Conflict(
                    "a new issuer needs its client_secret: the stored one is only ever sent to \
                     the issuer it was set for"
                        .into(),
                ));
            }
            None => None,
        };
        let p = self
            .store()
            .update_idp(ctx.realm.id, old.id, &settings, sealed)
            .await?;
        self.forget_idp(&old).await;
        self.forget_idp(&p).await;
        self.idp_view(&ctx, p).await
    }

    /// Deletes a provider and its links (the linked users stay).
    pub async fn delete_idp(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        alias: &IdpAlias,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let (ctx, p) = self.admin_idp(caller, realm, alias).await?;
        self.store().delete_idp(ctx.realm.id, p.id).await?;
        self.forget_idp(&p).await;
        Ok(())
    }

    /// A user's links to upstream accounts, by provider alias.
    pub async fn user_links(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        user: UserId,
    ) -> Result<Vec<FederatedIdentity>, OAuthError> {
        let u = self.get_user(caller, realm, user).await?;
        Ok(self.store().list_user_links(u.realm_id, u.id).await?)
    }

    /// Unlinks a user from their account at a provider; the user stays.
    pub async fn delete_user_link(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        user: UserId,
        alias: &IdpAlias,
    ) -> Result<(), OAuthError> {
        let u = self.get_user(caller, realm, user).await?;
        let p = self
            .store()
            .find_idp(u.realm_id, alias)
            .await?
            .ok_or_else(|| not_found("identity provider"))?;
        self.store()
            .delete_link(u.realm_id, u.id, p.id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => not_found("federated identity"),
                e => e.into(),
            })
    }
}
