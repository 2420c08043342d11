//! A place on the waiting list of a service at a location.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointment_waitlist")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub code: String,
    pub location_id: Uuid,
    pub service_id: Uuid,
    pub name: String,
    pub email: String,
    pub from_day: Date,
    pub to_day: Date,
    /// `waiting`, `offered` (a time is held for them), `booked`, `ended`.
    pub status: String,
    pub booking_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
