use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_disposal_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub disposal_id: Uuid,
    pub record_file_id: Uuid,
    /// The plan's proposal: `A`, `V`, `B`.
    pub proposal: String,
    /// The archive's decision (0502): `A` or `V`.
    pub decision: Option<String>,
    /// The archive's own id for it (receipt).
    pub archive_id: Option<String>,
    pub receipt_ok: Option<bool>,
    pub receipt_message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
