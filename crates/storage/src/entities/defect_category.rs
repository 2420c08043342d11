//! A kind of defect citizens report (an Open311 service): its extra
//! attributes (JSON of `rathaus_domain::defects::AttributeDef`) and routing
//! (`org_unit_id` by default; `routes`: JSON list of areas with their unit).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "defect_categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub code: String,
    pub name: String,
    pub description: String,
    pub keywords: String,
    pub group_name: String,
    pub org_unit_id: Uuid,
    pub routes: String,
    pub attributes: String,
    pub position: i32,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
