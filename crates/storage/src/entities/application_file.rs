use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub application_id: Uuid,
    /// The form field the file belongs to (`hunde[1].erlaubnis`).
    pub field_path: String,
    /// Object name below the tenant's prefix.
    pub file_key: String,
    pub name: String,
    /// Type detected from the content.
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    /// The mailbox message the file came with (an applicant's answer); none for the application's own files.
    pub message_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
