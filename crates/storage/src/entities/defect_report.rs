//! A defect report: where, what, who to tell (personal data, removed when
//! the report is closed and its purpose ended), its public status and note,
//! and moderation. The report is also an application with a case
//! (`application_id`, `case_id`, `reference`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defect_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub category_id: Uuid,
    pub application_id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
    pub token: String,
    pub status: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub landmark: Option<String>,
    pub description: String,
    pub attributes: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub citizen_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    pub media_url: Option<String>,
    pub public_note: Option<String>,
    pub text_public: bool,
    pub photos_public: bool,
    pub moderated_at: Option<DateTimeUtc>,
    pub merged_into: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
