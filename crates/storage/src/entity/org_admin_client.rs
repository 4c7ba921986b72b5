use sea_orm::entity::prelude::*;

/// A client the organization-admin exchange issued, bound to the upstream session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "org_admin_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: Uuid,
    pub realm_id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub idp_id: Uuid,
    pub upstream_sid: String,
    pub origin: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
