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
    /// SHA-256 of the pending confirmation token.
    pub confirm_token_hash: Option<String>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
