use sea_orm::entity::prelude::*;

/// One message of an application's mailbox thread.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub application_id: Uuid,
    /// `message`, `document_request`, `answer`
    pub kind: String,
    /// Written by the office (else by the applicant).
    pub from_office: bool,
    pub author_id: Option<Uuid>,
    pub body: String,
    /// For document requests: which documents, one per line.
    pub requested_documents: Option<String>,
    pub due_date: Option<Date>,
    pub created_at: DateTimeUtc,
    /// When the other side first opened it (for the office's messages: Bekanntgabe).
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
