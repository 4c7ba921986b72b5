//! Signing in through a built-in public client: the console's (`tessera-console`) and
//! the account page's (`tessera-account`). Each is an ordinary code flow with PKCE
//! against the realm's own authorization endpoint, so federation and every login rule
//! apply; its pending state (OAuth `state`, PKCE verifier, the page to return to) travels
//! sealed in a short-lived cookie, and the code is redeemed in-process at the token
//! endpoint like any public client's.

use crate::clients::metadata::ClientMetadata;
use crate::crypto::{ct_eq, random_id, random_token, sha256};
use crate::{OAuthError, Params, Provider, RealmCtx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tessera_domain::{ClientId, UserId};

const PENDING_PURPOSE: &str = "builtin-login";
/// How long the sign-in may take.
pub const PENDING_LIFETIME_SECS: i64 = 15 * 60;

/// A built-in client of one realm, living under `path` of the public URL.
pub struct BuiltIn<'a> {
    pub client_id: &'static str,
    pub name: &'static str,
    pub realm: &'a str,
    /// Its pages' path (no trailing slash); the callback is `{path}/callback`.
    pub path: String,
    /// The page a sign-in returns to when it names none of this client's pages.
    pub start: String,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    verifier: String,
    /// The page to return to (bookmarks survive the sign-in).
    back: String,
    exp: i64,
}

/// The people's pages that sign in through a built-in client of their own: the account
/// page (`tessera-account`) and the approval of requests made on another device
/// (`tessera-device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonPages {
    Account,
    Device,
}

impl PersonPages {
    /// Where the pages live (their start page; the callback is below it).
    pub fn home(self, realm: &str) -> String {
        match self {
            Self::Account => format!("/realms/{realm}/account"),
            Self::Device => format!("/realms/{realm}/device"),
        }
    }

    pub fn builtin(self, realm: &str) -> BuiltIn<'_> {
        let (client_id, name) = match self {
            Self::Account => (tessera_domain::ACCOUNT_CLIENT_ID, "Account"),
            Self::Device => (
                tessera_domain::DEVICE_CLIENT_ID,
                "Device and request approval",
            ),
        };
        BuiltIn {
            client_id,
            name,
            realm,
            path: self.home(realm),
            start: self.home(realm),
        }
    }
}

/// A sign-in begun: where to send the browser, and the sealed value of its login cookie.
pub struct LoginStart {
    pub authorize_url: String,
    pub pending: String,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl BuiltIn<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("{}|{}", self.client_id, self.path).into_bytes()
    }

    /// Whether `back` is one of this client's pages (a path under its own, no tricks).
    fn owns(&self, back: &str) -> bool {
        let rest = back.strip_prefix(&self.path);
        rest.is_some_and(|r| r.is_empty() || r.starts_with('/') || r.starts_with('?'))
            && back.len() < 1024
            && !back.contains("//")
            && !back.contains('\\')
    }
}

impl Provider {
    /// Begins a sign-in for one of the people's pages, back to its page `back` afterwards.
    pub async fn pages_login(
        &self,
        pages: PersonPages,
        realm: &str,
        back: &str,
    ) -> Result<LoginStart, OAuthError> {
        self.builtin_login(&pages.builtin(realm), back, None).await
    }

    /// Ends that sign-in (the realm's session is now the browser's); returns the page to
    /// go to.
    pub async fn pages_callback(
        &self,
        pages: PersonPages,
        realm: &str,
        pending: Option<&str>,
        state: Option<&str>,
        code: Option<&str>,
    ) -> Result<String, OAuthError> {
        let (_, _, back) = self
            .builtin_callback(&pages.builtin(realm), pending, state, code)
            .await?;
        Ok(back)
    }

    /// The built-in client's redirect URI.
    pub fn builtin_callback_url(&self, b: &BuiltIn<'_>) -> String {
        format!("{}{}/callback", self.public_url, b.path)
    }

    /// The built-in client as this server's public URL makes it: written when missing or
    /// different (only when a sign-in starts, never on a protocol path).
    async fn ensure_builtin_client(
        &self,
        ctx: &RealmCtx,
        b: &BuiltIn<'_>,
    ) -> Result<(), OAuthError> {
        let wanted = ClientMetadata {
            name: Some(b.name.into()),
            public: true,
            token_endpoint_auth_method: Some("none".into()),
            redirect_uris: vec![self.builtin_callback_url(b)],
            post_logout_redirect_uris: vec![format!("{}{}", self.public_url, b.start)],
            grant_types: Some(vec!["authorization_code".into()]),
            scopes: Some(vec!["openid".into()]),
            // The pages act through sessions of their own, never through the tokens of
            // this client: they are no admin API credential.
            admin_console: false,
            ..ClientMetadata::new(b.client_id)
        };
        let id = ClientId::parse(b.client_id).expect("a valid client id");
        let built = self.build_client(&ctx.realm, wanted).await?;
        match self.client(ctx, &id).await? {
            Some(c)
                if c.redirect_uris == built.redirect_uris
                    && !c.admin_console
                    && c.enabled
                    && c.oidc.post_logout_redirect_uris == built.oidc.post_logout_redirect_uris =>
            {
                Ok(())
            }
            Some(c) => {
                self.store()
                    .update_client(ctx.realm.id, c.id, &built)
                    .await?;
                self.forget_client(ctx.realm.id, &id).await;
                Ok(())
            }
            None => {
                let r = self
                    .store()
                    .insert_client(
                        ctx.realm.id,
                        tessera_domain::ClientUuid::new_v7(),
                        &built,
                        None,
                        self.clock().now(),
                    )
                    .await;
                match r {
                    // Another sign-in created it meanwhile.
                    Ok(_) | Err(tessera_storage::StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
                self.forget_client(ctx.realm.id, &id).await;
                Ok(())
            }
        }
    }

    /// Begins a sign-in through `b`, returning to its page `back` afterwards (anything
    /// that is not one of its pages returns to its start).
    /// With `via`, the sign-in goes straight to that identity provider and asks it for a
    /// fresh login (an administrator trying a provider out).
    pub async fn builtin_login(
        &self,
        b: &BuiltIn<'_>,
        back: &str,
        via: Option<&tessera_domain::IdpAlias>,
    ) -> Result<LoginStart, OAuthError> {
        let ctx = self.realm(b.realm).await?;
        self.ensure_builtin_client(&ctx, b).await?;
        let back = match b.owns(back) {
            true => back.to_owned(),
            false => b.start.clone(),
        };
        let p = Pending {
            state: random_id(),
            verifier: random_token(),
            back,
            exp: self.clock().now().0 + PENDING_LIFETIME_SECS,
        };
        let challenge = URL_SAFE_NO_PAD.encode(sha256(p.verifier.as_bytes()));
        let mut authorize_url = format!(
            "{}/protocol/openid-connect/auth?client_id={}&response_type=code\
             &scope=openid&redirect_uri={}&state={}&code_challenge={challenge}\
             &code_challenge_method=S256",
            ctx.issuer,
            b.client_id,
            enc(&self.builtin_callback_url(b)),
            p.state,
        );
        if let Some(alias) = via {
            authorize_url.push_str(&format!(
                "&kc_idp_hint={}&prompt=login",
                enc(alias.as_str())
            ));
        }
        let json = serde_json::to_vec(&p).expect("pending login serializes");
        let pending =
            URL_SAFE_NO_PAD.encode(self.master.subkey(PENDING_PURPOSE).seal(&json, &b.aad()));
        Ok(LoginStart {
            authorize_url,
            pending,
        })
    }

    /// Ends a sign-in: the callback's `state` must be the pending one, and the code is
    /// redeemed at the realm's token endpoint as any public client's (PKCE included).
    /// Returns who signed in and the page to go to.
    pub async fn builtin_callback(
        &self,
        b: &BuiltIn<'_>,
        pending: Option<&str>,
        state: Option<&str>,
        code: Option<&str>,
    ) -> Result<(Arc<RealmCtx>, UserId, String), OAuthError> {
        let bad = || {
            OAuthError::invalid_request(
                "the sign-in is invalid or has expired; open the page again",
            )
        };
        let raw = pending
            .filter(|p| p.len() < 4096)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .ok_or_else(bad)?;
        let json = self
            .master
            .subkey(PENDING_PURPOSE)
            .open(&raw, &b.aad())
            .map_err(|_| bad())?;
        let p: Pending = serde_json::from_slice(&json).map_err(|_| bad())?;
        let state = state.ok_or_else(bad)?;
        if p.exp <= self.clock().now().0 || !ct_eq(p.state.as_bytes(), state.as_bytes()) {
            return Err(bad());
        }
        let code = code.ok_or_else(bad)?;
        let params = Params::from_pairs(vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), self.builtin_callback_url(b)),
            ("client_id".into(), b.client_id.into()),
            ("code_verifier".into(), p.verifier.clone()),
        ]);
        let issued = self.token(b.realm, None, &params).await?;
        let ctx = self.realm(b.realm).await?;
        let claims = self
            .resolve_access_token(&ctx, &issued.access_token)
            .await?
            .ok_or_else(bad)?;
        let user = uuid::Uuid::parse_str(&claims.sub)
            .map(UserId)
            .map_err(|_| bad())?;
        Ok((ctx, user, p.back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_returns_only_to_a_page_of_its_own_client() {
        let b = BuiltIn {
            client_id: "tessera-account",
            name: "Account",
            realm: "demo",
            path: "/realms/demo/account".into(),
            start: "/realms/demo/account".into(),
        };
        for ok in [
            "/realms/demo/account",
            "/realms/demo/account?notice=saved",
            "/realms/demo/account/email",
        ] {
            assert!(b.owns(ok), "{ok}");
        }
        for bad in [
            "/realms/demo/accounts",
            "/realms/other/account",
            "//evil.example/realms/demo/account",
            "/realms/demo/account//evil.example",
            "/realms/demo/account/\\evil",
            "https://evil.example/realms/demo/account",
        ] {
            assert!(!b.owns(bad), "{bad}");
        }
        assert_ne!(
            b.aad(),
            BuiltIn {
                client_id: "tessera-console",
                ..b
            }
            .aad(),
            "one client's pending sign-in does not open for another"
        );
    }
}
