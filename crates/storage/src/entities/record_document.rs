use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub record_file_id: Uuid,
    /// Position in the Vorgang (1, 2, …).
    pub number: i32,
    /// `application_data`, `receipt`, `upload`, `message`, `decision`, `staff`
    pub kind: String,
    pub title: String,
    /// The application file or message it was filed from.
    pub source_id: Option<Uuid>,
    pub document_date: Date,
    pub filed_at: DateTimeUtc,
    /// None: filed by the platform itself.
    pub filed_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
