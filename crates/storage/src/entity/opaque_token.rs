use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opaque_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub realm_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: Vec<u8>,
    pub jti: String,
    pub client_uuid: Uuid,
    pub client_id: String,
    pub subject: String,
    pub scope: String,
    pub audience: String,
    pub roles: String,
    pub grant_id: Option<Uuid>,
    pub sid: Option<String>,
    pub org_claim: Option<String>,
    pub org_id: Option<Uuid>,
    pub act: Option<String>,
    /// Space-separated jtis of the tokens this one was exchanged from.
    pub lineage: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
