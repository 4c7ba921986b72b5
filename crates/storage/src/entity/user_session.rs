use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    pub sid: String,
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub auth_time: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub upstream_idp: Option<Uuid>,
    pub upstream_sub: Option<String>,
    pub upstream_sid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
