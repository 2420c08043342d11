//! One slot of a location's grid: capacity and bookings per channel.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointment_slots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub location_id: Uuid,
    /// Local wall-clock time of the municipality.
    pub starts_at: DateTime,
    pub day: Date,
    pub cap_online: i32,
    pub cap_phone: i32,
    pub cap_internal: i32,
    pub booked_online: i32,
    pub booked_phone: i32,
    pub booked_internal: i32,
    pub blocked: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
