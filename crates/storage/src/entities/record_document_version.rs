use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_document_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub document_id: Uuid,
    pub number: i32,
    /// Object name below the tenant's prefix.
    pub file_key: String,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    /// The extracted text (for full-text search; none for binary content).
    pub text: Option<String>,
    /// The electronic seal over the content (JSON, `rathaus-seal/1`).
    pub seal: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
