use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "initial_access_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    /// SHA-256 of the token; the token itself is shown once and never stored.
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    pub org_id: Option<Uuid>,
    pub remaining: i64,
    pub expires_at: i64,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
