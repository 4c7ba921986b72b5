use sea_orm::entity::prelude::*;

/// An external token's `jti`, used once per provider until the token expires.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "external_token_jtis")]
pub struct Model {
    pub realm_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idp_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub jti: String,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
