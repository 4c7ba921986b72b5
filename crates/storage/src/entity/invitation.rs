use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    pub org_id: Uuid,
    /// As given, and NFC + lower case for matching the accepting user.
    pub email: String,
    pub email_normalized: String,
    /// Space-separated role names.
    pub roles: String,
    pub status: String,
    /// Id of the current link's token; resending replaces it.
    pub jti: String,
    /// The current link was e-mailed to the address.
    pub delivered: bool,
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
