use sea_orm::entity::prelude::*;

/// One routing rule of a service: when the form value at `field` matches
/// `pattern`, the case goes to `org_unit_id`. Rules are tried by `position`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub service_id: Uuid,
    pub position: i32,
    pub field: String,
    pub pattern: String,
    pub org_unit_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
