use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    pub alias: String,
    pub display_name: Option<String>,
    pub issuer: String,
    pub client_id: String,
    pub secret_sealed: Vec<u8>,
    pub scopes: String,
    pub auth_method: String,
    pub trust_email: bool,
    pub email_optional: bool,
    pub create_users: bool,
    pub org_id: Option<Uuid>,
    pub domains: String,
    pub redirect_on_domain: bool,
    pub hide_on_login: bool,
    pub required_claims: String,
    pub enabled: bool,
    pub created_at: i64,
    /// JSON of `TokenTrust`: the provider's tokens are accepted.
    pub token_trust: Option<String>,
    /// A token-only issuer's keys: `{"jwks_uri": …}` or `{"jwks": {…}}`.
    pub signing_keys: Option<String>,
    /// JSON of `OrgAdminExchange`.
    pub org_admin_exchange: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
