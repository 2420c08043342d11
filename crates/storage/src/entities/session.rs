//! Browser sessions. Platform-level (not tenant-owned): a session exists
//! before anyone logs in; the tenant of a logged-in user is inside `data`
//! and checked on every request.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub data: String,
    pub expires_at_ms: i64,
    /// When the session was created (epoch ms): the absolute lifetime counts
    /// from here, however active the session is.
    pub created_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
