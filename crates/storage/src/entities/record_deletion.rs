use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_deletions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub record_file_id: Uuid,
    pub file_number: String,
    pub disposal_id: Option<Uuid>,
    /// JSON: what was destroyed (document id, title, SHA-256, size each).
    pub documents: String,
    pub deleted_at: DateTimeUtc,
    pub requested_by: Uuid,
    pub approved_by: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
