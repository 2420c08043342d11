//! A piece of incoming mail in the electronic in-tray, with its extracted text and the proposals where it goes (JSON).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "intray_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub status: String,
    pub received_at: DateTimeUtc,
    pub uploaded_by: Uuid,
    pub file_key: String,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub kind: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    pub proposals: String,
    pub target_file_id: Option<Uuid>,
    pub document_id: Option<Uuid>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
