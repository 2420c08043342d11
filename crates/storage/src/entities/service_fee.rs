//! The fee of a service (the domain's `FeeSpec` as JSON) and its booking data.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_fees")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: Uuid,
    pub tenant_id: Uuid,
    pub fee: String,
    pub haushaltsstelle: String,
    pub objektnummer: String,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<Uuid>,
    /// `before` (pay before sending) or `later` (on request).
    pub collect: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
