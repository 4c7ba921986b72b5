use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    pub client_id: String,
    pub name: String,
    pub enabled: bool,
    pub secret_hash: Option<Vec<u8>>,
    /// Space-separated lists: none of these values may contain a space.
    pub redirect_uris: String,
    pub grant_types: String,
    pub scopes: String,
    pub roles: String,
    pub access_token_format: String,
    pub consent_required: bool,
    pub id_token_alg: String,
    pub post_logout_redirect_uris: String,
    pub backchannel_logout_uri: Option<String>,
    /// CIBA: poll, ping or NULL (poll).
    pub ciba_delivery_mode: Option<String>,
    pub ciba_notification_endpoint: Option<String>,
    pub org_id: Option<Uuid>,
    pub org_claim_format: String,
    /// JSON `ExchangePolicy`; NULL: no token exchange.
    pub exchange_policy: Option<String>,
    /// May obtain tokens for the admin API (scope `tessera:admin`) for its users.
    pub admin_console: bool,
    pub created_at: i64,
    pub token_endpoint_auth_method: String,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    /// Space-separated; the realm-wide uniqueness lives in `client_resource_uris`.
    pub resource_uris: String,
    pub audiences: String,
    pub application_type: String,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub contacts: String,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub registration_token_hash: Option<Vec<u8>>,
    pub registered_openly: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
