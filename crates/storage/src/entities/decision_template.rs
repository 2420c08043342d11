use sea_orm::entity::prelude::*;

/// A Bescheid template: per service (or the tenant's default when
/// `service_id` is empty) and variant (`approval`, `rejection`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decision_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub service_id: Option<Uuid>,
    pub variant: String,
    pub title: String,
    /// Text with `{{placeholders}}` (see `rathaus_domain::decisions`).
    pub body: String,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
