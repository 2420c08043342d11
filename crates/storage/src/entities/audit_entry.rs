use sea_orm::entity::prelude::*;

/// One entry of a tenant's hash-chained audit log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: Uuid,
    pub case_id: Uuid,
    pub actor: String,
    pub action: String,
    /// JSON details.
    pub detail: String,
    /// RFC 3339 with microseconds, exactly as hashed.
    pub at: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
