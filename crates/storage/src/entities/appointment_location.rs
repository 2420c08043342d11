//! A place where citizens come in person (Bürgerbüro, Standesamt …): its
//! slot grid, counters, channel quotas, booking window and opening hours
//! (JSON of `rathaus_domain::appointments::OpeningHours`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointment_locations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub org_unit_id: Option<Uuid>,
    pub slug: String,
    pub name: String,
    pub address: String,
    pub land: String,
    pub slot_minutes: i32,
    pub counters: i32,
    pub quota_online: i32,
    pub quota_phone: i32,
    pub quota_internal: i32,
    pub window_days: i32,
    pub internal_window_days: i32,
    pub opening_hours: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
