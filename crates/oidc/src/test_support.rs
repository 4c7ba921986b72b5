//! Fixtures the engine's unit tests share.

use tessera_domain::{
    AccessTokenFormat, AuthMethod, Client, ClientId, ClientUuid, GrantType, RealmId, RedirectUri,
    ScopeSet, UnixTime,
};

/// A confidential client `id` of a fresh realm that signs users in at
/// `https://app.example/cb` with `openid profile email`.
pub fn client(id: &str) -> Client {
    Client {
        id: ClientUuid::new_v7(),
        realm_id: RealmId::new_v7(),
        client_id: ClientId::parse(id).unwrap(),
        name: id.into(),
        enabled: true,
        auth_method: AuthMethod::ClientSecretBasic,
        keys: None,
        apis: Default::default(),
        profile: Default::default(),
        secret_hash: Some(vec![0; 32]),
        redirect_uris: vec![RedirectUri::parse("https://app.example/cb").unwrap()],
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: ScopeSet::parse("openid profile email").unwrap(),
        roles: vec![],
        access_token_format: AccessTokenFormat::Jwt,
        oidc: Default::default(),
        org: Default::default(),
        exchange: None,
        admin_console: false,
        registration_token_hash: None,
        registered_openly: false,
        created_at: UnixTime(0),
    }
}
