use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_exchanges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    pub parent_jti: String,
    pub child_jti: String,
    pub subject: String,
    /// JSON array of actor `sub`s, outermost first.
    pub actors: String,
    pub client_id: String,
    pub reason: Option<String>,
    pub created_at: i64,
    pub external_issuer: Option<String>,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
