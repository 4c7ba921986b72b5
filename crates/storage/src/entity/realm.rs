use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "realms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub enabled: bool,
    pub access_token_alg: String,
    pub access_token_lifetime_secs: i64,
    /// JSON Argon2id parameters; NULL = OWASP defaults.
    pub password_params: Option<String>,
    pub session_idle_secs: i64,
    pub session_max_secs: i64,
    pub refresh_idle_secs: i64,
    pub refresh_max_secs: i64,
    pub organizations_enabled: bool,
    pub max_delegation_depth: i64,
    pub created_at: i64,
    /// closed, initial-token or open.
    pub registration_mode: String,
    /// JSON limits of open registration; NULL: the defaults.
    pub registration_policy: Option<String>,
    /// Shown on the sign-in pages instead of the name; NULL: the name.
    pub display_name: Option<String>,
    /// An https URL; NULL: no logo.
    pub logo_uri: Option<String>,
    /// Audit events older than this many days are swept.
    pub audit_retention_days: i64,
    pub device_code_lifetime_secs: i64,
    pub device_poll_interval_secs: i64,
    pub ciba_lifetime_secs: i64,
    pub ciba_poll_interval_secs: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
