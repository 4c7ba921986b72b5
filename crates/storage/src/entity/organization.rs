use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub realm_id: Uuid,
    /// Unique per realm.
    pub alias: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// A JSON object.
    pub attributes: String,
    pub created_at: i64,
    /// Unique per realm when set.
    pub external_id: Option<String>,
    /// An https URL; NULL: no logo.
    pub logo_uri: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
