//! A booking (held, waiting for its e-mail confirmation, confirmed, …).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointment_bookings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub code: String,
    pub location_id: Uuid,
    pub service_id: Uuid,
    /// Local wall-clock time of the municipality.
    pub starts_at: DateTime,
    pub ends_at: DateTime,
    pub slots: i32,
    pub channel: String,
    pub status: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub hold_until: Option<DateTimeUtc>,
    /// SHA-256 of the confirmation link's secret (the secret itself is made
    /// when the e-mail goes out and never stored).
    pub confirm_hash: Option<String>,
    pub sequence: i32,
    pub waitlist_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub reminder_sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
