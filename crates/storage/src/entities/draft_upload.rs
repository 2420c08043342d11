use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "draft_uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub draft_id: Uuid,
    /// The file field it was uploaded for (`hunde[1].nachweis`).
    pub field_path: String,
    /// Object name below the tenant's prefix (`uploads/<id>`).
    pub file_key: String,
    /// Sanitised file name.
    pub name: String,
    /// Type detected from the content.
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
