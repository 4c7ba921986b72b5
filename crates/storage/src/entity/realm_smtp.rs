use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "realm_smtp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub realm_id: Uuid,
    pub host: String,
    pub port: i32,
    pub security: String,
    pub username: Option<String>,
    /// Sealed by the engine (AES-256-GCM under the master key, bound to the realm).
    pub password_sealed: Option<Vec<u8>>,
    pub from_address: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
