use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub case_id: Uuid,
    pub application_id: Uuid,
    pub plan_node_id: Option<Uuid>,
    pub org_unit_id: Uuid,
    /// Aktenzeichen, e.g. `32.10.05-MS-2026-000123`.
    pub file_number: String,
    pub subject: String,
    /// `open`, `closed`, `offered`, `archived`, `destroyed`
    pub status: String,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// The day the retention counts from (its trigger event).
    pub event_on: Option<Date>,
    pub legal_hold: bool,
    pub legal_hold_reason: Option<String>,
    pub legal_hold_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
