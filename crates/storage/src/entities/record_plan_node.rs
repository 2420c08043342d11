use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_plan_nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub parent_id: Option<Uuid>,
    /// `32.10.05`
    pub code: String,
    pub title: String,
    /// Retention in years (groups without a rule: none).
    pub retention_years: Option<i32>,
    /// `case_closed`, `decision_final`
    pub retention_trigger: Option<String>,
    /// `A`, `V`, `B`
    pub disposition: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
