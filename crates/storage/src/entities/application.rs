use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `MS-2026-000123`
    pub reference: String,
    pub year: i32,
    pub seq: i64,
    pub service_id: Option<Uuid>,
    pub form_version_id: Uuid,
    /// Submitted data as JSON (validated against the form version).
    pub data: String,
    pub idempotency_key: Option<String>,
    /// SHA-256 (hex) of the request that came with the idempotency key.
    pub request_hash: Option<String>,
    /// SHA-256 (hex) of the applicant's access token.
    pub access_token_hash: String,
    pub submitted_at: DateTimeUtc,
    /// The citizen account the application belongs to (None: access link only).
    pub citizen_id: Option<Uuid>,
    /// Where notifications go: the account's address or the form's email field.
    pub notify_email: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
