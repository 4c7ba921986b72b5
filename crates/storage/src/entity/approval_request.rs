use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "approval_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    /// device or ciba.
    pub kind: String,
    pub client_uuid: Uuid,
    /// SHA-256 of the device code or `auth_req_id`.
    pub handle_hash: Vec<u8>,
    /// SHA-256 of a device request's user code (normalized).
    pub user_code_hash: Option<Vec<u8>>,
    pub scope: String,
    /// Space-separated RFC 8707 targets.
    pub targets: String,
    pub user_id: Option<Uuid>,
    pub binding_message: Option<String>,
    pub acr_values: Option<String>,
    /// A ping client's notification token, sealed under the master key.
    pub notification_token: Option<Vec<u8>>,
    /// pending, approved, denied or redeemed.
    pub status: String,
    pub session_id: Option<Uuid>,
    pub sid: Option<String>,
    pub auth_time: Option<i64>,
    pub organization: Option<String>,
    pub signed_in_via: Option<String>,
    pub interval_secs: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
