//! An Umlaufmappe: a Vorgang (or one of its documents) circulating through an ordered list of people.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "circulations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub record_file_id: Uuid,
    pub document_id: Option<Uuid>,
    pub title: String,
    pub instruction: String,
    pub started_by: Uuid,
    pub started_at: DateTimeUtc,
    pub status: String,
    pub current_step: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
