use sea_orm::entity::prelude::*;

/// A citizen's account (Bürgerkonto, basic: email and password).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "citizens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Lower-cased email address (unique per tenant).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Profile data as a JSON object keyed by autocomplete tokens
    /// (`given-name`, `family-name`, `street-address`, …); prefills forms.
    pub profile: String,
    pub confirmed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    /// When the password was last reset: sessions logged in before are over.
    pub password_changed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
