use sea_orm::entity::prelude::*;

/// A change to a record that is not a version of its content (archiving a
/// service, attaching a form to a service): requested by one editor, in
/// effect only once another approves it (four eyes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "editorial_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `services` or `forms`.
    pub kind: String,
    pub record_id: Uuid,
    /// `archive` or `attach`.
    pub action: String,
    /// For `attach`: the service (none: detach).
    pub target_id: Option<Uuid>,
    pub requested_by: Uuid,
    pub requested_at: DateTimeUtc,
    /// `pending`, `approved`, `rejected` or `replaced`.
    pub status: String,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
