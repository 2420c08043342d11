//! A payment of an application's fee at a provider.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub application_id: Uuid,
    pub purpose: String,
    pub amount_cents: i64,
    pub currency: String,
    pub status: String,
    pub provider: String,
    pub provider_txid: Option<String>,
    pub provider_url: Option<String>,
    pub kassenzeichen: String,
    pub haushaltsstelle: String,
    pub objektnummer: String,
    pub method: Option<String>,
    pub description: String,
    pub refunded_cents: i64,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The Zahlungsbestätigung in the mailbox, once posted.
    pub receipt_file_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
